package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// AdjustParams is a manual correction of a member's points.
type AdjustParams struct {
	TenantID   string
	CustomerID string
	Points     int64 // + gives, − takes away
	Reason     string
	// Reference makes the adjustment apply once: the same reference again
	// returns the first result (e.g. a support ticket number).
	Reference string
	Actor
}

// AdjustResult is the entry an adjustment posted and the balances after it.
type AdjustResult struct {
	EntryID  string
	Created  bool
	Balances MemberBalances
}

// AdjustLoyaltyPoints posts a manual adjustment. Points given form a lot
// with the program's expiry; points taken come from the lots that expire
// first and cannot exceed what is available (Invalid).
func (db *DB) AdjustLoyaltyPoints(ctx context.Context, p AdjustParams) (*AdjustResult, error) {
	if err := checkAdjust(p); err != nil {
		return nil, err
	}
	prof, err := db.FindCustomerByID(ctx, p.TenantID, p.CustomerID)
	if err != nil {
		return nil, err
	}
	p.CustomerID = prof.ID
	if p.Reference == "" {
		p.Reference = id.New()
	}
	res := &AdjustResult{}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		*res = AdjustResult{}
		cfg, err := tx.db.loyaltyConfigFor(ctx, tx, p.TenantID)
		if err != nil {
			return err
		}
		if cfg == nil {
			return apperr.New(apperr.Conflict, "this tenant has no loyalty program yet; create it with PUT /v1/loyalty/program")
		}
		key := "adjust:" + p.Reference
		if err := tx.QueryRow(ctx, `SELECT id FROM loyalty_entries WHERE tenant_id = $1 AND natural_key = $2`, p.TenantID, key).Scan(&res.EntryID); err == nil {
			res.Balances, err = memberBalances(ctx, tx, p.TenantID, p.CustomerID)
			return err
		}
		m, err := ensureMember(ctx, tx, cfg, p.TenantID, p.CustomerID, tx.Now())
		if err != nil {
			return err
		}
		if res.EntryID, err = postAdjustment(ctx, tx, cfg, &m, p, key); err != nil {
			return err
		}
		res.Created = true
		if err := saveMember(ctx, tx, p.TenantID, m); err != nil {
			return err
		}
		res.Balances, err = memberBalances(ctx, tx, p.TenantID, p.CustomerID)
		return err
	})
	return res, err
}

func checkAdjust(p AdjustParams) error {
	var fields []apperr.FieldError
	if p.Points == 0 || p.Points > 1_000_000_000_000 || p.Points < -1_000_000_000_000 {
		fields = append(fields, apperr.FieldError{Location: "body.points", Message: "a non-zero number of points, positive to give, negative to take", Value: p.Points})
	}
	if n := len(strings.TrimSpace(p.Reason)); n == 0 || n > 500 {
		fields = append(fields, apperr.FieldError{Location: "body.reason", Message: "why, in 1 to 500 characters: it stays on the ledger", Value: p.Reason})
	}
	if len(p.Reference) > 200 {
		fields = append(fields, apperr.FieldError{Location: "body.reference", Message: "at most 200 characters", Value: p.Reference})
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the adjustment is not valid", Fields: fields}
	}
	return nil
}

func postAdjustment(ctx context.Context, tx *Tx, cfg *loyaltyConfig, m *memberRow, p AdjustParams, key string) (string, error) {
	now := tx.Now()
	e := loyalty.Entry{TenantID: p.TenantID, ID: id.New(), Kind: loyalty.EntryAdjust, CustomerID: m.CustomerID, NaturalKey: key,
		Reason: p.Reason, Actor: p.Actor.Actor, OccurredAt: now}
	adj := loyalty.Account{Kind: loyalty.AccountAdjustment}
	if p.Points > 0 {
		m.LifetimeEarned += p.Points
		e.Postings = []loyalty.Posting{{Account: adj, Points: -p.Points}, {Account: member(loyalty.AccountAvailable, m.CustomerID), Points: p.Points}}
		if _, err := postEntry(ctx, tx, e); err != nil {
			return "", err
		}
		return e.ID, insertLot(ctx, tx, p.TenantID, lotRow{Lot: loyalty.Lot{ID: id.New(), Remaining: p.Points,
			ExpiresAt: cfg.Program.Expiry.ExpiresAt(now), EarnedAt: now}, CustomerID: m.CustomerID, OriginCustomerID: m.CustomerID,
			EntryID: e.ID, Status: "available", Points: p.Points, AvailableAt: now})
	}
	avail, err := memberLots(ctx, tx, p.TenantID, m.CustomerID, "available")
	if err != nil {
		return "", err
	}
	takes, short := loyalty.Consume(lots(avail), -p.Points)
	if short > 0 {
		return "", apperr.Field("body.points", fmt.Sprintf("the member has %d points available", -p.Points-short), p.Points)
	}
	e.Postings = []loyalty.Posting{{Account: member(loyalty.AccountAvailable, m.CustomerID), Points: p.Points}, {Account: adj, Points: -p.Points}}
	if _, err := postEntry(ctx, tx, e); err != nil {
		return "", err
	}
	return e.ID, takeLots(ctx, tx, p.TenantID, e.ID, takes)
}
