package sqldb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/inventory"
)

// StockMovement asks for one change to the stock of a SKU at a location.
type StockMovement struct {
	TenantID   string
	SKU        string
	LocationID string // stored form
	Kind       string // inventory.KindReceipt, KindSale, KindReturn, KindAdjustment, KindTransferOut, KindTransferIn, KindCount
	// Quantity is the units moved (≥ 1) for receipts, sales, returns and
	// transfers; the signed change for an adjustment; the units counted for
	// a count (which sets on hand to it).
	Quantity  int64
	Reason    string // reason code (inventory.Reasons); required for adjustments
	Note      string
	Reference string // what caused it: a delivery note, shipment, return, transfer
	// Key is the natural key (e.g. "return:<id>:<line>"): a movement whose
	// key is recorded already applies nothing; with other content it is a
	// Conflict.
	Key        string
	OccurredAt time.Time // when it happened; zero = now
	Actor      string
	RequestID  string

	transferID, reservationID string
}

// StockMovementRecord is one entry of the journal.
type StockMovementRecord struct {
	TenantID      string
	ID            string
	SKU           string
	LocationID    string
	Kind          string
	Quantity      int64 // the change to on hand (negative for sales and transfers out)
	OnHandBefore  int64
	OnHandAfter   int64
	Reason        string
	Note          string
	Reference     string
	Key           string
	TransferID    string
	ReservationID string
	Actor         string
	RequestID     string
	OccurredAt    time.Time
	RecordedAt    time.Time
	Duplicate     bool // the key was recorded already: nothing was applied now
}

const movementColumns = `id, sku, location_id, kind, quantity, on_hand_before, on_hand_after, reason, note, reference,
	COALESCE(natural_key, ''), transfer_id, reservation_id, actor, request_id, occurred_at, recorded_at`

func scanMovement(r Row, tenantID string) (StockMovementRecord, error) {
	m := StockMovementRecord{TenantID: tenantID}
	err := r.Scan(&m.ID, &m.SKU, &m.LocationID, &m.Kind, &m.Quantity, &m.OnHandBefore, &m.OnHandAfter, &m.Reason, &m.Note,
		&m.Reference, &m.Key, &m.TransferID, &m.ReservationID, &m.Actor, &m.RequestID, &m.OccurredAt, &m.RecordedAt)
	m.OccurredAt, m.RecordedAt = m.OccurredAt.UTC(), m.RecordedAt.UTC()
	return m, err
}

// requestHash fingerprints what makes two movements with one key the same.
func (m StockMovement) requestHash() string {
	h := sha256.Sum256([]byte(strings.Join([]string{m.Kind, m.SKU, m.LocationID, strconv.FormatInt(m.Quantity, 10), m.Reason,
		m.Reference}, "\x1f")))
	return hex.EncodeToString(h[:12])
}

// RecordMovement appends one movement to the journal and applies it to the
// stock level, in the caller's write transaction (returns use it to
// restock). Low-stock and back-in-stock facts it causes are recorded with
// it. Errors: Invalid (fields under "movement"), Conflict when on hand
// would go below zero, a transfer out would take reserved units, or the
// key was used by another movement.
func RecordMovement(ctx context.Context, tx *Tx, m StockMovement) error {
	var changes stockChanges
	rec, err := applyMovement(ctx, tx, m, "movement", &changes)
	if err != nil {
		return err
	}
	return recordFacts(ctx, tx, m.TenantID, "movement:"+rec.ID, &changes)
}

// MovementsParams records movements through the API: all or none.
type MovementsParams struct {
	TenantID  string
	Movements []StockMovement
	Single    bool // the request was one movement: fields are named body.x, not body.movements[i].x
}

// RecordMovements records movements in one transaction, all or none. A
// movement whose key is recorded already comes back with Duplicate set.
func (db *DB) RecordMovements(ctx context.Context, p MovementsParams) ([]StockMovementRecord, error) {
	var out []StockMovementRecord
	err := db.WriteTx(ctx, func(tx *Tx) error {
		out = out[:0]
		var changes stockChanges
		for i, m := range p.Movements {
			m.TenantID = p.TenantID
			base := fmt.Sprintf("body.movements[%d]", i)
			if p.Single {
				base = "body"
			}
			rec, err := applyMovement(ctx, tx, m, base, &changes)
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		if len(out) == 0 {
			return nil
		}
		return recordFacts(ctx, tx, p.TenantID, "movement:"+out[0].ID, &changes)
	})
	return out, err
}

// applyMovement records one movement. The level's row is locked before the
// key is looked up, so a resend racing its original on PostgreSQL waits
// for it and then finds its key.
func applyMovement(ctx context.Context, tx *Tx, m StockMovement, base string, changes *stockChanges) (StockMovementRecord, error) {
	dm := inventory.Movement{SKU: m.SKU, LocationID: m.LocationID, Kind: m.Kind, Quantity: m.Quantity, Reason: m.Reason,
		Note: m.Note, Reference: m.Reference, Key: m.Key}
	if err := dm.Validate(base); err != nil {
		return StockMovementRecord{}, err
	}
	m.SKU = dm.SKU
	if err := locationExists(ctx, tx, m.TenantID, m.LocationID, base+".location_id"); err != nil {
		return StockMovementRecord{}, err
	}
	now := tx.Now()
	onHand, reserved, err := lockLevel(ctx, tx, m.TenantID, m.SKU, m.LocationID, now)
	if err != nil {
		return StockMovementRecord{}, err
	}
	if m.Key != "" {
		if prior, found, err := priorMovement(ctx, tx, m); found || err != nil {
			return prior, err
		}
	}
	delta := inventory.Delta(m.Kind, m.Quantity, onHand)
	if msg := inventory.Guard(m.Kind, delta, onHand, reserved); msg != "" {
		return StockMovementRecord{}, apperr.New(apperr.Conflict, "SKU %s at location %s: %s", m.SKU, id.Format(id.Location, m.LocationID), msg)
	}
	rec := StockMovementRecord{TenantID: m.TenantID, ID: id.New(), SKU: m.SKU, LocationID: m.LocationID, Kind: m.Kind, Quantity: delta,
		OnHandBefore: onHand, OnHandAfter: onHand + delta, Reason: m.Reason, Note: m.Note, Reference: m.Reference, Key: m.Key,
		TransferID: m.transferID, ReservationID: m.reservationID, Actor: m.Actor, RequestID: m.RequestID, OccurredAt: m.OccurredAt, RecordedAt: now}
	if rec.OccurredAt.IsZero() {
		rec.OccurredAt = now
	}
	if _, err := tx.Exec(ctx, `UPDATE inventory_levels SET on_hand = $4, updated_at = $5 WHERE tenant_id = $1 AND sku = $2 AND location_id = $3`,
		m.TenantID, m.SKU, m.LocationID, rec.OnHandAfter, now); err != nil {
		return rec, err
	}
	if err := insertMovement(ctx, tx, rec, m.requestHash()); err != nil {
		return rec, err
	}
	changes.add(stockChange{sku: m.SKU, locationID: m.LocationID, onHandBefore: onHand, reservedBefore: reserved,
		onHandAfter: rec.OnHandAfter, reservedAfter: reserved})
	return rec, nil
}

// lockLevel makes sure the level's row exists and locks it (PostgreSQL; on
// SQLite the writer is alone), returning what is on hand and reserved.
func lockLevel(ctx context.Context, tx *Tx, tenantID, sku, locationID string, now time.Time) (onHand, reserved int64, err error) {
	if _, err := tx.Exec(ctx, `INSERT INTO inventory_levels (tenant_id, sku, location_id, on_hand, reserved, updated_at)
		VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT (tenant_id, sku, location_id) DO NOTHING`, tenantID, sku, locationID, now); err != nil {
		return 0, 0, err
	}
	err = tx.QueryRow(ctx, `SELECT on_hand, reserved FROM inventory_levels WHERE tenant_id = $1 AND sku = $2 AND location_id = $3`+lockFor(tx),
		tenantID, sku, locationID).Scan(&onHand, &reserved)
	return onHand, reserved, err
}

// priorMovement finds the movement recorded under m's key: the same
// movement again (found, Duplicate) or another one (Conflict).
func priorMovement(ctx context.Context, tx *Tx, m StockMovement) (StockMovementRecord, bool, error) {
	var hash string
	row := tx.QueryRow(ctx, `SELECT `+movementColumns+`, request_hash FROM inventory_movements WHERE tenant_id = $1 AND natural_key = $2`,
		m.TenantID, m.Key)
	rec := StockMovementRecord{TenantID: m.TenantID}
	err := row.Scan(&rec.ID, &rec.SKU, &rec.LocationID, &rec.Kind, &rec.Quantity, &rec.OnHandBefore, &rec.OnHandAfter, &rec.Reason,
		&rec.Note, &rec.Reference, &rec.Key, &rec.TransferID, &rec.ReservationID, &rec.Actor, &rec.RequestID, &rec.OccurredAt,
		&rec.RecordedAt, &hash)
	if errors.Is(err, ErrNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, err
	}
	rec.OccurredAt, rec.RecordedAt, rec.Duplicate = rec.OccurredAt.UTC(), rec.RecordedAt.UTC(), true
	if hash != m.requestHash() {
		return rec, true, apperr.New(apperr.Conflict, "key %q was recorded by another movement (%s)", m.Key, id.Format(MovementPrefix, rec.ID))
	}
	return rec, true, nil
}

func insertMovement(ctx context.Context, tx *Tx, r StockMovementRecord, hash string) error {
	var key *string
	if r.Key != "" {
		key = &r.Key
	}
	_, err := tx.Exec(ctx, `INSERT INTO inventory_movements (tenant_id, id, sku, location_id, kind, quantity, on_hand_before, on_hand_after,
		reason, note, reference, natural_key, request_hash, transfer_id, reservation_id, actor, request_id, occurred_at, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		r.TenantID, r.ID, r.SKU, r.LocationID, r.Kind, r.Quantity, r.OnHandBefore, r.OnHandAfter, r.Reason, r.Note, r.Reference,
		key, hash, r.TransferID, r.ReservationID, r.Actor, r.RequestID, r.OccurredAt.UTC(), r.RecordedAt)
	if IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "key %q is being recorded by another request; retry to get its result", r.Key)
	}
	return err
}

// locationExists checks that a location is the tenant's (a field error
// at field otherwise).
func locationExists(ctx context.Context, q Querier, tenantID, locationID, field string) error {
	var status string
	err := q.QueryRow(ctx, `SELECT status FROM locations WHERE tenant_id = $1 AND id = $2`, tenantID, locationID).Scan(&status)
	if errors.Is(err, ErrNoRows) {
		return apperr.Field(field, "no location with this id", id.Format(id.Location, locationID))
	}
	return err
}

// MovementPrefix, TransferPrefix and ReservationPrefix are the public id
// prefixes of movements, transfers and reservations.
const (
	MovementPrefix    = "stm"
	TransferPrefix    = "trf"
	ReservationPrefix = "rsv"
	FactPrefix        = "stf"
)

// StockMovementFilter pages through the journal, newest first.
type StockMovementFilter struct {
	TenantID   string
	SKU        string // optional
	LocationID string // optional
	Kind       string // optional
	Reference  string // optional
	Limit      int
	Before     string // cursor: the last id of the previous page
}

// FindStockMovements lists the journal, newest first.
func (db *DB) FindStockMovements(ctx context.Context, f StockMovementFilter) ([]StockMovementRecord, error) {
	var out []StockMovementRecord
	err := queryEach(ctx, db.Read(), `SELECT `+movementColumns+` FROM inventory_movements WHERE tenant_id = $1
		AND ($2 = '' OR sku = $2) AND ($3 = '' OR location_id = $3) AND ($4 = '' OR kind = $4) AND ($5 = '' OR reference = $5)
		AND ($6 = '' OR id < $6) ORDER BY id DESC LIMIT $7`,
		[]any{f.TenantID, f.SKU, f.LocationID, f.Kind, f.Reference, f.Before, f.Limit}, func(r Rows) error {
			m, err := scanMovement(r, f.TenantID)
			out = append(out, m)
			return err
		})
	return out, err
}

// TransferParams moves units of SKUs from one location to another.
type TransferParams struct {
	TenantID       string
	FromLocationID string
	ToLocationID   string
	Lines          []TransferLine
	Reference      string
	Note           string
	Key            string // natural key: the same transfer again applies nothing
	OccurredAt     time.Time
	Actor
}

// TransferLine is one SKU of a transfer.
type TransferLine struct {
	SKU      string
	Quantity int64
}

// Transfer is a recorded transfer: a transfer out and a transfer in per line.
type Transfer struct {
	ID        string
	Movements []StockMovementRecord
	Duplicate bool
}

// TransferStock records a transfer out at one location and a transfer in at
// the other for every line, in one transaction: both or neither. A transfer
// out may take only units that are not reserved.
func (db *DB) TransferStock(ctx context.Context, p TransferParams) (Transfer, error) {
	if err := checkTransfer(p); err != nil {
		return Transfer{}, err
	}
	var out Transfer
	err := db.WriteTx(ctx, func(tx *Tx) error {
		out = Transfer{ID: id.New()}
		if err := locationExists(ctx, tx, p.TenantID, p.FromLocationID, "body.from_location_id"); err != nil {
			return err
		}
		if err := locationExists(ctx, tx, p.TenantID, p.ToLocationID, "body.to_location_id"); err != nil {
			return err
		}
		var changes stockChanges
		dups := 0
		for i, l := range p.Lines {
			for _, leg := range transferLegs(p, l) {
				leg.transferID = out.ID
				rec, err := applyMovement(ctx, tx, leg, fmt.Sprintf("body.lines[%d]", i), &changes)
				if err != nil {
					return err
				}
				out.Movements = append(out.Movements, rec)
				if rec.Duplicate {
					dups++
				}
			}
		}
		switch dups {
		case 0:
			return recordFacts(ctx, tx, p.TenantID, "transfer:"+out.ID, &changes)
		case len(out.Movements):
			out.ID, out.Duplicate = out.Movements[0].TransferID, true
			return nil
		}
		return apperr.New(apperr.Conflict, "key %q was used by a transfer of other lines", p.Key)
	})
	return out, err
}

func checkTransfer(p TransferParams) error {
	var fields []apperr.FieldError
	if p.FromLocationID == "" || p.ToLocationID == "" || p.FromLocationID == p.ToLocationID {
		fields = append(fields, apperr.FieldError{Location: "body.to_location_id", Message: "two different locations: from and to"})
	}
	if len(p.Lines) == 0 || len(p.Lines) > inventory.MaxHoldLines {
		fields = append(fields, apperr.FieldError{Location: "body.lines", Message: fmt.Sprintf("1 to %d lines", inventory.MaxHoldLines)})
	}
	if len(p.Key) > inventory.MaxText-20 {
		fields = append(fields, apperr.FieldError{Location: "body.key", Message: fmt.Sprintf("at most %d bytes", inventory.MaxText-20)})
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the transfer is not valid", Fields: fields}
	}
	return nil
}

// transferLegs are a line's two movements; their keys derive from the
// transfer's key.
func transferLegs(p TransferParams, l TransferLine) [2]StockMovement {
	leg := func(kind, loc, side string) StockMovement {
		m := StockMovement{TenantID: p.TenantID, SKU: l.SKU, LocationID: loc, Kind: kind, Quantity: l.Quantity, Reference: p.Reference,
			Note: p.Note, OccurredAt: p.OccurredAt, Actor: p.Actor.Actor, RequestID: p.RequestID}
		if p.Key != "" {
			m.Key = "transfer:" + p.Key + ":" + side + ":" + strings.TrimSpace(l.SKU)
		}
		return m
	}
	return [2]StockMovement{leg(inventory.KindTransferOut, p.FromLocationID, "out"), leg(inventory.KindTransferIn, p.ToLocationID, "in")}
}
