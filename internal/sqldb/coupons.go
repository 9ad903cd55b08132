package sqldb

import (
	"context"
	crand "crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/id"
)

// Coupon is a code that gives a reward at a till or checkout.
type Coupon struct {
	TenantID, ID   string
	Code           string // canonical form
	RewardID       string // "" for a batch without a reward
	BatchID        string
	RedemptionID   string
	CustomerID     string // the member it was issued to, if any
	Status         string // active, void
	MaxUses        int64
	Uses           int64
	PerMemberLimit int64 // uses per customer; 0: no limit
	ValidFrom      time.Time
	ValidUntil     *time.Time
	CreatedAt      time.Time
}

// State is what a till needs to know: active, used, expired, scheduled
// (not valid yet) or void.
func (c Coupon) State(now time.Time) string {
	switch {
	case c.Status == "void":
		return "void"
	case c.Uses >= c.MaxUses:
		return "used"
	case c.ValidUntil != nil && !now.Before(*c.ValidUntil):
		return "expired"
	case now.Before(c.ValidFrom):
		return "scheduled"
	}
	return "active"
}

const couponColumns = `tenant_id, id, code, reward_id, batch_id, redemption_id, customer_id, status, max_uses, uses, per_member_limit,
	valid_from, valid_until, created_at`

const couponColumnsC = `c.tenant_id, c.id, c.code, c.reward_id, c.batch_id, c.redemption_id, c.customer_id, c.status, c.max_uses, c.uses,
	c.per_member_limit, c.valid_from, c.valid_until, c.created_at`

func (c *Coupon) dest() []any {
	return []any{&c.TenantID, &c.ID, &c.Code, &c.RewardID, &c.BatchID, &c.RedemptionID, &c.CustomerID, &c.Status, &c.MaxUses, &c.Uses,
		&c.PerMemberLimit, &c.ValidFrom, &c.ValidUntil, &c.CreatedAt}
}

func (c *Coupon) utc() {
	c.ValidFrom, c.ValidUntil, c.CreatedAt = c.ValidFrom.UTC(), utcPtr(c.ValidUntil), c.CreatedAt.UTC()
}

// CouponLookup is the form a code is matched on: upper case, without
// spaces and hyphens. It does not validate: an unknown code simply matches
// nothing (and counts as a guess).
func CouponLookup(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == ' ' || r == '-':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// issueCoupon draws a code for c and stores it, drawing again on the
// (astronomically rare) collision with a code of the tenant.
func issueCoupon(ctx context.Context, tx *Tx, c *Coupon, spec coupon.Spec) error {
	for range 5 {
		code, err := coupon.Generate(crand.Reader, spec)
		if err != nil {
			return err
		}
		c.Code = code
		n, err := tx.Exec(ctx, `INSERT INTO coupons (`+couponColumns+`, lookup) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (tenant_id, lookup) DO NOTHING`, c.TenantID, c.ID, c.Code, c.RewardID, c.BatchID, c.RedemptionID, c.CustomerID, c.Status,
			c.MaxUses, c.Uses, c.PerMemberLimit, c.ValidFrom, utcPtr(c.ValidUntil), c.CreatedAt, CouponLookup(code))
		if err != nil || n == 1 {
			return err
		}
	}
	return errors.New("sqldb: five coupon codes in a row collided")
}

// FindCouponByCode returns a coupon by its code in any spelling Normalize
// accepts, or NotFound.
func (db *DB) FindCouponByCode(ctx context.Context, tenantID, code string) (Coupon, error) {
	return findCoupon(ctx, db.Read(), tenantID, code, false)
}

func findCoupon(ctx context.Context, q Querier, tenantID, code string, lock bool) (Coupon, error) {
	suffix := ""
	if lock {
		suffix = lockClause(q)
	}
	var c Coupon
	err := q.QueryRow(ctx, `SELECT `+couponColumns+` FROM coupons WHERE tenant_id = $1 AND lookup = $2`+suffix, tenantID, CouponLookup(code)).Scan(c.dest()...)
	if errors.Is(err, ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "no coupon with this code")
	}
	c.utc()
	return c, err
}

// CouponUseParams is a coupon presented at a till or checkout.
type CouponUseParams struct {
	TenantID         string
	Code             string
	Reference        string // order or receipt: the same reference again applies once
	CustomerID       string // optional: who presents it
	LocationCode     string
	SalesChannelCode string
	Actor
}

// CouponUse is one use of a coupon.
type CouponUse struct {
	Coupon           Coupon
	UseNo            int64
	Reference        string
	CustomerID       string
	LocationCode     string
	SalesChannelCode string
	UsedAt           time.Time
	Created          bool
}

// RedeemCoupon uses a coupon once. The use is counted by a conditional
// UPDATE (uses < max_uses) on the coupon's row, so however many tills
// present a single-use code at once, exactly one succeeds. NotFound for an
// unknown code; Conflict when it is used up, void, expired, not valid yet,
// not valid at this place, issued to another customer, or over its limit
// per customer.
func (db *DB) RedeemCoupon(ctx context.Context, p CouponUseParams) (*CouponUse, error) {
	if p.Reference == "" {
		p.Reference = id.New()
	}
	if p.CustomerID != "" {
		prof, err := db.FindCustomerByID(ctx, p.TenantID, p.CustomerID)
		if err != nil {
			return nil, apperr.Field("body.customer_id", err.Error(), p.CustomerID)
		}
		p.CustomerID = prof.ID
	}
	out := &CouponUse{}
	err := db.WriteTx(ctx, func(tx *Tx) error {
		*out = CouponUse{}
		return useCoupon(ctx, tx, p, out)
	})
	return out, err
}

func useCoupon(ctx context.Context, tx *Tx, p CouponUseParams, out *CouponUse) error {
	c, err := findCoupon(ctx, tx, p.TenantID, p.Code, false)
	if err != nil {
		return err
	}
	out.Coupon = c
	err = tx.QueryRow(ctx, `SELECT use_no, reference, customer_id, location_code, sales_channel_code, used_at FROM coupon_uses
		WHERE tenant_id = $1 AND coupon_id = $2 AND reference = $3`, p.TenantID, c.ID, p.Reference).Scan(&out.UseNo, &out.Reference,
		&out.CustomerID, &out.LocationCode, &out.SalesChannelCode, &out.UsedAt)
	if err == nil {
		out.UsedAt = out.UsedAt.UTC()
		return nil
	}
	if !errors.Is(err, ErrNoRows) {
		return err
	}
	now := tx.Now()
	if err := couponUsable(ctx, tx, c, p, now); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `UPDATE coupons SET uses = uses + 1 WHERE tenant_id = $1 AND id = $2 AND uses < max_uses AND status = 'active'
		RETURNING uses`, p.TenantID, c.ID).Scan(&out.UseNo); errors.Is(err, ErrNoRows) {
		return apperr.New(apperr.Conflict, "the coupon is used up: it had %d use(s)", c.MaxUses)
	} else if err != nil {
		return err
	}
	if p.CustomerID != "" && c.PerMemberLimit > 0 {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM coupon_uses WHERE tenant_id = $1 AND coupon_id = $2 AND customer_id = $3`,
			p.TenantID, c.ID, p.CustomerID).Scan(&n); err != nil {
			return err
		}
		if n >= c.PerMemberLimit {
			return apperr.New(apperr.Conflict, "the customer has used this coupon %d time(s), its limit per customer", n)
		}
	}
	out.Coupon.Uses = out.UseNo
	out.Reference, out.CustomerID, out.LocationCode, out.SalesChannelCode, out.UsedAt, out.Created =
		p.Reference, p.CustomerID, p.LocationCode, p.SalesChannelCode, now, true
	_, err = tx.Exec(ctx, `INSERT INTO coupon_uses (tenant_id, coupon_id, use_no, reference, customer_id, location_code, sales_channel_code,
		actor, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.TenantID, c.ID, out.UseNo, p.Reference, p.CustomerID,
		p.LocationCode, p.SalesChannelCode, p.Actor.Actor, now)
	return err
}

// couponUsable checks what does not change under concurrent uses: status,
// validity, the reward's places and the customer the coupon was issued to.
func couponUsable(ctx context.Context, tx *Tx, c Coupon, p CouponUseParams, now time.Time) error {
	switch st := c.State(now); st {
	case "active":
	case "scheduled":
		return apperr.New(apperr.Conflict, "the coupon is valid from %s", c.ValidFrom.Format(time.RFC3339))
	case "expired":
		return apperr.New(apperr.Conflict, "the coupon expired at %s", c.ValidUntil.Format(time.RFC3339))
	case "used":
		return apperr.New(apperr.Conflict, "the coupon is used up: it had %d use(s)", c.MaxUses)
	default:
		return apperr.New(apperr.Conflict, "the coupon is %s", st)
	}
	if c.CustomerID != "" && p.CustomerID != "" {
		var survivor string
		if err := tx.QueryRow(ctx, `SELECT survivor_id FROM customers WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.CustomerID).Scan(&survivor); err != nil {
			return err
		}
		if survivor != p.CustomerID {
			return apperr.New(apperr.Conflict, "the coupon was issued to another customer")
		}
	}
	if c.RewardID == "" {
		return nil
	}
	w, err := findReward(ctx, tx, c.TenantID, c.RewardID, false)
	if err != nil {
		return err
	}
	e := w.Eligibility
	if len(e.SalesChannels) > 0 && !contains(e.SalesChannels, p.SalesChannelCode) {
		return apperr.New(apperr.Conflict, "the coupon cannot be used in sales channel %q", p.SalesChannelCode)
	}
	if len(e.Locations) > 0 && !contains(e.Locations, p.LocationCode) {
		return apperr.New(apperr.Conflict, "the coupon cannot be used at location %q", p.LocationCode)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// couponChecks are the coupon invariants, appended to loyaltyChecks.
var couponChecks = []struct{ name, query string }{
	{"coupon uses within max uses", `SELECT tenant_id, id, CAST(uses AS TEXT) || ' of ' || CAST(max_uses AS TEXT) FROM coupons
		WHERE ($1 = '' OR tenant_id = $1) AND (uses < 0 OR uses > max_uses)`},
	{"coupon uses recorded", `SELECT c.tenant_id, c.id, CAST(c.uses AS TEXT) || ' counted, ' || CAST((SELECT COUNT(*) FROM coupon_uses u
			WHERE u.tenant_id = c.tenant_id AND u.coupon_id = c.id) AS TEXT) || ' recorded'
		FROM coupons c WHERE ($1 = '' OR c.tenant_id = $1) AND c.uses <> (SELECT COUNT(*) FROM coupon_uses u
			WHERE u.tenant_id = c.tenant_id AND u.coupon_id = c.id)`},
	{"reward stock within limits", `SELECT w.tenant_id, w.id, CAST(w.redeemed AS TEXT) || ' redeemed, stock ' || COALESCE(CAST(w.stock AS TEXT), 'unlimited')
		FROM loyalty_rewards w WHERE ($1 = '' OR w.tenant_id = $1) AND (w.redeemed < 0 OR (w.stock IS NOT NULL AND w.redeemed > w.stock))`},
	{"reward redeemed counts live redemptions", `SELECT w.tenant_id, w.id, CAST(w.redeemed AS TEXT) || ' counted, ' ||
			CAST((SELECT COUNT(*) FROM loyalty_redemptions r WHERE r.tenant_id = w.tenant_id AND r.reward_id = w.id AND r.status = 'issued') AS TEXT)
		FROM loyalty_rewards w WHERE ($1 = '' OR w.tenant_id = $1) AND w.redeemed <> (SELECT COUNT(*) FROM loyalty_redemptions r
			WHERE r.tenant_id = w.tenant_id AND r.reward_id = w.id AND r.status = 'issued')`},
	{"quota counters within limits", `SELECT tenant_id, reward_id || ' ' || location_code || ' ' || period, CAST(used AS TEXT) || ' of ' || CAST(quota AS TEXT)
		FROM loyalty_reward_quota_usage WHERE ($1 = '' OR tenant_id = $1) AND (used < 0 OR used > quota)`},
	{"redemptions match their entries", `SELECT r.tenant_id, r.id, r.status FROM loyalty_redemptions r WHERE ($1 = '' OR r.tenant_id = $1) AND (
			NOT EXISTS (SELECT 1 FROM loyalty_entries e WHERE e.tenant_id = r.tenant_id AND e.id = r.entry_id AND e.kind = 'redeem')
			OR (r.status = 'cancelled') <> EXISTS (SELECT 1 FROM loyalty_entries e WHERE e.tenant_id = r.tenant_id AND e.id = r.restore_entry_id
				AND e.kind = 'restore')
			OR NOT EXISTS (SELECT 1 FROM coupons c WHERE c.tenant_id = r.tenant_id AND c.id = r.coupon_id
				AND (r.status = 'issued' OR (c.status = 'void' AND c.uses = 0))))`},
}

func init() {
	loyaltyChecks = append(loyaltyChecks, couponChecks...)
}
