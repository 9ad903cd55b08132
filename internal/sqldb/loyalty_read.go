package sqldb

import (
	"context"
	"encoding/json"
	"time"

	"github.com/omo-platform/omo/internal/loyalty"
)

// LoyaltyAccount is a member's account as the balance endpoint shows it.
type LoyaltyAccount struct {
	CustomerID     string
	Member         bool // enrolled (has had loyalty activity)
	Balances       MemberBalances
	LifetimeEarned int64
	Tier           *loyalty.Tier
	TierSince      time.Time
	NextTier       *loyalty.Tier
	GapToNext      int64 // qualifying value still needed for the next tier
	// KeepGap is the qualifying value still needed by ReviewAt to keep the
	// current tier (0 when it is kept already).
	KeepGap        int64
	ReviewAt       time.Time
	QualifyingNow  int64 // in the current window
	Basis          string
	Expiring       []loyalty.Expiring // every future expiry date, not only the next
	NextAvailable  []loyalty.Expiring // pending points by the day they become available
	ProgramVersion int
}

// FindLoyaltyAccount returns the loyalty standing of the customer an id
// resolves to.
func (db *DB) FindLoyaltyAccount(ctx context.Context, tenantID, customerID string) (*LoyaltyAccount, error) {
	p, err := db.FindCustomerByID(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	q := db.Read()
	cfg, err := db.loyaltyConfigFor(ctx, q, tenantID)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, noProgram()
	}
	m, ok, err := loadMember(ctx, q, tenantID, p.ID, false)
	if err != nil {
		return nil, err
	}
	now := db.Now()
	if !ok {
		m = newMember(cfg, p.ID, now)
	}
	a := &LoyaltyAccount{CustomerID: p.ID, Member: ok, LifetimeEarned: m.LifetimeEarned, TierSince: m.TierSince,
		ReviewAt: m.ReviewAt, Basis: cfg.Program.Tiering.Basis, ProgramVersion: cfg.Version}
	if a.Balances, err = memberBalances(ctx, q, tenantID, p.ID); err != nil {
		return nil, err
	}
	if err := a.tierProgress(ctx, q, cfg, tenantID, m, now); err != nil {
		return nil, err
	}
	return a, a.calendars(ctx, q, tenantID)
}

func (a *LoyaltyAccount) tierProgress(ctx context.Context, q Querier, cfg *loyaltyConfig, tenantID string, m memberRow, now time.Time) error {
	t, ok := cfg.Ladder.ByID(m.TierID)
	if !ok {
		if t, ok = cfg.Ladder.Entry(); !ok {
			return nil
		}
	}
	a.Tier = &t
	tg := cfg.Program.Tiering
	var err error
	if a.QualifyingNow, err = qualifyingValue(ctx, q, cfg, tenantID, m.CustomerID, tg.PeriodStart(now, m.JoinedAt), now); err != nil {
		return err
	}
	if next, ok := cfg.Ladder.Next(t); ok {
		a.NextTier, a.GapToNext = &next, max(0, next.Threshold-a.QualifyingNow)
	}
	// Keeping the tier is judged on the period that ends at the review.
	kept, err := qualifyingValue(ctx, q, cfg, tenantID, m.CustomerID, m.ReviewAt.AddDate(-1, 0, 0), m.ReviewAt)
	a.KeepGap = max(0, t.Threshold-kept)
	return err
}

func (a *LoyaltyAccount) calendars(ctx context.Context, q Querier, tenantID string) error {
	avail, err := memberLots(ctx, q, tenantID, a.CustomerID, "available")
	if err != nil {
		return err
	}
	a.Expiring = loyalty.Calendar(lots(avail))
	pend, err := memberLots(ctx, q, tenantID, a.CustomerID, "pending")
	byDay := map[time.Time]int64{}
	for _, l := range pend {
		byDay[l.AvailableAt] += l.Remaining
	}
	for d, n := range byDay {
		a.NextAvailable = append(a.NextAvailable, loyalty.Expiring{Date: d, Points: n})
	}
	sortExpiring(a.NextAvailable)
	return err
}

func sortExpiring(e []loyalty.Expiring) {
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].Date.Before(e[j-1].Date); j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

// EntryFilter pages through a member's ledger entries, newest first.
type EntryFilter struct {
	TenantID   string
	CustomerID string
	Limit      int
	BeforeID   string
}

// FindLoyaltyEntries lists the ledger entries of a member, newest first,
// with their postings.
func (db *DB) FindLoyaltyEntries(ctx context.Context, f EntryFilter) ([]loyalty.Entry, error) {
	p, err := db.FindCustomerByID(ctx, f.TenantID, f.CustomerID)
	if err != nil {
		return nil, err
	}
	before := f.BeforeID
	if before == "" {
		before = "~"
	}
	q := db.Read()
	var out []loyalty.Entry
	err = queryEach(ctx, q, `SELECT id, kind, customer_id, natural_key, COALESCE(transaction_id, ''), reason, actor, details, occurred_at, created_at
		FROM loyalty_entries WHERE tenant_id = $1 AND customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2) AND id < $3 ORDER BY id DESC LIMIT $4`,
		[]any{f.TenantID, p.ID, before, f.Limit}, func(r Rows) error {
			e := loyalty.Entry{TenantID: f.TenantID}
			var details string
			if err := r.Scan(&e.ID, &e.Kind, &e.CustomerID, &e.NaturalKey, &e.TransactionID, &e.Reason, &e.Actor, &details, &e.OccurredAt, &e.CreatedAt); err != nil {
				return err
			}
			e.OccurredAt, e.CreatedAt = e.OccurredAt.UTC(), e.CreatedAt.UTC()
			if details != "" {
				if err := json.Unmarshal([]byte(details), &e.Awards); err != nil {
					return err
				}
			}
			out = append(out, e)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, entryPostings(ctx, q, db.Engine(), f.TenantID, out)
}

// entryPostings reads the postings of a page of entries in one query.
func entryPostings(ctx context.Context, q Querier, engine Engine, tenantID string, entries []loyalty.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	at := make(map[string]int, len(entries))
	args := []any{tenantID}
	for i, e := range entries {
		at[e.ID] = i
		args = append(args, e.ID)
	}
	return queryEach(ctx, q, `SELECT entry_id, account_kind, account_owner, points FROM loyalty_postings
		WHERE tenant_id = $1 AND entry_id IN (`+inList(engine, 2, len(entries))+`) ORDER BY entry_id, seq`, args, func(r Rows) error {
		var entryID string
		var p loyalty.Posting
		if err := r.Scan(&entryID, &p.Account.Kind, &p.Account.Owner, &p.Points); err != nil {
			return err
		}
		e := &entries[at[entryID]]
		e.Postings = append(e.Postings, p)
		return nil
	})
}
