package sqldb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/inventory"
)

// Reservation and reservation line states.
const (
	ReservationHeld      = "held"      // some line still holds stock
	ReservationCommitted = "committed" // nothing held; at least one line was sold
	ReservationReleased  = "released"  // every line given back
	ReservationExpired   = "expired"   // given back by the expiry job
)

// StockHold asks to reserve stock.
type StockHold struct {
	TenantID     string
	Ref          string    // what holds it: a cart id or an order id
	SalesChannel string    // sales channel code; its safety stock applies ("" = none)
	ExpiresAt    time.Time // zero = until committed or released
	Reason       string
	Lines        []StockHoldLine
	Actor        string // who holds it (an API key, an associate); "" for the system
}

// StockHoldLine is units of a SKU to hold at a location.
type StockHoldLine struct {
	SKU, LocationID string
	Quantity        int64
}

// StockShortage is the cause of the Conflict ReserveStock returns for a
// line it cannot hold: errors.As(err, &shortage) reads it.
type StockShortage struct {
	Line       int // index in StockHold.Lines (the first line of that SKU and location)
	SKU        string
	LocationID string
	Requested  int64
	Available  int64
}

func (s *StockShortage) Error() string {
	return fmt.Sprintf("SKU %s at location %s: %d available, %d asked", s.SKU, id.Format(id.Location, s.LocationID), s.Available, s.Requested)
}

// ReserveStock holds every line or none, inside the caller's write
// transaction. A short line is an apperr conflict naming the SKU, the
// location and the units available (its cause is a *StockShortage). It
// returns the reservation id. A held reservation with the same Ref and the
// same lines is returned again (a retry); with other lines it is a
// Conflict: release it first. Each line is one guarded UPDATE, so no
// concurrent hold can take the same units (zero oversell on both engines).
func ReserveStock(ctx context.Context, tx *Tx, h StockHold) (string, error) {
	rid, _, err := reserveStock(ctx, tx, h)
	return rid, err
}

func reserveStock(ctx context.Context, tx *Tx, h StockHold) (string, bool, error) {
	lines := make([]inventory.HoldLine, len(h.Lines))
	for i, l := range h.Lines {
		lines[i] = inventory.HoldLine{SKU: l.SKU, LocationID: l.LocationID, Quantity: l.Quantity}
	}
	if err := inventory.ValidateHold("body", h.Ref, lines); err != nil {
		return "", false, err
	}
	now := tx.Now()
	if !h.ExpiresAt.IsZero() && !h.ExpiresAt.After(now) {
		return "", false, apperr.Field("body.ttl_seconds", "a hold must expire in the future", h.ExpiresAt)
	}
	if len(h.Reason) > inventory.MaxText || !inventory.Storable(h.Reason) {
		return "", false, apperr.Field("body.reason", fmt.Sprintf("text of at most %d bytes", inventory.MaxText), h.Reason)
	}
	merged, index := inventory.MergeLines(lines)
	if rid, found, err := priorHold(ctx, tx, h, merged); found || err != nil {
		return rid, false, err
	}
	types, err := holdLocations(ctx, tx, h.TenantID, lines)
	if err != nil {
		return "", false, err
	}
	rules, err := tx.db.channelSafety(ctx, tx, h.TenantID, h.SalesChannel, skusOfLines(merged))
	if e, ok := apperr.As(err); ok && e.Kind == apperr.NotFound {
		return "", false, apperr.Field("body.sales_channel", e.Message, h.SalesChannel)
	} else if err != nil {
		return "", false, err
	}
	var changes stockChanges
	for i, l := range merged {
		c, err := reserveLine(ctx, tx, h.TenantID, l, inventory.SafetyStock(rules, l.SKU, l.LocationID, types[l.LocationID]), now)
		if err != nil {
			return "", false, errors.Join(err, unreserve(ctx, tx, h.TenantID, merged[:i]))
		}
		if c == nil {
			err := shortage(ctx, tx, h.TenantID, l, slices.Index(index, i), inventory.SafetyStock(rules, l.SKU, l.LocationID, types[l.LocationID]))
			return "", false, errors.Join(err, unreserve(ctx, tx, h.TenantID, merged[:i]))
		}
		changes.add(*c)
	}
	rid := id.New()
	if err := insertHold(ctx, tx, rid, h, merged, now); err != nil {
		return "", false, err
	}
	return rid, true, recordFacts(ctx, tx, h.TenantID, "reservation:"+rid, &changes)
}

// reserveLine is the guarded UPDATE: it takes the units only if what the
// channel may sell covers them. nil when it does not.
func reserveLine(ctx context.Context, tx *Tx, tenantID string, l inventory.HoldLine, safety int64, now time.Time) (*stockChange, error) {
	var onHand, reserved int64
	err := tx.QueryRow(ctx, `UPDATE inventory_levels SET reserved = reserved + $4, updated_at = $6
		WHERE tenant_id = $1 AND sku = $2 AND location_id = $3 AND on_hand - reserved - $5 >= $4 RETURNING on_hand, reserved`,
		tenantID, l.SKU, l.LocationID, l.Quantity, safety, now).Scan(&onHand, &reserved)
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &stockChange{sku: l.SKU, locationID: l.LocationID, onHandBefore: onHand, reservedBefore: reserved - l.Quantity,
		onHandAfter: onHand, reservedAfter: reserved}, nil
}

// unreserve gives back the lines a failed hold took before its short line,
// so the caller's transaction may go on (try another location) as if the
// hold had never been asked.
func unreserve(ctx context.Context, tx *Tx, tenantID string, done []inventory.HoldLine) error {
	for _, l := range done {
		if _, err := tx.Exec(ctx, `UPDATE inventory_levels SET reserved = reserved - $4 WHERE tenant_id = $1 AND sku = $2 AND location_id = $3`,
			tenantID, l.SKU, l.LocationID, l.Quantity); err != nil {
			return err
		}
	}
	return nil
}

// shortage words the Conflict of a line that cannot be held.
func shortage(ctx context.Context, tx *Tx, tenantID string, l inventory.HoldLine, line int, safety int64) error {
	var onHand, reserved int64
	err := tx.QueryRow(ctx, `SELECT on_hand, reserved FROM inventory_levels WHERE tenant_id = $1 AND sku = $2 AND location_id = $3`,
		tenantID, l.SKU, l.LocationID).Scan(&onHand, &reserved)
	if err != nil && !errors.Is(err, ErrNoRows) {
		return err
	}
	s := &StockShortage{Line: line, SKU: l.SKU, LocationID: l.LocationID, Requested: l.Quantity, Available: inventory.Available(onHand, reserved, safety)}
	return &apperr.Error{Kind: apperr.Conflict, Message: "not enough stock: " + s.Error(), Err: s,
		Fields: []apperr.FieldError{{Location: fmt.Sprintf("body.lines[%d].quantity", line),
			Message: fmt.Sprintf("%d available at this location", s.Available), Value: l.Quantity}}}
}

func skusOfLines(lines []inventory.HoldLine) []string {
	var out []string
	for _, l := range lines {
		if !slices.Contains(out, l.SKU) {
			out = append(out, l.SKU)
		}
	}
	return out
}

// holdLocations returns the type of each location of the lines; a location
// that is not the tenant's is a field error, one that is not open a Conflict.
func holdLocations(ctx context.Context, tx *Tx, tenantID string, lines []inventory.HoldLine) (map[string]string, error) {
	var ids []string
	for _, l := range lines {
		if !slices.Contains(ids, l.LocationID) {
			ids = append(ids, l.LocationID)
		}
	}
	types, status := map[string]string{}, map[string]string{}
	err := queryEach(ctx, tx, `SELECT id, type, status FROM locations WHERE tenant_id = $1 AND id IN (`+numbered(2, len(ids))+`)`,
		stringArgs([]any{tenantID}, ids), func(r Rows) error {
			var lid, typ, st string
			err := r.Scan(&lid, &typ, &st)
			types[lid], status[lid] = typ, st
			return err
		})
	if err != nil {
		return nil, err
	}
	for i, l := range lines {
		switch st, ok := status[l.LocationID]; {
		case !ok:
			return nil, apperr.Field(fmt.Sprintf("body.lines[%d].location_id", i), "no location with this id", id.Format(id.Location, l.LocationID))
		case st != "open":
			return nil, apperr.New(apperr.Conflict, "location %s is %s: it holds no stock for sale", id.Format(id.Location, l.LocationID), st)
		}
	}
	return types, nil
}

// priorHold finds a held reservation with the hold's Ref: the same hold
// again (found) or another one (Conflict).
func priorHold(ctx context.Context, tx *Tx, h StockHold, merged []inventory.HoldLine) (string, bool, error) {
	var rid, channel string
	err := tx.QueryRow(ctx, `SELECT id, sales_channel FROM inventory_reservations WHERE tenant_id = $1 AND ref = $2 AND status = 'held'`,
		h.TenantID, h.Ref).Scan(&rid, &channel)
	if errors.Is(err, ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var held []inventory.HoldLine
	err = queryEach(ctx, tx, `SELECT sku, location_id, quantity FROM inventory_reservation_lines WHERE tenant_id = $1 AND reservation_id = $2
		ORDER BY line_no`, []any{h.TenantID, rid}, func(r Rows) error {
		var l inventory.HoldLine
		err := r.Scan(&l.SKU, &l.LocationID, &l.Quantity)
		held = append(held, l)
		return err
	})
	if err != nil {
		return "", false, err
	}
	if channel != h.SalesChannel || !slices.Equal(held, merged) {
		return rid, true, apperr.New(apperr.Conflict, "%q holds other stock already (%s): release it first", h.Ref, id.Format(ReservationPrefix, rid))
	}
	return rid, true, nil
}

func insertHold(ctx context.Context, tx *Tx, rid string, h StockHold, lines []inventory.HoldLine, now time.Time) error {
	var expires *time.Time
	if !h.ExpiresAt.IsZero() {
		e := h.ExpiresAt.UTC()
		expires = &e
	}
	_, err := tx.Exec(ctx, `INSERT INTO inventory_reservations (tenant_id, id, ref, sales_channel, status, reason, expires_at, actor, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'held', $5, $6, $7, $8, $8)`, h.TenantID, rid, h.Ref, h.SalesChannel, h.Reason, expires, h.Actor, now)
	if IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "%q is holding stock in another request; retry to get its reservation", h.Ref)
	}
	if err != nil {
		return err
	}
	args := []any{h.TenantID, rid}
	values := ""
	for i, l := range lines {
		n := len(args)
		values += fmt.Sprintf(", ($1, $2, %d, $%d, $%d, $%d, 'held')", i+1, n+1, n+2, n+3)
		args = append(args, l.SKU, l.LocationID, l.Quantity)
	}
	_, err = tx.Exec(ctx, `INSERT INTO inventory_reservation_lines (tenant_id, reservation_id, line_no, sku, location_id, quantity, status)
		VALUES `+values[2:], args...)
	return err
}

// heldLine is a reservation line still holding stock.
type heldLine struct {
	lineNo          int
	sku, locationID string
	quantity        int64
}

// lockReservation locks a reservation's row and returns its status, so
// that a commit, a release and the expiry job settle its lines one at a time.
func lockReservation(ctx context.Context, tx *Tx, tenantID, reservationID string) (string, error) {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM inventory_reservations WHERE tenant_id = $1 AND id = $2`+lockFor(tx),
		tenantID, reservationID).Scan(&status)
	if errors.Is(err, ErrNoRows) {
		return "", apperr.New(apperr.NotFound, "no stock reservation with id %s", id.Format(ReservationPrefix, reservationID))
	}
	return status, err
}

// linesIn lists a reservation's lines at a location ("" = all) in the order
// holds take rows (location, SKU), by status.
func linesIn(ctx context.Context, tx *Tx, tenantID, reservationID, locationID string) (held []heldLine, settled map[string]int, err error) {
	settled = map[string]int{}
	err = queryEach(ctx, tx, `SELECT line_no, sku, location_id, quantity, status FROM inventory_reservation_lines
		WHERE tenant_id = $1 AND reservation_id = $2 AND ($3 = '' OR location_id = $3) ORDER BY location_id, sku`,
		[]any{tenantID, reservationID, locationID}, func(r Rows) error {
			var l heldLine
			var status string
			if err := r.Scan(&l.lineNo, &l.sku, &l.locationID, &l.quantity, &status); err != nil {
				return err
			}
			if status == ReservationHeld {
				held = append(held, l)
			} else {
				settled[status]++
			}
			return nil
		})
	return held, settled, err
}

// CommitReservation turns what a reservation still holds at one location
// ("" = all locations) into sale movements: on hand and reserved both go
// down. ref is the movement reference (a shipment id). Committing lines
// committed already does nothing. Errors: NotFound; Conflict when the lines
// were released (or expired), or when fewer units are on hand than held (a
// till sold them meanwhile). After an error, lines before the failing one may
// be committed in tx: return the error so that the transaction rolls back.
func CommitReservation(ctx context.Context, tx *Tx, tenantID, reservationID, locationID, ref string) error {
	if _, err := lockReservation(ctx, tx, tenantID, reservationID); err != nil {
		return err
	}
	held, settled, err := linesIn(ctx, tx, tenantID, reservationID, locationID)
	if err != nil {
		return err
	}
	if len(held) == 0 {
		return nothingHeld(reservationID, locationID, settled)
	}
	now := tx.Now()
	var changes stockChanges
	for _, l := range held {
		if err := commitLine(ctx, tx, tenantID, reservationID, ref, l, now, &changes); err != nil {
			return err
		}
	}
	if err := settleReservation(ctx, tx, tenantID, reservationID, ReservationReleased, now); err != nil {
		return err
	}
	return recordFacts(ctx, tx, tenantID, "reservation:"+reservationID, &changes)
}

func nothingHeld(reservationID, locationID string, settled map[string]int) error {
	switch {
	case settled[ReservationCommitted] > 0:
		return nil // committed already: a retry
	case settled[ReservationReleased] > 0:
		return apperr.New(apperr.Conflict, "stock reservation %s was released or expired: it holds nothing to sell", id.Format(ReservationPrefix, reservationID))
	}
	return apperr.New(apperr.Conflict, "stock reservation %s holds nothing at location %s", id.Format(ReservationPrefix, reservationID),
		id.Format(id.Location, locationID))
}

// commitLine sells one held line: a guarded UPDATE takes the units from on
// hand and reserved, and a sale movement keyed by the line records it.
func commitLine(ctx context.Context, tx *Tx, tenantID, reservationID, ref string, l heldLine, now time.Time, changes *stockChanges) error {
	var onHand, reserved int64
	err := tx.QueryRow(ctx, `UPDATE inventory_levels SET on_hand = on_hand - $4, reserved = reserved - $4, updated_at = $5
		WHERE tenant_id = $1 AND sku = $2 AND location_id = $3 AND on_hand >= $4 AND reserved >= $4 RETURNING on_hand, reserved`,
		tenantID, l.sku, l.locationID, l.quantity, now).Scan(&onHand, &reserved)
	if errors.Is(err, ErrNoRows) {
		return apperr.New(apperr.Conflict, "SKU %s at location %s: fewer units on hand than the %d reserved (sold or written off meanwhile)",
			l.sku, id.Format(id.Location, l.locationID), l.quantity)
	}
	if err != nil {
		return err
	}
	m := StockMovement{TenantID: tenantID, SKU: l.sku, LocationID: l.locationID, Kind: inventory.KindSale, Quantity: l.quantity,
		Reference: ref, Key: fmt.Sprintf("reservation:%s:%d", reservationID, l.lineNo), reservationID: reservationID}
	rec := StockMovementRecord{TenantID: tenantID, ID: id.New(), SKU: l.sku, LocationID: l.locationID, Kind: m.Kind, Quantity: -l.quantity,
		OnHandBefore: onHand + l.quantity, OnHandAfter: onHand, Reference: ref, Key: m.Key, ReservationID: reservationID,
		Actor: "system", OccurredAt: now, RecordedAt: now}
	if err := insertMovement(ctx, tx, rec, m.requestHash()); err != nil {
		return err
	}
	changes.add(stockChange{sku: l.sku, locationID: l.locationID, onHandBefore: rec.OnHandBefore, reservedBefore: reserved + l.quantity,
		onHandAfter: onHand, reservedAfter: reserved})
	_, err = tx.Exec(ctx, `UPDATE inventory_reservation_lines SET status = 'committed', settled_at = $4
		WHERE tenant_id = $1 AND reservation_id = $2 AND line_no = $3`, tenantID, reservationID, l.lineNo, now)
	return err
}

// ReleaseReservation gives back what is still held (one location's lines,
// or "" = all). Releasing what is not held does nothing. NotFound for an
// unknown reservation.
func ReleaseReservation(ctx context.Context, tx *Tx, tenantID, reservationID, locationID string) error {
	return releaseReservation(ctx, tx, tenantID, reservationID, locationID, ReservationReleased)
}

func releaseReservation(ctx context.Context, tx *Tx, tenantID, reservationID, locationID, final string) error {
	if _, err := lockReservation(ctx, tx, tenantID, reservationID); err != nil {
		return err
	}
	held, _, err := linesIn(ctx, tx, tenantID, reservationID, locationID)
	if err != nil || len(held) == 0 {
		return err
	}
	now := tx.Now()
	var changes stockChanges
	for _, l := range held {
		var onHand, reserved int64
		if err := tx.QueryRow(ctx, `UPDATE inventory_levels SET reserved = reserved - $4, updated_at = $5
			WHERE tenant_id = $1 AND sku = $2 AND location_id = $3 RETURNING on_hand, reserved`,
			tenantID, l.sku, l.locationID, l.quantity, now).Scan(&onHand, &reserved); err != nil {
			return fmt.Errorf("sqldb: release %s at %s: %w", l.sku, l.locationID, err)
		}
		changes.add(stockChange{sku: l.sku, locationID: l.locationID, onHandBefore: onHand, reservedBefore: reserved + l.quantity,
			onHandAfter: onHand, reservedAfter: reserved})
		if _, err := tx.Exec(ctx, `UPDATE inventory_reservation_lines SET status = 'released', settled_at = $4
			WHERE tenant_id = $1 AND reservation_id = $2 AND line_no = $3`, tenantID, reservationID, l.lineNo, now); err != nil {
			return err
		}
	}
	if err := settleReservation(ctx, tx, tenantID, reservationID, final, now); err != nil {
		return err
	}
	return recordFacts(ctx, tx, tenantID, "release:"+reservationID, &changes)
}

// settleReservation sets a reservation's status from its lines: held while
// any line holds, then committed if any line was sold, else final
// (released or expired).
func settleReservation(ctx context.Context, tx *Tx, tenantID, reservationID, final string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE inventory_reservations SET updated_at = $4, status = CASE
			WHEN EXISTS (SELECT 1 FROM inventory_reservation_lines l WHERE l.tenant_id = $1 AND l.reservation_id = $2 AND l.status = 'held') THEN 'held'
			WHEN EXISTS (SELECT 1 FROM inventory_reservation_lines l WHERE l.tenant_id = $1 AND l.reservation_id = $2 AND l.status = 'committed') THEN 'committed'
			ELSE $3 END
		WHERE tenant_id = $1 AND id = $2`, tenantID, reservationID, final, now)
	return err
}

// ReleaseExpiredReservations releases every held reservation past its
// expiry (a cart abandoned, a VIP who did not come) and returns how many.
// only, when given, limits it to one tenant (tests that move their clock).
func (db *DB) ReleaseExpiredReservations(ctx context.Context, now time.Time, only ...string) (int, error) {
	type due struct{ tenant, id string }
	var list []due
	err := queryEach(ctx, db.Read(), `SELECT tenant_id, id FROM inventory_reservations WHERE status = 'held' AND expires_at IS NOT NULL
		AND expires_at <= $1 AND ($2 = '' OR tenant_id = $2) ORDER BY expires_at LIMIT 10000`, []any{now.UTC(), onlyTenant(only)}, func(r Rows) error {
		var d due
		err := r.Scan(&d.tenant, &d.id)
		list = append(list, d)
		return err
	})
	if err != nil {
		return 0, err
	}
	for start := 0; start < len(list); start += 100 {
		chunk := list[start:min(start+100, len(list))]
		if err := db.WriteTx(ctx, func(tx *Tx) error {
			for _, d := range chunk {
				if err := releaseReservation(ctx, tx, d.tenant, d.id, "", ReservationExpired); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return start, err
		}
	}
	return len(list), nil
}
