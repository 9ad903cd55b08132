package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/money"
)

// Reward kinds.
const (
	RewardFixedDiscount   = "fixed_discount"   // Amount off, in Currency
	RewardPercentDiscount = "percent_discount" // PercentBP basis points off
	RewardFreeShipping    = "free_shipping"
	RewardGift            = "gift" // the product SKU, free
	RewardProduct         = "product"
	RewardGiftCredit      = "gift_credit" // stored value of Amount in Currency
	RewardExperience      = "experience"
	RewardEntitlement     = "entitlement"
)

// RewardKinds lists the kinds a reward may have.
var RewardKinds = []string{RewardFixedDiscount, RewardPercentDiscount, RewardFreeShipping, RewardGift, RewardProduct,
	RewardGiftCredit, RewardExperience, RewardEntitlement}

// Quota periods.
var QuotaPeriods = []string{"day", "week", "month"}

// RewardQuota caps the redemptions of a reward at one location per period.
type RewardQuota struct {
	Location string `json:"location"`
	Period   string `json:"period"`
	Limit    int64  `json:"limit"`
}

// RewardEligibility restricts who may redeem a reward and where; an empty
// list allows all.
type RewardEligibility struct {
	Tiers         []string `json:"tiers,omitempty"`
	SalesChannels []string `json:"sales_channels,omitempty"`
	Locations     []string `json:"locations,omitempty"`
}

// Reward is an item of the catalog, bought with points.
type Reward struct {
	TenantID, ID   string
	Name           string
	Kind           string
	Status         string // active, paused, archived
	Cost           int64  // points
	Amount         int64  // minor units: fixed_discount, gift_credit
	Currency       string
	PercentBP      int64  // percent_discount, 1..10000
	SKU            string // gift, product
	Description    string
	Eligibility    RewardEligibility
	Stock          *int64 // nil: unlimited
	Redeemed       int64  // live redemptions (cancelled ones are given back)
	StartsAt       *time.Time
	EndsAt         *time.Time
	CouponDays     int    // how long an issued coupon is valid
	CouponPrefix   string // printed before every code of this reward
	PerMemberLimit int64  // live redemptions per member; 0: no limit
	Quotas         []RewardQuota
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// rewardSettings is what the settings column holds.
type rewardSettings struct {
	Amount      int64             `json:"amount,omitempty"`
	Currency    string            `json:"currency,omitempty"`
	PercentBP   int64             `json:"percent_bp,omitempty"`
	SKU         string            `json:"sku,omitempty"`
	Description string            `json:"description,omitempty"`
	Eligibility RewardEligibility `json:"eligibility"`
	Quotas      []RewardQuota     `json:"quotas,omitempty"`
}

// Validate reports every problem of a reward as field errors under prefix
// ("body").
func (r *Reward) Validate(prefix string) error {
	var fs []apperr.FieldError
	bad := func(field, msg string, v any) {
		fs = append(fs, apperr.FieldError{Location: prefix + "." + field, Message: msg, Value: v})
	}
	if n := len(strings.TrimSpace(r.Name)); n == 0 || n > 200 {
		bad("name", "1 to 200 characters", r.Name)
	}
	if !slices.Contains(RewardKinds, r.Kind) {
		bad("kind", "one of "+strings.Join(RewardKinds, ", "), r.Kind)
	}
	if !slices.Contains([]string{"active", "paused", "archived"}, r.Status) {
		bad("status", "active, paused or archived", r.Status)
	}
	if r.Cost <= 0 || r.Cost > 1_000_000_000_000 {
		bad("cost", "a positive number of points", r.Cost)
	}
	r.validateKind(bad)
	if r.Stock != nil && *r.Stock < 0 {
		bad("stock", "zero or more; leave out for unlimited", *r.Stock)
	}
	if r.StartsAt != nil && r.EndsAt != nil && !r.EndsAt.After(*r.StartsAt) {
		bad("ends_at", "after starts_at", r.EndsAt)
	}
	if r.CouponDays < 1 || r.CouponDays > 3660 {
		bad("coupon_valid_days", "1 to 3660 days", r.CouponDays)
	}
	if r.CouponPrefix != "" {
		if err := (coupon.Spec{Prefix: r.CouponPrefix}).Validate(); err != nil {
			bad("coupon_prefix", fmt.Sprintf("1 to %d upper-case letters or digits", coupon.MaxPrefixLen), r.CouponPrefix)
		}
	}
	if r.PerMemberLimit < 0 {
		bad("per_member_limit", "zero (no limit) or more", r.PerMemberLimit)
	}
	seen := map[[2]string]bool{}
	for i, q := range r.Quotas {
		k := [2]string{q.Location, q.Period}
		switch {
		case q.Location == "" || len(q.Location) > 100:
			bad(fmt.Sprintf("quotas[%d].location", i), "a location code", q.Location)
		case !slices.Contains(QuotaPeriods, q.Period):
			bad(fmt.Sprintf("quotas[%d].period", i), "day, week or month", q.Period)
		case q.Limit < 1:
			bad(fmt.Sprintf("quotas[%d].limit", i), "1 or more; pause the reward to stop redemptions", q.Limit)
		case seen[k]:
			bad(fmt.Sprintf("quotas[%d]", i), "a second quota for the same location and period", q.Location)
		}
		seen[k] = true
	}
	if len(fs) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the reward is not valid", Fields: fs}
	}
	return nil
}

func (r *Reward) validateKind(bad func(field, msg string, v any)) {
	switch r.Kind {
	case RewardFixedDiscount, RewardGiftCredit:
		if r.Amount <= 0 {
			bad("value.amount", "a positive amount in minor units", r.Amount)
		}
		if c, ok := money.NormalizeCurrency(r.Currency); ok {
			r.Currency = c
		} else {
			bad("value.currency", "an ISO 4217 currency code", r.Currency)
		}
	case RewardPercentDiscount:
		if r.PercentBP < 1 || r.PercentBP > 10000 {
			bad("percent_bp", "1 to 10000 basis points (100 = 1%)", r.PercentBP)
		}
	case RewardGift, RewardProduct:
		if r.SKU == "" || len(r.SKU) > 100 {
			bad("sku", "the product's SKU", r.SKU)
		}
	}
}

const rewardColumns = `tenant_id, id, name, kind, status, cost, settings, stock, redeemed, starts_at, ends_at, coupon_days, coupon_prefix,
	per_member_limit, created_at, updated_at`

func scanReward(r Row) (Reward, error) {
	var w Reward
	var settings string
	err := r.Scan(&w.TenantID, &w.ID, &w.Name, &w.Kind, &w.Status, &w.Cost, &settings, &w.Stock, &w.Redeemed, &w.StartsAt, &w.EndsAt,
		&w.CouponDays, &w.CouponPrefix, &w.PerMemberLimit, &w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return w, err
	}
	var s rewardSettings
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return w, err
	}
	w.Amount, w.Currency, w.PercentBP, w.SKU, w.Description = s.Amount, s.Currency, s.PercentBP, s.SKU, s.Description
	w.Eligibility, w.Quotas = s.Eligibility, s.Quotas
	w.StartsAt, w.EndsAt, w.CreatedAt, w.UpdatedAt = utcPtr(w.StartsAt), utcPtr(w.EndsAt), w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}

func (r *Reward) settingsJSON() (string, error) {
	b, err := json.Marshal(rewardSettings{Amount: r.Amount, Currency: r.Currency, PercentBP: r.PercentBP, SKU: r.SKU,
		Description: r.Description, Eligibility: r.Eligibility, Quotas: r.Quotas})
	return string(b), err
}

// CreateReward adds a reward to the catalog. Invalid for a bad reward.
func (db *DB) CreateReward(ctx context.Context, r Reward) (Reward, error) {
	if r.Status == "" {
		r.Status = "active"
	}
	if err := r.Validate("body"); err != nil {
		return r, err
	}
	r.ID, r.Redeemed = id.New(), 0
	r.CreatedAt, r.UpdatedAt = db.Now(), db.Now()
	settings, err := r.settingsJSON()
	if err != nil {
		return r, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO loyalty_rewards (`+rewardColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			r.TenantID, r.ID, r.Name, r.Kind, r.Status, r.Cost, settings, r.Stock, r.Redeemed, utcPtr(r.StartsAt), utcPtr(r.EndsAt),
			r.CouponDays, r.CouponPrefix, r.PerMemberLimit, r.CreatedAt, r.UpdatedAt)
		return err
	})
	return r, err
}

// FindRewardByID returns a reward of the tenant, or NotFound.
func (db *DB) FindRewardByID(ctx context.Context, tenantID, rewardID string) (Reward, error) {
	return findReward(ctx, db.Read(), tenantID, rewardID, false)
}

func findReward(ctx context.Context, q Querier, tenantID, rewardID string, lock bool) (Reward, error) {
	suffix := ""
	if lock {
		suffix = lockClause(q)
	}
	r, err := scanReward(q.QueryRow(ctx, `SELECT `+rewardColumns+` FROM loyalty_rewards WHERE tenant_id = $1 AND id = $2`+suffix, tenantID, rewardID))
	if errors.Is(err, ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "no reward with id %s", id.Format(id.Reward, rewardID))
	}
	return r, err
}

// RewardFilter pages through a tenant's rewards in id order.
type RewardFilter struct {
	TenantID string
	Status   string // "" for all
	Limit    int
	After    string
}

// FindRewards lists rewards.
func (db *DB) FindRewards(ctx context.Context, f RewardFilter) ([]Reward, error) {
	return findRewards(ctx, db.Read(), f)
}

func findRewards(ctx context.Context, q Querier, f RewardFilter) ([]Reward, error) {
	var out []Reward
	err := queryEach(ctx, q, `SELECT `+rewardColumns+` FROM loyalty_rewards WHERE tenant_id = $1 AND id > $2
		AND ($3 = '' OR status = $3) ORDER BY id LIMIT $4`, []any{f.TenantID, f.After, f.Status, f.Limit}, func(r Rows) error {
		w, err := scanReward(r)
		out = append(out, w)
		return err
	})
	return out, err
}

// UpdateReward changes a reward with edit and validates the result. A
// stock below what is already redeemed is Invalid.
func (db *DB) UpdateReward(ctx context.Context, tenantID, rewardID string, edit func(*Reward)) (Reward, error) {
	var r Reward
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if r, err = findReward(ctx, tx, tenantID, rewardID, true); err != nil {
			return err
		}
		edit(&r)
		r.TenantID, r.ID = tenantID, rewardID
		if err := r.Validate("body"); err != nil {
			return err
		}
		if r.Stock != nil && *r.Stock < r.Redeemed {
			return apperr.Field("body.stock", fmt.Sprintf("%d are redeemed already: stock cannot be lower", r.Redeemed), *r.Stock)
		}
		r.UpdatedAt = tx.Now()
		settings, err := r.settingsJSON()
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE loyalty_rewards SET name = $3, kind = $4, status = $5, cost = $6, settings = $7, stock = $8,
			starts_at = $9, ends_at = $10, coupon_days = $11, coupon_prefix = $12, per_member_limit = $13, updated_at = $14
			WHERE tenant_id = $1 AND id = $2`, tenantID, rewardID, r.Name, r.Kind, r.Status, r.Cost, settings, r.Stock,
			utcPtr(r.StartsAt), utcPtr(r.EndsAt), r.CouponDays, r.CouponPrefix, r.PerMemberLimit, r.UpdatedAt)
		if isCheckViolation(err) {
			return apperr.Field("body.stock", "lower than what is redeemed already", r.Stock)
		}
		return err
	})
	return r, err
}

// quotaPeriod is the counter key of a quota period containing local.
func quotaPeriod(period string, local time.Time) string {
	switch period {
	case "day":
		return "d:" + local.Format("2006-01-02")
	case "week":
		y, w := local.ISOWeek()
		return fmt.Sprintf("w:%04d-W%02d", y, w)
	}
	return "m:" + local.Format("2006-01")
}

// eligible says why a member may not redeem a reward at a place and time,
// or "" when it may.
func (r *Reward) eligible(tierCode, channel, location string, now time.Time) string {
	switch {
	case r.Status != "active":
		return "the reward is " + r.Status
	case r.StartsAt != nil && now.Before(*r.StartsAt):
		return "the reward is not available before " + r.StartsAt.Format(time.RFC3339)
	case r.EndsAt != nil && !now.Before(*r.EndsAt):
		return "the reward ended at " + r.EndsAt.Format(time.RFC3339)
	case len(r.Eligibility.Tiers) > 0 && !slices.Contains(r.Eligibility.Tiers, tierCode):
		return fmt.Sprintf("the reward is for tiers %s; the member is in %q", strings.Join(r.Eligibility.Tiers, ", "), tierCode)
	case len(r.Eligibility.SalesChannels) > 0 && !slices.Contains(r.Eligibility.SalesChannels, channel):
		return fmt.Sprintf("the reward cannot be redeemed in sales channel %q", channel)
	case len(r.Eligibility.Locations) > 0 && !slices.Contains(r.Eligibility.Locations, location):
		return fmt.Sprintf("the reward cannot be redeemed at location %q", location)
	}
	return ""
}
