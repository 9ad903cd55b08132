package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// programSettings is the stored form of a program's settings.
type programSettings struct {
	PointName         string                  `json:"point_name"`
	EarnRates         []loyalty.EarnRate      `json:"earn_rates"`
	Rounding          string                  `json:"rounding"`
	PointValues       []loyalty.PointValue    `json:"point_values"`
	Expiry            loyalty.ExpiryPolicy    `json:"expiry"`
	Exclusions        loyalty.Exclusions      `json:"exclusions"`
	DefaultReturnDays int                     `json:"default_return_days"`
	ReturnWindows     []loyalty.ReturnWindow  `json:"return_windows"`
	Tiering           loyalty.Tiering         `json:"tiering"`
	Referral          *loyalty.ReferralPolicy `json:"referral,omitempty"`
}

// loyaltyConfig is a tenant's program, tiers and rules as earning needs
// them. Version is the program row's version, which every change to the
// program, a tier or a rule raises: a cached config is used only while the
// version read in the same transaction still matches.
type loyaltyConfig struct {
	Program loyalty.Program
	Ladder  loyalty.Ladder
	Rules   []loyalty.Rule // not drafts, in creation order
	Version int
	needs   configNeeds
}

// configNeeds is what of a member the rules read, so that a sale reads
// nothing else.
type configNeeds struct {
	firstPurchase, customer, usage bool
	limited                        map[string]bool // rules with a limit per member: their uses are counted
	budgets                        []string        // rule ids
	events                         map[string]bool // event names that rules trigger on
}

func needsOf(rules []loyalty.Rule) configNeeds {
	var n configNeeds
	for _, r := range rules {
		c, l := r.Condition, r.Limits
		n.firstPurchase = n.firstPurchase || c.FirstPurchase
		n.customer = n.customer || c.BirthdayMonth || c.Attribute != nil
		if l.OncePerMember || l.PerMemberPerDay > 0 || l.PerMemberPerMonth > 0 {
			n.usage = true
			if n.limited == nil {
				n.limited = map[string]bool{}
			}
			n.limited[r.ID] = true
		}
		if l.Budget > 0 {
			n.budgets = append(n.budgets, r.ID)
		}
		if r.Trigger == loyalty.TriggerEvent {
			if n.events == nil {
				n.events = map[string]bool{}
			}
			n.events[c.Event] = true
		}
	}
	return n
}

type loyaltyConfigCache struct {
	mu      sync.Mutex
	configs map[string]*loyaltyConfig
}

// cachedLoyaltyConfig is the config this process loaded last for the
// tenant, nil when none; the caller must check its version against the
// program row (as loyaltyConfigFor does) before trusting it.
func (db *DB) cachedLoyaltyConfig(tenantID string) *loyaltyConfig {
	c := &db.loyaltyConfigs
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.configs[tenantID]
}

// loyaltyConfigFor returns the tenant's config, nil when it has no program.
func (db *DB) loyaltyConfigFor(ctx context.Context, q Querier, tenantID string) (*loyaltyConfig, error) {
	var version int
	err := q.QueryRow(ctx, `SELECT version FROM loyalty_programs WHERE tenant_id = $1`, tenantID).Scan(&version)
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &db.loyaltyConfigs
	c.mu.Lock()
	cfg := c.configs[tenantID]
	c.mu.Unlock()
	if cfg != nil && cfg.Version == version {
		return cfg, nil
	}
	if cfg, err = loadLoyaltyConfig(ctx, q, tenantID); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.configs == nil {
		c.configs = map[string]*loyaltyConfig{}
	}
	c.configs[tenantID] = cfg
	c.mu.Unlock()
	return cfg, nil
}

func loadLoyaltyConfig(ctx context.Context, q Querier, tenantID string) (*loyaltyConfig, error) {
	p, err := findProgram(ctx, q, tenantID)
	if err != nil {
		return nil, err
	}
	tiers, err := findTiers(ctx, q, tenantID)
	if err != nil {
		return nil, err
	}
	rules, err := findRules(ctx, q, tenantID, "status <> 'draft'")
	if err != nil {
		return nil, err
	}
	return &loyaltyConfig{Program: p, Ladder: loyalty.NewLadder(tiers), Rules: rules, Version: p.Version, needs: needsOf(rules)}, nil
}

func noProgram() error {
	return apperr.New(apperr.NotFound, "this tenant has no loyalty program yet; create it with PUT /v1/loyalty/program")
}

// FindLoyaltyProgram returns the tenant's program; NotFound when it has none.
func (db *DB) FindLoyaltyProgram(ctx context.Context, tenantID string) (loyalty.Program, error) {
	return findProgram(ctx, db.Read(), tenantID)
}

func findProgram(ctx context.Context, q Querier, tenantID string) (loyalty.Program, error) {
	p := loyalty.Program{TenantID: tenantID}
	var raw string
	err := q.QueryRow(ctx, `SELECT settings, version, created_at, updated_at FROM loyalty_programs WHERE tenant_id = $1`, tenantID).
		Scan(&raw, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, ErrNoRows) {
		return p, noProgram()
	}
	if err != nil {
		return p, err
	}
	if err := DecodeProgram([]byte(raw), &p); err != nil {
		return p, fmt.Errorf("sqldb: program settings: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// DecodeProgram reads a program's settings from their JSON form (the form
// stored, and the body of PUT /v1/loyalty/program, as in docs/examples)
// into p.
func DecodeProgram(raw []byte, p *loyalty.Program) error {
	var s programSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	p.PointName, p.EarnRates, p.Rounding, p.PointValues = s.PointName, s.EarnRates, s.Rounding, s.PointValues
	p.Expiry, p.Exclusions, p.DefaultReturnDays, p.ReturnWindows, p.Tiering = s.Expiry, s.Exclusions, s.DefaultReturnDays, s.ReturnWindows, s.Tiering
	p.Referral = s.Referral
	return nil
}

// SaveLoyaltyProgram creates or replaces the tenant's program settings.
// Points already earned keep the expiry they were given.
func (db *DB) SaveLoyaltyProgram(ctx context.Context, p loyalty.Program) (loyalty.Program, error) {
	if err := p.Validate("body"); err != nil {
		return p, err
	}
	raw, err := json.Marshal(programSettings{PointName: p.PointName, EarnRates: p.EarnRates, Rounding: p.Rounding,
		PointValues: p.PointValues, Expiry: p.Expiry, Exclusions: p.Exclusions, DefaultReturnDays: p.DefaultReturnDays,
		ReturnWindows: p.ReturnWindows, Tiering: p.Tiering, Referral: p.Referral})
	if err != nil {
		return p, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		now := tx.Now()
		_, err := tx.Exec(ctx, `INSERT INTO loyalty_programs (tenant_id, settings, version, created_at, updated_at)
			VALUES ($1, $2, 1, $3, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings,
				version = loyalty_programs.version + 1, updated_at = excluded.updated_at`, p.TenantID, string(raw), now)
		return err
	})
	if err != nil {
		return p, err
	}
	return db.FindLoyaltyProgram(ctx, p.TenantID)
}

// bumpProgram raises the config version after a change to tiers or rules.
func bumpProgram(ctx context.Context, tx *Tx, tenantID string) error {
	n, err := tx.Exec(ctx, `UPDATE loyalty_programs SET version = version + 1, updated_at = $2 WHERE tenant_id = $1`, tenantID, tx.Now())
	if err == nil && n == 0 {
		return apperr.New(apperr.Conflict, "create the loyalty program (PUT /v1/loyalty/program) before its tiers and rules")
	}
	return err
}

const tierColumns = `id, code, name, rank, threshold, multiplier, benefits, created_at, updated_at`

func findTiers(ctx context.Context, q Querier, tenantID string) ([]loyalty.Tier, error) {
	var out []loyalty.Tier
	err := queryEach(ctx, q, `SELECT `+tierColumns+` FROM loyalty_tiers WHERE tenant_id = $1 ORDER BY rank`,
		[]any{tenantID}, func(r Rows) error {
			t := loyalty.Tier{TenantID: tenantID}
			var benefits string
			if err := r.Scan(&t.ID, &t.Code, &t.Name, &t.Rank, &t.Threshold, &t.Multiplier, &benefits, &t.CreatedAt, &t.UpdatedAt); err != nil {
				return err
			}
			t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
			out = append(out, t)
			return json.Unmarshal([]byte(benefits), &out[len(out)-1].Benefits)
		})
	return out, err
}

// FindLoyaltyTiers lists the program's tiers by rank.
func (db *DB) FindLoyaltyTiers(ctx context.Context, tenantID string) ([]loyalty.Tier, error) {
	return findTiers(ctx, db.Read(), tenantID)
}

// SaveLoyaltyTier creates a tier (t.ID empty) or replaces one. The ladder
// must stay valid: one entry tier of rank 0, thresholds rising with rank.
// Members keep their tier until their next purchase or review.
func (db *DB) SaveLoyaltyTier(ctx context.Context, t loyalty.Tier) (loyalty.Tier, error) {
	if err := t.Validate("body"); err != nil {
		return t, err
	}
	benefits, err := json.Marshal(t.Benefits)
	if err != nil {
		return t, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		tiers, err := findTiers(ctx, tx, t.TenantID)
		if err != nil {
			return err
		}
		next, found := replaceTier(tiers, &t, tx.Now())
		if !found {
			return apperr.New(apperr.NotFound, "no tier with id %s", id.Format(id.Tier, t.ID))
		}
		if err := loyalty.CheckLadder(next); err != nil {
			return err
		}
		if err := bumpProgram(ctx, tx, t.TenantID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO loyalty_tiers (tenant_id, `+tierColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (tenant_id, id) DO UPDATE SET code = excluded.code, name = excluded.name, rank = excluded.rank,
				threshold = excluded.threshold, multiplier = excluded.multiplier, benefits = excluded.benefits, updated_at = excluded.updated_at`,
			t.TenantID, t.ID, t.Code, t.Name, t.Rank, t.Threshold, t.Multiplier, string(benefits), t.CreatedAt, t.UpdatedAt)
		if IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "another tier has this code or rank")
		}
		return err
	})
	return t, err
}

// replaceTier returns the ladder with t in place (created when t has no
// id yet, which it is then given).
func replaceTier(tiers []loyalty.Tier, t *loyalty.Tier, now time.Time) ([]loyalty.Tier, bool) {
	t.UpdatedAt = now
	if t.ID == "" {
		t.ID, t.CreatedAt = id.New(), now
		return append(tiers, *t), true
	}
	for i := range tiers {
		if tiers[i].ID == t.ID {
			t.CreatedAt = tiers[i].CreatedAt
			tiers[i] = *t
			return tiers, true
		}
	}
	return tiers, false
}
