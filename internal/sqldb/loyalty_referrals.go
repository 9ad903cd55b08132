package sqldb

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/transaction"
)

// Referral states.
const (
	ReferralPending   = "pending"   // the friend joined with the code
	ReferralPurchased = "purchased" // the friend's first purchase is inside its return window
	ReferralConverted = "converted" // both earned
	ReferralDeclined  = "declined"  // returned, too small, or otherwise not counted
)

// referralSpec is the shape of referral codes: REF-XXXX-XXXX-C.
var referralSpec = coupon.Spec{Prefix: "REF", BodyLen: 8, Group: 4}

// Referral is a friend who joined with a member's code.
type Referral struct {
	TenantID, ID  string
	ReferrerID    string
	FriendID      string
	Status        string
	TransactionID string
	QualifiesAt   *time.Time
	Reason        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ReferralCode returns the member's shareable code, made on first ask.
func (db *DB) ReferralCode(ctx context.Context, tenantID, customerID string) (string, error) {
	c, err := loadCustomerRow(ctx, db.Read(), tenantID, customerID, "")
	if err != nil {
		return "", err
	}
	var code string
	err = db.WriteTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT code FROM loyalty_referral_codes WHERE tenant_id = $1 AND customer_id = $2`, tenantID, c.SurvivorID).Scan(&code)
		if !errors.Is(err, ErrNoRows) {
			return err
		}
		if code, err = coupon.Generate(rand.Reader, referralSpec); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO loyalty_referral_codes (tenant_id, customer_id, code, created_at) VALUES ($1, $2, $3, $4)`,
			tenantID, c.SurvivorID, code, tx.Now())
		return err
	})
	return code, err
}

// JoinReferral records that a friend joined with a member's code. The
// friend must be new (no purchase yet), not the referrer, and referred once.
func (db *DB) JoinReferral(ctx context.Context, tenantID, code, friendID string) (Referral, error) {
	norm, err := coupon.Normalize(code, referralSpec)
	if err != nil {
		return Referral{}, apperr.Field("body.code", err.Error(), code)
	}
	f, err := loadCustomerRow(ctx, db.Read(), tenantID, friendID, "")
	if err != nil {
		return Referral{}, err
	}
	r := Referral{TenantID: tenantID, ID: id.New(), FriendID: f.SurvivorID, Status: ReferralPending}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT customer_id FROM loyalty_referral_codes WHERE tenant_id = $1 AND code = $2`, tenantID, norm).Scan(&r.ReferrerID)
		if errors.Is(err, ErrNoRows) {
			return apperr.Field("body.code", "no member has this referral code", code)
		}
		if err != nil {
			return err
		}
		if err := referable(ctx, tx, tenantID, r.ReferrerID, r.FriendID); err != nil {
			return err
		}
		r.CreatedAt, r.UpdatedAt = tx.Now(), tx.Now()
		_, err = tx.Exec(ctx, `INSERT INTO loyalty_referrals (tenant_id, id, referrer_id, friend_id, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, tenantID, r.ID, r.ReferrerID, r.FriendID, r.Status, r.CreatedAt)
		if IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "this customer was referred already")
		}
		return err
	})
	return r, err
}

// referable checks a friend may be referred by a referrer.
func referable(ctx context.Context, tx *Tx, tenantID, referrerID, friendID string) error {
	var sameGroup, purchases, referred int64
	if err := tx.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM customers WHERE tenant_id = $1 AND id = $2 AND survivor_id = $3),
			(SELECT COALESCE(SUM(purchases), 0) FROM customer_sales WHERE tenant_id = $1 AND customer_id IN
				(SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $3)),
			(SELECT COUNT(*) FROM loyalty_referrals WHERE tenant_id = $1 AND friend_id = $3)`,
		tenantID, referrerID, friendID).Scan(&sameGroup, &purchases, &referred); err != nil {
		return err
	}
	switch {
	case referrerID == friendID || sameGroup > 0:
		return apperr.Field("body.customer_id", "a member cannot refer themselves", id.Format(id.Customer, friendID))
	case referred > 0:
		return apperr.New(apperr.Conflict, "this customer was referred already")
	case purchases > 0:
		return apperr.New(apperr.Conflict, "only new customers can join with a referral code: this one has bought before")
	}
	return nil
}

// noteReferralPurchase marks a referred friend's first purchase; the
// referral converts once the purchase's return window has passed.
func noteReferralPurchase(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tr *transaction.Transaction, eligible int64, availableAt time.Time) error {
	pol := cfg.Program.Referral
	if pol == nil || (pol.MinPurchase > 0 && (tr.Currency != pol.Currency || eligible < pol.MinPurchase)) {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE loyalty_referrals SET status = 'purchased', transaction_id = $3, qualifies_at = $4, updated_at = $5
		WHERE tenant_id = $1 AND friend_id = $2 AND status = 'pending'`, tr.TenantID, tr.CustomerID, tr.ID, availableAt.UTC(), tx.Now())
	return err
}

// ConvertReferrals settles referrals whose friend's first purchase has
// passed its return window: both earn, unless the purchase was returned
// (declined); the referrer earns nothing past its yearly cap. It returns how
// many it settled.
func (db *DB) ConvertReferrals(ctx context.Context, now time.Time, only ...string) (int, error) {
	var due []Referral
	err := queryEach(ctx, db.Read(), `SELECT tenant_id, id, referrer_id, friend_id, transaction_id FROM loyalty_referrals
		WHERE status = 'purchased' AND qualifies_at <= $1 AND ($2 = '' OR tenant_id = $2) ORDER BY qualifies_at LIMIT 5000`,
		[]any{now.UTC(), onlyTenant(only)}, func(r Rows) error {
			var x Referral
			err := r.Scan(&x.TenantID, &x.ID, &x.ReferrerID, &x.FriendID, &x.TransactionID)
			due = append(due, x)
			return err
		})
	if err != nil {
		return 0, err
	}
	for i, r := range due {
		if err := db.WriteTx(ctx, func(tx *Tx) error { return convertReferral(ctx, tx, r, now) }); err != nil {
			return i, err
		}
	}
	return len(due), nil
}

func convertReferral(ctx context.Context, tx *Tx, r Referral, now time.Time) error {
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, r.TenantID)
	if err != nil || cfg == nil || cfg.Program.Referral == nil {
		return err
	}
	pol := cfg.Program.Referral
	var bought, returned int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(returned), 0) FROM transaction_lines
		WHERE tenant_id = $1 AND transaction_id = $2`, r.TenantID, r.TransactionID).Scan(&bought, &returned); err != nil {
		return err
	}
	if bought == 0 || returned >= bought {
		return settleReferral(ctx, tx, r, ReferralDeclined, "the first purchase was returned")
	}
	reason := "converted"
	if pol.FriendPoints > 0 {
		if err := referralEarn(ctx, tx, cfg, r, r.FriendID, "friend", pol.FriendPoints, now); err != nil {
			return err
		}
	}
	if pol.ReferrerPoints > 0 {
		var year int64
		start := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM loyalty_referrals WHERE tenant_id = $1 AND referrer_id = $2
			AND status = 'converted' AND updated_at >= $3 AND reason = 'converted'`, r.TenantID, r.ReferrerID, start).Scan(&year); err != nil {
			return err
		}
		if pol.MaxPerYear > 0 && year >= pol.MaxPerYear {
			reason = fmt.Sprintf("converted; the referrer reached the cap of %d referrals this year", pol.MaxPerYear)
		} else if err := referralEarn(ctx, tx, cfg, r, r.ReferrerID, "referrer", pol.ReferrerPoints, now); err != nil {
			return err
		}
	}
	return settleReferral(ctx, tx, r, ReferralConverted, reason)
}

func settleReferral(ctx context.Context, tx *Tx, r Referral, status, reason string) error {
	_, err := tx.Exec(ctx, `UPDATE loyalty_referrals SET status = $3, reason = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
		r.TenantID, r.ID, status, reason, tx.Now())
	return err
}

// referralEarn gives one side of a converted referral its points.
func referralEarn(ctx context.Context, tx *Tx, cfg *loyaltyConfig, r Referral, customerID, side string, points int64, now time.Time) error {
	m, err := ensureMember(ctx, tx, cfg, r.TenantID, customerID, now)
	if err != nil {
		return err
	}
	entryID := id.New()
	if _, err := postEntry(ctx, tx, loyalty.Entry{TenantID: r.TenantID, ID: entryID, Kind: loyalty.EntryEarn, CustomerID: m.CustomerID,
		NaturalKey: "referral:" + r.ID + ":" + side, Reason: "referral converted (" + side + ")", OccurredAt: now,
		Postings: []loyalty.Posting{{Account: loyalty.Account{Kind: loyalty.AccountIssued}, Points: -points},
			{Account: member(loyalty.AccountAvailable, m.CustomerID), Points: points}}}); err != nil {
		return err
	}
	if err := insertLot(ctx, tx, r.TenantID, lotRow{Lot: loyalty.Lot{ID: id.New(), Remaining: points, ExpiresAt: cfg.Program.Expiry.ExpiresAt(now),
		EarnedAt: now}, CustomerID: m.CustomerID, OriginCustomerID: m.CustomerID, EntryID: entryID, Status: "available", Points: points,
		AvailableAt: now}); err != nil {
		return err
	}
	m.LifetimeEarned += points
	return saveMember(ctx, tx, r.TenantID, m)
}

// FindReferrals lists the referrals a member made, newest first.
func (db *DB) FindReferrals(ctx context.Context, tenantID, customerID string) ([]Referral, error) {
	c, err := loadCustomerRow(ctx, db.Read(), tenantID, customerID, "")
	if err != nil {
		return nil, err
	}
	var out []Referral
	err = queryEach(ctx, db.Read(), `SELECT id, referrer_id, friend_id, status, COALESCE(transaction_id, ''), qualifies_at, reason, created_at, updated_at
		FROM loyalty_referrals WHERE tenant_id = $1 AND referrer_id = $2 ORDER BY id DESC LIMIT 1000`, []any{tenantID, c.SurvivorID},
		func(r Rows) error {
			x := Referral{TenantID: tenantID}
			err := r.Scan(&x.ID, &x.ReferrerID, &x.FriendID, &x.Status, &x.TransactionID, &x.QualifiesAt, &x.Reason, &x.CreatedAt, &x.UpdatedAt)
			x.QualifiesAt, x.CreatedAt, x.UpdatedAt = utcPtr(x.QualifiesAt), x.CreatedAt.UTC(), x.UpdatedAt.UTC()
			out = append(out, x)
			return err
		})
	return out, err
}
