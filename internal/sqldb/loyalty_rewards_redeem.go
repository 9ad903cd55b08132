package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/loyalty"
)

// Redemption is points spent on a reward and the coupon it issued.
type Redemption struct {
	TenantID, ID     string
	Reference        string // unique per tenant: a retry applies once
	CustomerID       string
	RewardID         string
	Status           string // issued, cancelled
	Points           int64
	LocationCode     string
	SalesChannelCode string
	EntryID          string
	RestoreEntryID   string
	Coupon           Coupon
	Actor            string
	CreatedAt        time.Time
	CancelledAt      *time.Time
	quotaPeriods     string
}

// RedeemParams asks to spend a member's points on a reward.
type RedeemParams struct {
	TenantID         string
	CustomerID       string
	RewardID         string
	LocationCode     string // optional: where; quotas apply per location
	SalesChannelCode string
	Reference        string // optional natural key
	Actor
}

// RedeemResult is the redemption and the member's balances after it.
type RedeemResult struct {
	Redemption Redemption
	Created    bool
	Balances   MemberBalances
}

// RedeemReward spends the reward's cost from the member's lots that expire
// first and issues a single-use coupon, in one transaction under the
// member's row lock. The reward's stock and the location's quota for the
// current period are taken by conditional UPDATEs, so concurrent
// redemptions never exceed them. Conflict when the member is not eligible,
// has too few points, or the reward is out of stock or over quota;
// NotFound for an unknown customer or reward; Invalid for an unknown
// location or sales channel.
func (db *DB) RedeemReward(ctx context.Context, p RedeemParams) (*RedeemResult, error) {
	prof, err := db.FindCustomerByID(ctx, p.TenantID, p.CustomerID)
	if err != nil {
		return nil, err
	}
	p.CustomerID = prof.ID
	loc := time.UTC
	if p.LocationCode != "" {
		l, err := findLocation(ctx, db.Read(), p.TenantID, "code", p.LocationCode)
		if err != nil {
			return nil, apperr.Field("body.location", err.Error(), p.LocationCode)
		}
		if loc, err = location.Zone(l.TimeZone); err != nil {
			loc = time.UTC
		}
	}
	if _, err := findChannel(ctx, db.Read(), p.TenantID, "code", p.SalesChannelCode); err != nil {
		return nil, apperr.Field("body.sales_channel", err.Error(), p.SalesChannelCode)
	}
	if p.Reference == "" {
		p.Reference = id.New()
	}
	res := &RedeemResult{}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		*res = RedeemResult{}
		return redeem(ctx, tx, p, loc, res)
	})
	return res, err
}

func redeem(ctx context.Context, tx *Tx, p RedeemParams, loc *time.Location, res *RedeemResult) error {
	if r, err := findRedemption(ctx, tx, p.TenantID, "reference", p.Reference, false); err == nil {
		if r.CustomerID != p.CustomerID || r.RewardID != p.RewardID {
			return apperr.New(apperr.Conflict, "reference %q was used by another redemption (%s)", p.Reference, id.Format(id.Redemption, r.ID))
		}
		res.Redemption = r
		res.Balances, err = memberBalances(ctx, tx, p.TenantID, r.CustomerID)
		return err
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, p.TenantID)
	if err != nil {
		return err
	}
	if cfg == nil {
		return apperr.New(apperr.Conflict, "this tenant has no loyalty program yet; create it with PUT /v1/loyalty/program")
	}
	now := tx.Now()
	m, err := ensureMember(ctx, tx, cfg, p.TenantID, p.CustomerID, now)
	if err != nil {
		return err
	}
	w, err := findReward(ctx, tx, p.TenantID, p.RewardID, false)
	if err != nil {
		return err
	}
	tierCode := ""
	if t, ok := cfg.Ladder.ByID(m.TierID); ok {
		tierCode = t.Code
	}
	if why := w.eligible(tierCode, p.SalesChannelCode, p.LocationCode, now); why != "" {
		return apperr.New(apperr.Conflict, "%s", why)
	}
	if err := checkMemberLimit(ctx, tx, w, p.CustomerID); err != nil {
		return err
	}
	r := Redemption{TenantID: p.TenantID, ID: id.New(), Reference: p.Reference, CustomerID: p.CustomerID, RewardID: w.ID,
		Status: "issued", Points: w.Cost, LocationCode: p.LocationCode, SalesChannelCode: p.SalesChannelCode, Actor: p.Actor.Actor, CreatedAt: now}
	if err := spendPoints(ctx, tx, &r, w.Name); err != nil {
		return err
	}
	if err := takeStock(ctx, tx, w); err != nil {
		return err
	}
	if r.quotaPeriods, err = takeQuotas(ctx, tx, w, p.LocationCode, now.In(loc)); err != nil {
		return err
	}
	until := now.AddDate(0, 0, w.CouponDays)
	r.Coupon = Coupon{TenantID: p.TenantID, ID: id.New(), RewardID: w.ID, RedemptionID: r.ID, CustomerID: p.CustomerID, Status: "active",
		MaxUses: 1, PerMemberLimit: 1, ValidFrom: now, ValidUntil: &until, CreatedAt: now}
	if err := issueCoupon(ctx, tx, &r.Coupon, coupon.Spec{Prefix: w.CouponPrefix}); err != nil {
		return err
	}
	if err := insertRedemption(ctx, tx, r); err != nil {
		return err
	}
	res.Redemption, res.Created = r, true
	res.Balances, err = memberBalances(ctx, tx, p.TenantID, p.CustomerID)
	return err
}

func checkMemberLimit(ctx context.Context, tx *Tx, w Reward, customerID string) error {
	if w.PerMemberLimit == 0 {
		return nil
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM loyalty_redemptions WHERE tenant_id = $1 AND customer_id = $2 AND reward_id = $3
		AND status = 'issued'`, w.TenantID, customerID, w.ID).Scan(&n); err != nil {
		return err
	}
	if n >= w.PerMemberLimit {
		return apperr.New(apperr.Conflict, "the member has redeemed this reward %d times, its limit per member", n)
	}
	return nil
}

// spendPoints posts the redeem entry and takes its points from the lots
// that expire first.
func spendPoints(ctx context.Context, tx *Tx, r *Redemption, rewardName string) error {
	avail, err := memberLots(ctx, tx, r.TenantID, r.CustomerID, "available")
	if err != nil {
		return err
	}
	takes, short := loyalty.Consume(lots(avail), r.Points)
	if short > 0 {
		return apperr.New(apperr.Conflict, "not enough points: the member has %d points available and the reward costs %d", r.Points-short, r.Points)
	}
	r.EntryID = id.New()
	if _, err := postEntry(ctx, tx, loyalty.Entry{TenantID: r.TenantID, ID: r.EntryID, Kind: loyalty.EntryRedeem, CustomerID: r.CustomerID,
		NaturalKey: "redeem:" + r.ID, Reason: "redeemed " + rewardName, Actor: r.Actor, OccurredAt: r.CreatedAt,
		Postings: []loyalty.Posting{{Account: member(loyalty.AccountAvailable, r.CustomerID), Points: -r.Points},
			{Account: loyalty.Account{Kind: loyalty.AccountRedeemed}, Points: r.Points}}}); err != nil {
		return err
	}
	return takeLots(ctx, tx, r.TenantID, r.EntryID, takes)
}

// takeStock counts one more redemption, unless the stock is gone. The
// condition is evaluated on the locked row, so on PostgreSQL a concurrent
// redemption waits and then sees the new count.
func takeStock(ctx context.Context, tx *Tx, w Reward) error {
	n, err := tx.Exec(ctx, `UPDATE loyalty_rewards SET redeemed = redeemed + 1 WHERE tenant_id = $1 AND id = $2
		AND (stock IS NULL OR redeemed < stock)`, w.TenantID, w.ID)
	if err == nil && n == 0 {
		return apperr.New(apperr.Conflict, "out of stock: all %d of this reward are redeemed", derefOr(w.Stock))
	}
	return err
}

func derefOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// takeQuotas counts the redemption against each quota of the location and
// returns the counters taken ("LOC|m:2026-11" lines) for a cancellation.
func takeQuotas(ctx context.Context, tx *Tx, w Reward, location string, local time.Time) (string, error) {
	var taken []string
	for _, q := range w.Quotas {
		if q.Location != location {
			continue
		}
		period := quotaPeriod(q.Period, local)
		n, err := tx.Exec(ctx, `INSERT INTO loyalty_reward_quota_usage (tenant_id, reward_id, location_code, period, quota, used)
			VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (tenant_id, reward_id, location_code, period)
			DO UPDATE SET used = loyalty_reward_quota_usage.used + 1, quota = excluded.quota
			WHERE loyalty_reward_quota_usage.used < excluded.quota`, w.TenantID, w.ID, location, period, q.Limit)
		if err != nil {
			return "", err
		}
		if n == 0 {
			return "", apperr.New(apperr.Conflict, "quota reached: %d per %s at location %s are redeemed", q.Limit, q.Period, location)
		}
		taken = append(taken, location+"|"+period)
	}
	return strings.Join(taken, "\n"), nil
}

const redemptionColumns = `r.tenant_id, r.id, r.reference, r.customer_id, r.reward_id, r.status, r.points, r.location_code, r.sales_channel_code,
	r.quota_periods, r.entry_id, r.restore_entry_id, r.actor, r.created_at, r.cancelled_at, ` + couponColumnsC

func insertRedemption(ctx context.Context, tx *Tx, r Redemption) error {
	_, err := tx.Exec(ctx, `INSERT INTO loyalty_redemptions (tenant_id, id, reference, customer_id, reward_id, status, points, location_code,
		sales_channel_code, quota_periods, entry_id, restore_entry_id, coupon_id, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
		$10, $11, $12, $13, $14, $15)`, r.TenantID, r.ID, r.Reference, r.CustomerID, r.RewardID, r.Status, r.Points, r.LocationCode,
		r.SalesChannelCode, r.quotaPeriods, r.EntryID, r.RestoreEntryID, r.Coupon.ID, r.Actor, r.CreatedAt)
	return err
}

func scanRedemption(row Row) (Redemption, error) {
	var r Redemption
	dest := append([]any{&r.TenantID, &r.ID, &r.Reference, &r.CustomerID, &r.RewardID, &r.Status, &r.Points, &r.LocationCode,
		&r.SalesChannelCode, &r.quotaPeriods, &r.EntryID, &r.RestoreEntryID, &r.Actor, &r.CreatedAt, &r.CancelledAt}, r.Coupon.dest()...)
	err := row.Scan(dest...)
	r.CreatedAt, r.CancelledAt = r.CreatedAt.UTC(), utcPtr(r.CancelledAt)
	r.Coupon.utc()
	return r, err
}

func findRedemption(ctx context.Context, q Querier, tenantID, by, value string, lock bool) (Redemption, error) {
	suffix := ""
	if lock {
		suffix = lockClause(q)
		if suffix != "" {
			suffix += " OF r"
		}
	}
	r, err := scanRedemption(q.QueryRow(ctx, `SELECT `+redemptionColumns+` FROM loyalty_redemptions r
		JOIN coupons c ON c.tenant_id = r.tenant_id AND c.id = r.coupon_id WHERE r.tenant_id = $1 AND r.`+by+` = $2`+suffix, tenantID, value))
	if errors.Is(err, ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "no redemption with %s %s", by, value)
	}
	return r, err
}

// FindRedemptionByID returns a redemption with its coupon, or NotFound.
func (db *DB) FindRedemptionByID(ctx context.Context, tenantID, redemptionID string) (Redemption, error) {
	r, err := findRedemption(ctx, db.Read(), tenantID, "id", redemptionID, false)
	if apperr.Is(err, apperr.NotFound) {
		return r, apperr.New(apperr.NotFound, "no redemption with id %s", id.Format(id.Redemption, redemptionID))
	}
	return r, err
}

// RedemptionFilter pages through a member's redemptions, newest first.
type RedemptionFilter struct {
	TenantID   string
	CustomerID string
	Limit      int
	BeforeID   string // "" for the newest
}

// FindRedemptions lists a customer's redemptions (its merge group's).
func (db *DB) FindRedemptions(ctx context.Context, f RedemptionFilter) ([]Redemption, error) {
	prof, err := db.FindCustomerByID(ctx, f.TenantID, f.CustomerID)
	if err != nil {
		return nil, err
	}
	before := f.BeforeID
	if before == "" {
		before = "\uffff"
	}
	var out []Redemption
	err = queryEach(ctx, db.Read(), `SELECT `+redemptionColumns+` FROM loyalty_redemptions r
		JOIN coupons c ON c.tenant_id = r.tenant_id AND c.id = r.coupon_id
		WHERE r.tenant_id = $1 AND r.customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2) AND r.id < $3
		ORDER BY r.id DESC LIMIT $4`, []any{f.TenantID, prof.ID, before, f.Limit}, func(row Rows) error {
		r, err := scanRedemption(row)
		out = append(out, r)
		return err
	})
	return out, err
}

// CancelParams cancels a redemption.
type CancelParams struct {
	TenantID     string
	RedemptionID string
	Reason       string
	Actor
}

// CancelRedemption gives back a redemption whose coupon is unused: the
// points return to exactly the lots they were taken from, with their
// original expiry (a lot that expired in between comes back expired, and
// the next expiry run expires it again), and the stock and quota are
// returned. A second cancel returns the cancelled redemption (Created
// false). Conflict when the coupon was used; NotFound for an unknown id.
func (db *DB) CancelRedemption(ctx context.Context, p CancelParams) (*RedeemResult, error) {
	res := &RedeemResult{}
	err := db.WriteTx(ctx, func(tx *Tx) error {
		*res = RedeemResult{}
		r, err := findRedemption(ctx, tx, p.TenantID, "id", p.RedemptionID, true)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.NotFound, "no redemption with id %s", id.Format(id.Redemption, p.RedemptionID))
		}
		if err != nil {
			return err
		}
		if r.Status != "cancelled" {
			if err := cancel(ctx, tx, &r, p); err != nil {
				return err
			}
			res.Created = true
		}
		res.Redemption = r
		res.Balances, err = memberBalances(ctx, tx, p.TenantID, r.CustomerID)
		return err
	})
	return res, err
}

func cancel(ctx context.Context, tx *Tx, r *Redemption, p CancelParams) error {
	takes, owners, err := entryTakes(ctx, tx, r.TenantID, r.EntryID)
	if err != nil {
		return err
	}
	for _, o := range owners { // sorted: a fixed lock order
		if _, _, err := loadMember(ctx, tx, r.TenantID, o, true); err != nil {
			return err
		}
	}
	n, err := tx.Exec(ctx, `UPDATE coupons SET status = 'void' WHERE tenant_id = $1 AND id = $2 AND uses = 0 AND status = 'active'`,
		r.TenantID, r.Coupon.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.Conflict, "the redemption's coupon was used: a used reward cannot be cancelled")
	}
	now := tx.Now()
	reason := "cancelled redemption " + id.Format(id.Redemption, r.ID)
	if p.Reason != "" {
		reason += ": " + p.Reason
	}
	if total := sumTakes(takes); total != r.Points {
		return fmt.Errorf("sqldb: redemption %s took %d points from lots, not %d", r.ID, total, r.Points)
	}
	if r.RestoreEntryID, err = restoreLots(ctx, tx, restore{TenantID: r.TenantID, Kind: loyalty.EntryRestore, CustomerID: r.CustomerID,
		Key: "restore:" + r.ID, Reason: reason, Actor: p.Actor.Actor, From: loyalty.Account{Kind: loyalty.AccountRedeemed}}, takes, now); err != nil {
		return err
	}
	if err := giveBackStock(ctx, tx, r); err != nil {
		return err
	}
	r.Status, r.CancelledAt, r.Coupon.Status = "cancelled", &now, "void"
	_, err = tx.Exec(ctx, `UPDATE loyalty_redemptions SET status = 'cancelled', restore_entry_id = $3, cancelled_at = $4
		WHERE tenant_id = $1 AND id = $2`, r.TenantID, r.ID, r.RestoreEntryID, now)
	return err
}

func giveBackStock(ctx context.Context, tx *Tx, r *Redemption) error {
	if _, err := tx.Exec(ctx, `UPDATE loyalty_rewards SET redeemed = redeemed - 1 WHERE tenant_id = $1 AND id = $2 AND redeemed > 0`,
		r.TenantID, r.RewardID); err != nil {
		return err
	}
	for _, line := range strings.Split(r.quotaPeriods, "\n") {
		loc, period, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE loyalty_reward_quota_usage SET used = used - 1 WHERE tenant_id = $1 AND reward_id = $2
			AND location_code = $3 AND period = $4 AND used > 0`, r.TenantID, r.RewardID, loc, period); err != nil {
			return err
		}
	}
	return nil
}
