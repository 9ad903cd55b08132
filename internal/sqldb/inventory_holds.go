package sqldb

import (
	"context"
	"errors"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
)

// Reservation is stock held for a cart or an order.
type Reservation struct {
	TenantID     string
	ID           string
	Ref          string
	SalesChannel string
	Status       string // held, committed, released, expired
	Reason       string
	ExpiresAt    *time.Time
	Actor        string
	Lines        []ReservationLine
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ReservationLine is units of a SKU held at a location.
type ReservationLine struct {
	LineNo     int
	SKU        string
	LocationID string
	Quantity   int64
	Status     string // held, committed, released
	SettledAt  *time.Time
}

const reservationColumns = `id, ref, sales_channel, status, reason, expires_at, actor, created_at, updated_at`

func scanReservation(r Row, tenantID string) (Reservation, error) {
	v := Reservation{TenantID: tenantID}
	err := r.Scan(&v.ID, &v.Ref, &v.SalesChannel, &v.Status, &v.Reason, &v.ExpiresAt, &v.Actor, &v.CreatedAt, &v.UpdatedAt)
	v.ExpiresAt, v.CreatedAt, v.UpdatedAt = utcPtr(v.ExpiresAt), v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, err
}

// HoldStock reserves stock in a transaction of its own (the API's holds:
// an associate keeping a size for a VIP). created is false when a held
// reservation with the same Ref and lines was returned again.
func (db *DB) HoldStock(ctx context.Context, h StockHold) (Reservation, bool, error) {
	var rid string
	var created bool
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		rid, created, err = reserveStock(ctx, tx, h)
		return err
	})
	if err != nil {
		return Reservation{}, false, err
	}
	r, err := db.FindReservationByID(ctx, h.TenantID, rid)
	return r, created, err
}

// CommitStockReservation commits a reservation in a transaction of its own.
func (db *DB) CommitStockReservation(ctx context.Context, tenantID, reservationID, locationID, ref string) (Reservation, error) {
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		return CommitReservation(ctx, tx, tenantID, reservationID, locationID, ref)
	}); err != nil {
		return Reservation{}, err
	}
	return db.FindReservationByID(ctx, tenantID, reservationID)
}

// ReleaseStockReservation releases a reservation in a transaction of its own.
func (db *DB) ReleaseStockReservation(ctx context.Context, tenantID, reservationID, locationID string) (Reservation, error) {
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		return ReleaseReservation(ctx, tx, tenantID, reservationID, locationID)
	}); err != nil {
		return Reservation{}, err
	}
	return db.FindReservationByID(ctx, tenantID, reservationID)
}

// FindReservationByID returns a reservation with its lines, or NotFound.
func (db *DB) FindReservationByID(ctx context.Context, tenantID, reservationID string) (Reservation, error) {
	r, err := scanReservation(db.Read().QueryRow(ctx, `SELECT `+reservationColumns+` FROM inventory_reservations
		WHERE tenant_id = $1 AND id = $2`, tenantID, reservationID), tenantID)
	if errors.Is(err, ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "no stock reservation with id %s", id.Format(ReservationPrefix, reservationID))
	}
	if err != nil {
		return r, err
	}
	list := []Reservation{r}
	err = db.addReservationLines(ctx, tenantID, list)
	return list[0], err
}

// ReservationFilter pages through reservations, newest first.
type ReservationFilter struct {
	TenantID string
	Ref      string // optional
	Status   string // optional
	Limit    int
	Before   string // cursor: the last id of the previous page
}

// FindReservations lists reservations with their lines, newest first.
func (db *DB) FindReservations(ctx context.Context, f ReservationFilter) ([]Reservation, error) {
	var out []Reservation
	err := queryEach(ctx, db.Read(), `SELECT `+reservationColumns+` FROM inventory_reservations WHERE tenant_id = $1
		AND ($2 = '' OR ref = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR id < $4) ORDER BY id DESC LIMIT $5`,
		[]any{f.TenantID, f.Ref, f.Status, f.Before, f.Limit}, func(r Rows) error {
			v, err := scanReservation(r, f.TenantID)
			out = append(out, v)
			return err
		})
	if err != nil || len(out) == 0 {
		return out, err
	}
	return out, db.addReservationLines(ctx, f.TenantID, out)
}

// addReservationLines reads the lines of a page of reservations in one query.
func (db *DB) addReservationLines(ctx context.Context, tenantID string, list []Reservation) error {
	at := map[string]int{}
	ids := make([]string, len(list))
	for i, r := range list {
		at[r.ID], ids[i] = i, r.ID
	}
	return queryEach(ctx, db.Read(), `SELECT reservation_id, line_no, sku, location_id, quantity, status, settled_at
		FROM inventory_reservation_lines WHERE tenant_id = $1 AND reservation_id IN (`+numbered(2, len(ids))+`)
		ORDER BY reservation_id, line_no`, stringArgs([]any{tenantID}, ids), func(r Rows) error {
		var rid string
		var l ReservationLine
		if err := r.Scan(&rid, &l.LineNo, &l.SKU, &l.LocationID, &l.Quantity, &l.Status, &l.SettledAt); err != nil {
			return err
		}
		l.SettledAt = utcPtr(l.SettledAt)
		list[at[rid]].Lines = append(list[at[rid]].Lines, l)
		return nil
	})
}
