package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/money"
)

// Hold states.
const (
	HoldHeld     = "held"
	HoldCaptured = "captured"
	HoldReleased = "released"
)

// Hold is points held as a tender for a payment.
type Hold struct {
	TenantID    string
	ID          string
	CustomerID  string
	Points      int64
	Amount      int64 // what the points pay, minor units of Currency
	Currency    string
	Reference   string
	Status      string
	HoldEntryID string
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// HoldParams asks to hold points: a number of points, or the amount they
// must pay (converted at the program's point value, rounded up).
type HoldParams struct {
	TenantID   string
	CustomerID string
	Points     int64
	Amount     int64
	Currency   string
	Reference  string // the payment or order: a retry with it returns the same hold
	TTL        time.Duration
	Actor
}

// MaxHoldTTL bounds how long points may stay held.
const MaxHoldTTL = 7 * 24 * time.Hour

const holdColumns = `id, customer_id, points, amount, currency, reference, status, hold_entry_id, expires_at, created_at, updated_at`

func scanHold(r Row, tenantID string) (Hold, error) {
	h := Hold{TenantID: tenantID}
	err := r.Scan(&h.ID, &h.CustomerID, &h.Points, &h.Amount, &h.Currency, &h.Reference, &h.Status, &h.HoldEntryID,
		&h.ExpiresAt, &h.CreatedAt, &h.UpdatedAt)
	h.ExpiresAt, h.CreatedAt, h.UpdatedAt = h.ExpiresAt.UTC(), h.CreatedAt.UTC(), h.UpdatedAt.UTC()
	return h, err
}

func findHold(ctx context.Context, q Querier, tenantID, by, value string, lock bool) (Hold, error) {
	suffix := ""
	if lock {
		suffix = lockClause(q)
	}
	h, err := scanHold(q.QueryRow(ctx, `SELECT `+holdColumns+` FROM loyalty_holds WHERE tenant_id = $1 AND `+by+` = $2`+suffix, tenantID, value), tenantID)
	if errors.Is(err, ErrNoRows) {
		return h, apperr.New(apperr.NotFound, "no points hold with %s %s", by, value)
	}
	return h, err
}

// FindHoldByID returns a hold.
func (db *DB) FindHoldByID(ctx context.Context, tenantID, holdID string) (Hold, error) {
	h, err := findHold(ctx, db.Read(), tenantID, "id", holdID, false)
	if apperr.Is(err, apperr.NotFound) {
		return h, apperr.New(apperr.NotFound, "no points hold with id %s", id.Format(id.Hold, holdID))
	}
	return h, err
}

// HoldPoints takes points from the member's available balance into held,
// first-expiring lots first, for a payment that is not yet confirmed. The
// same reference again returns the first hold (Conflict if it asked for
// something else). Not enough points is Invalid, naming what is available.
func (db *DB) HoldPoints(ctx context.Context, p HoldParams) (Hold, bool, error) {
	if err := checkHold(&p); err != nil {
		return Hold{}, false, err
	}
	c, err := loadCustomerRow(ctx, db.Read(), p.TenantID, p.CustomerID, "")
	if err != nil {
		return Hold{}, false, err
	}
	p.CustomerID = c.SurvivorID
	var h Hold
	created := false
	err = db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		h, created, err = holdTx(ctx, tx, p)
		return err
	})
	return h, created, err
}

func checkHold(p *HoldParams) error {
	var fields []apperr.FieldError
	if (p.Points > 0) == (p.Amount > 0) || p.Points < 0 || p.Amount < 0 || p.Points > money.MaxAmount || p.Amount > money.MaxAmount {
		fields = append(fields, apperr.FieldError{Location: "body.points", Message: "give points or amount (with currency), above 0"})
	}
	if c, ok := money.NormalizeCurrency(p.Currency); ok {
		p.Currency = c
	} else {
		fields = append(fields, apperr.FieldError{Location: "body.currency", Message: "the ISO 4217 currency the points pay in", Value: p.Currency})
	}
	if p.Reference == "" || len(p.Reference) > 200 {
		fields = append(fields, apperr.FieldError{Location: "body.reference", Message: "the payment or order the points pay, 1 to 200 characters: a retry with it returns the same hold"})
	}
	if p.TTL == 0 {
		p.TTL = 15 * time.Minute
	}
	if p.TTL < time.Minute || p.TTL > MaxHoldTTL {
		fields = append(fields, apperr.FieldError{Location: "body.ttl_seconds", Message: "60 s to 7 days", Value: int64(p.TTL.Seconds())})
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the points hold is not valid", Fields: fields}
	}
	return nil
}

func holdTx(ctx context.Context, tx *Tx, p HoldParams) (Hold, bool, error) {
	if prior, err := findHold(ctx, tx, p.TenantID, "reference", p.Reference, false); err == nil {
		if prior.CustomerID != p.CustomerID || (p.Points > 0 && prior.Points != p.Points) || (p.Amount > 0 && prior.Amount != p.Amount) {
			return prior, false, apperr.New(apperr.Conflict, "reference %q holds %d points of another request", p.Reference, prior.Points)
		}
		return prior, false, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return Hold{}, false, err
	}
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, p.TenantID)
	if err != nil {
		return Hold{}, false, err
	}
	if cfg == nil {
		return Hold{}, false, noProgram()
	}
	h, err := priceHold(&cfg.Program, p)
	if err != nil {
		return h, false, err
	}
	m, err := ensureMember(ctx, tx, cfg, p.TenantID, p.CustomerID, tx.Now())
	if err != nil {
		return h, false, err
	}
	avail, err := memberLots(ctx, tx, p.TenantID, m.CustomerID, "available")
	if err != nil {
		return h, false, err
	}
	takes, short := loyalty.Consume(lots(avail), h.Points)
	if short > 0 {
		return h, false, apperr.Field("body.points", fmt.Sprintf("the member has %d points available; %d are needed", h.Points-short, h.Points), h.Points)
	}
	now := tx.Now()
	h.ID, h.HoldEntryID, h.Status, h.CreatedAt, h.UpdatedAt, h.ExpiresAt = id.New(), id.New(), HoldHeld, now, now, now.Add(p.TTL)
	if _, err := postEntry(ctx, tx, loyalty.Entry{TenantID: p.TenantID, ID: h.HoldEntryID, Kind: loyalty.EntryHold, CustomerID: m.CustomerID,
		NaturalKey: "hold:" + h.ID, Reason: "held for " + p.Reference, Actor: p.Actor.Actor, OccurredAt: now,
		Postings: []loyalty.Posting{{Account: member(loyalty.AccountHeld, m.CustomerID), Points: h.Points},
			{Account: member(loyalty.AccountAvailable, m.CustomerID), Points: -h.Points}}}); err != nil {
		return h, false, err
	}
	if err := takeLots(ctx, tx, p.TenantID, h.HoldEntryID, takes); err != nil {
		return h, false, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO loyalty_holds (tenant_id, `+holdColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.TenantID, h.ID, h.CustomerID, h.Points, h.Amount, h.Currency, h.Reference, h.Status, h.HoldEntryID, h.ExpiresAt, now, now)
	return h, true, err
}

// priceHold fills the points and the amount they pay, at the program's
// value of points in the currency (points rounded up: the member never pays
// with less than the amount's worth).
func priceHold(p *loyalty.Program, in HoldParams) (Hold, error) {
	h := Hold{TenantID: in.TenantID, CustomerID: in.CustomerID, Points: in.Points, Amount: in.Amount, Currency: in.Currency, Reference: in.Reference}
	for _, v := range p.PointValues {
		if v.Currency != in.Currency {
			continue
		}
		if h.Points == 0 {
			if v.Amount == 0 {
				break
			}
			q, r := loyalty.MulDiv(in.Amount, v.Points, v.Amount)
			if r > 0 {
				q++
			}
			h.Points = q
		} else {
			h.Amount, _ = loyalty.MulDiv(in.Points, v.Amount, v.Points)
		}
		return h, nil
	}
	return h, apperr.Field("body.currency", "the program gives points no value in this currency (point_values)", in.Currency)
}

// CaptureHold spends held points (the payment went through). Capturing a
// captured hold returns it unchanged; a released one is a Conflict.
func (db *DB) CaptureHold(ctx context.Context, tenantID, holdID string, a Actor) (Hold, error) {
	return db.settleHold(ctx, tenantID, holdID, HoldCaptured, a)
}

// ReleaseHold gives held points back to the lots they came from, with
// their original expiry (the payment failed or was cancelled). Releasing a
// released hold returns it unchanged; a captured one is a Conflict.
func (db *DB) ReleaseHold(ctx context.Context, tenantID, holdID string, a Actor) (Hold, error) {
	return db.settleHold(ctx, tenantID, holdID, HoldReleased, a)
}

func (db *DB) settleHold(ctx context.Context, tenantID, holdID, to string, a Actor) (Hold, error) {
	var h Hold
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		h, err = settleHoldTx(ctx, tx, tenantID, holdID, to, a.Actor)
		return err
	})
	if apperr.Is(err, apperr.NotFound) {
		return h, apperr.New(apperr.NotFound, "no points hold with id %s", id.Format(id.Hold, holdID))
	}
	return h, err
}

func settleHoldTx(ctx context.Context, tx *Tx, tenantID, holdID, to, actor string) (Hold, error) {
	h, err := findHold(ctx, tx, tenantID, "id", holdID, true)
	if err != nil || h.Status == to {
		return h, err
	}
	if h.Status != HoldHeld {
		return h, apperr.New(apperr.Conflict, "the hold was %s already", h.Status)
	}
	if _, _, err := loadMember(ctx, tx, tenantID, h.CustomerID, true); err != nil {
		return h, err
	}
	now := tx.Now()
	if to == HoldCaptured {
		_, err = postEntry(ctx, tx, loyalty.Entry{TenantID: tenantID, Kind: loyalty.EntryCapture, CustomerID: h.CustomerID,
			NaturalKey: "capture:" + h.ID, Reason: "paid " + h.Reference, Actor: actor, OccurredAt: now,
			Postings: []loyalty.Posting{{Account: loyalty.Account{Kind: loyalty.AccountRedeemed}, Points: h.Points},
				{Account: member(loyalty.AccountHeld, h.CustomerID), Points: -h.Points}}})
	} else {
		err = releaseHeld(ctx, tx, h, actor, now)
	}
	if err != nil {
		return h, err
	}
	h.Status, h.UpdatedAt = to, now
	_, err = tx.Exec(ctx, `UPDATE loyalty_holds SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, h.ID, to, now)
	return h, err
}

// releaseHeld gives the held points back to the lots the hold took them
// from, with their original expiry (restoreLots).
func releaseHeld(ctx context.Context, tx *Tx, h Hold, actor string, now time.Time) error {
	takes, owners, err := entryTakes(ctx, tx, h.TenantID, h.HoldEntryID)
	if err != nil {
		return err
	}
	for _, o := range owners { // a merge may have moved a lot since; sorted: a fixed lock order
		if _, _, err := loadMember(ctx, tx, h.TenantID, o, true); err != nil {
			return err
		}
	}
	_, err = restoreLots(ctx, tx, restore{TenantID: h.TenantID, Kind: loyalty.EntryRelease, CustomerID: h.CustomerID,
		Key: "release:" + h.ID, Reason: "released " + h.Reference, Actor: actor, From: member(loyalty.AccountHeld, h.CustomerID)}, takes, now)
	return err
}

// ReleaseExpiredHolds releases every hold past its expiry that was neither
// captured nor released: a payment that never completed loses no points.
func (db *DB) ReleaseExpiredHolds(ctx context.Context, now time.Time, only ...string) (int, error) {
	type due struct{ tenant, id string }
	var holds []due
	err := queryEach(ctx, db.Read(), `SELECT tenant_id, id FROM loyalty_holds WHERE status = 'held' AND expires_at <= $1 AND ($2 = '' OR tenant_id = $2)
		ORDER BY expires_at LIMIT 10000`, []any{now.UTC(), onlyTenant(only)}, func(r Rows) error {
		var d due
		err := r.Scan(&d.tenant, &d.id)
		holds = append(holds, d)
		return err
	})
	if err != nil {
		return 0, err
	}
	for i, d := range holds {
		if _, err := db.ReleaseHold(ctx, d.tenant, d.id, Actor{Actor: "system"}); err != nil && !apperr.Is(err, apperr.Conflict) {
			return i, err
		}
	}
	return len(holds), nil
}
