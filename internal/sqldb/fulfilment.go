package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/order"
)

// ShipmentMove asks to move a shipment to another state.
type ShipmentMove struct {
	TenantID, ShipmentID, To string
	Carrier, TrackingNumber  string
	Actor
}

// MoveShipment moves a shipment along its state machine (order.Transition
// refuses anything else). Goods that leave their location turn the
// reservation into a sale; a cancellation gives the stock back and, on a
// paid order, refunds the shipment's lines in the same transaction (as a
// return of goods that never left: nothing restocked, the points they
// earned clawed back), provider refunds after commit. It answers with the
// whole order.
func (db *DB) MoveShipment(ctx context.Context, m ShipmentMove, payer Payer) (*Order, error) {
	t, err := db.tenant(ctx, m.TenantID)
	if err != nil {
		return nil, err
	}
	var orderID string
	err = db.Read().QueryRow(ctx, `SELECT order_id FROM shipments WHERE tenant_id = $1 AND id = $2`, m.TenantID, m.ShipmentID).Scan(&orderID)
	if errors.Is(err, ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "no such shipment")
	} else if err != nil {
		return nil, err
	}
	var o *Order
	var refund *Return
	err = db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if o, err = findOrder(ctx, tx, m.TenantID, orderID, true); err != nil {
			return err
		}
		if err := moveShipment(ctx, tx, o, m); err != nil || m.To != order.Cancelled || o.TransactionID == "" {
			return err
		}
		refund = &Return{ID: id.New(), OrderID: o.ID, Via: "cancellation"}
		p := ReturnParams{TenantID: m.TenantID, OrderID: o.ID, Reason: "shipment cancelled", Actor: m.Actor}
		for _, s := range o.Shipments {
			if s.ID == m.ShipmentID {
				for _, l := range s.Lines {
					p.Lines = append(p.Lines, ReturnItem{LineNo: l.LineNo, Quantity: l.Quantity})
				}
			}
		}
		refund.Lines = p.Lines
		return returnTx(ctx, tx, t, p, refund)
	})
	if err != nil || refund == nil {
		return o, err
	}
	if err := db.providerRefunds(ctx, m.TenantID, "shipment cancelled", refund, payer); err != nil {
		return nil, err
	}
	return db.FindOrder(ctx, m.TenantID, orderID)
}

func moveShipment(ctx context.Context, tx *Tx, o *Order, m ShipmentMove) error {
	var s *Shipment
	for i := range o.Shipments {
		if o.Shipments[i].ID == m.ShipmentID {
			s = &o.Shipments[i]
		}
	}
	if s == nil {
		return apperr.New(apperr.NotFound, "no such shipment")
	}
	if o.PaymentStatus == PaymentAwaiting && m.To != order.Cancelled {
		return apperr.New(apperr.Conflict, "the order is awaiting its payment: it cannot be fulfilled yet")
	}
	if err := order.Transition(s.Method, s.Status, m.To); err != nil {
		return err
	}
	switch {
	case order.LeavesLocation(s.Method, m.To):
		if err := CommitReservation(ctx, tx, o.TenantID, o.ReservationID, s.LocationID, s.ID); err != nil {
			return err
		}
	case m.To == order.Cancelled:
		if err := ReleaseReservation(ctx, tx, o.TenantID, o.ReservationID, s.LocationID); err != nil {
			return err
		}
	}
	from := s.Status
	s.Status, s.UpdatedAt, s.Next = m.To, tx.Now(), order.Next(s.Method, m.To)
	if m.Carrier != "" {
		s.Carrier = m.Carrier
	}
	if m.TrackingNumber != "" {
		s.TrackingNumber = m.TrackingNumber
	}
	if _, err := tx.Exec(ctx, `UPDATE shipments SET status = $3, carrier = $4, tracking_number = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2`,
		o.TenantID, s.ID, s.Status, s.Carrier, s.TrackingNumber, s.UpdatedAt); err != nil {
		return err
	}
	if order.Done(m.To) {
		if err := collectOffline(ctx, tx, o); err != nil {
			return err
		}
	}
	if err := setOrderStatus(ctx, tx, o); err != nil {
		return err
	}
	return recordOrderEvent(ctx, tx, o.TenantID, o.ID, "shipment."+m.To, m.Actor, map[string]any{"shipment_id": id.Format(id.Shipment, s.ID),
		"from": from, "to": m.To, "location_id": id.Format(id.Location, s.LocationID), "carrier": s.Carrier, "tracking_number": s.TrackingNumber})
}

// collectOffline marks cash on delivery and pay-in-store payments
// collected when the customer gets the goods.
func collectOffline(ctx context.Context, tx *Tx, o *Order) error {
	for i := range o.Payments {
		p := &o.Payments[i]
		if p.Status != PayPending {
			continue
		}
		p.Status, p.Captured = PaySucceeded, p.Amount
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = $3, captured = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, p.ID, p.Status, p.Captured, tx.Now()); err != nil {
			return err
		}
	}
	if o.PaymentStatus == PaymentCollect {
		o.PaymentStatus = PaymentPaid
	}
	return nil
}

// setOrderStatus saves the status the shipments and payment now give.
func setOrderStatus(ctx context.Context, tx *Tx, o *Order) error {
	o.Status, o.UpdatedAt = orderStatus(o), tx.Now()
	_, err := tx.Exec(ctx, `UPDATE orders SET status = $3, payment_status = $4, refunded = $5, doc = $6, transaction_id = $7, updated_at = $8
		WHERE tenant_id = $1 AND id = $2`, o.TenantID, o.ID, o.Status, o.PaymentStatus, o.Refunded, o.docJSON(), o.TransactionID, o.UpdatedAt)
	return err
}

// PickLine is a SKU to pick at a location, with the shipments that need it.
type PickLine struct {
	SKU       string   `json:"sku"`
	Quantity  int64    `json:"quantity"`
	Shipments []string `json:"shipments"`
}

// PickList lists what a location must pick for its allocated and picking
// shipments, by SKU.
func (db *DB) PickList(ctx context.Context, tenantID, locationID string) ([]PickLine, error) {
	if _, err := findLocation(ctx, db.Read(), tenantID, "id", locationID); err != nil {
		return nil, err
	}
	var out []PickLine
	at := map[string]int{}
	err := queryEach(ctx, db.Read(), `SELECT id, lines FROM shipments WHERE tenant_id = $1 AND location_id = $2 AND status IN ('allocated', 'picking')
		ORDER BY id`, []any{tenantID, locationID}, func(r Rows) error {
		var sid, raw string
		if err := r.Scan(&sid, &raw); err != nil {
			return err
		}
		var lines []ShipmentLine
		if err := json.Unmarshal([]byte(raw), &lines); err != nil {
			return err
		}
		for _, l := range lines {
			i, ok := at[l.SKU]
			if !ok {
				i, at[l.SKU] = len(out), len(out)
				out = append(out, PickLine{SKU: l.SKU})
			}
			out[i].Quantity += l.Quantity
			out[i].Shipments = append(out[i].Shipments, id.Format(id.Shipment, sid))
		}
		return nil
	})
	return out, err
}

// ErrLatePayment is ApplyPaymentEvent's answer to a success for an order
// cancelled unpaid meanwhile: nothing is applied or recorded, and the
// money must go back (FindLatePayment, RecordLateRefund).
var ErrLatePayment = errors.New("sqldb: the payment succeeded after its order was cancelled")

// PaymentEvent is a provider's asynchronous word on a payment (a webhook).
type PaymentEvent struct {
	TenantID, Provider, EventID, Reference string
	Succeeded                              bool
	Failure                                string
}

// ApplyPaymentEvent confirms or fails an order's asynchronous payment,
// once per provider event: a success captures the points and records the
// sale; a failure cancels the order and gives everything back. It answers
// applied=false for an event seen before or about no order of the tenant.
func (db *DB) ApplyPaymentEvent(ctx context.Context, e PaymentEvent) (bool, error) {
	t, err := db.tenant(ctx, e.TenantID)
	if err != nil {
		return false, err
	}
	applied := false
	err = db.WriteTx(ctx, func(tx *Tx) error {
		applied = false
		n, err := tx.Exec(ctx, `INSERT INTO payment_webhook_events (tenant_id, provider, event_id, received_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, e.TenantID, e.Provider, e.EventID, tx.Now())
		if err != nil || n == 0 {
			return err
		}
		var orderID, paymentID string
		err = tx.QueryRow(ctx, `SELECT order_id, id FROM payments WHERE tenant_id = $1 AND provider = $2 AND reference = $3`,
			e.TenantID, e.Provider, e.Reference).Scan(&orderID, &paymentID)
		if errors.Is(err, ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		o, err := findOrder(ctx, tx, e.TenantID, orderID, true)
		if err == nil && e.Succeeded && o.PaymentStatus == PaymentFailed {
			return ErrLatePayment // not consumed: the caller refunds it (FindLatePayment) and records it then
		}
		if err != nil || o.PaymentStatus != PaymentAwaiting {
			return err
		}
		o.tenant, applied = t, true
		a := Actor{Actor: "provider:" + e.Provider}
		if !e.Succeeded {
			return cancelUnpaid(ctx, tx, o, paymentID, "payment failed: "+e.Failure, a)
		}
		return confirmPayment(ctx, tx, o, paymentID, a)
	})
	return applied, err
}

func confirmPayment(ctx context.Context, tx *Tx, o *Order, paymentID string, a Actor) error {
	for i := range o.Payments {
		p := &o.Payments[i]
		switch {
		case p.ID == paymentID:
			p.Status, p.Captured = PaySucceeded, p.Amount
		case p.Provider == "points" && p.Status == "held":
			if _, err := settleHoldTx(ctx, tx, o.TenantID, p.Reference, HoldCaptured, a.Actor); err != nil {
				return err
			}
			p.Status, p.Captured = PaySucceeded, p.Amount
		default:
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = $3, captured = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, p.ID, p.Status, p.Captured, tx.Now()); err != nil {
			return err
		}
	}
	o.PaymentStatus, o.PaymentDueAt = PaymentPaid, nil
	for i := range o.Shipments {
		s := &o.Shipments[i]
		if s.Method != order.TakeNow || s.Status != order.Allocated {
			continue
		}
		if err := handOver(ctx, tx, o, s); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE shipments SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, s.ID, s.Status, tx.Now()); err != nil {
			return err
		}
	}
	code := ""
	if o.LocationID != "" {
		loc, err := findLocation(ctx, tx, o.TenantID, "id", o.LocationID)
		if err != nil {
			return err
		}
		code = loc.Code
	}
	if err := recordOrderSale(ctx, tx, o, code, a); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET payment_due_at = NULL WHERE tenant_id = $1 AND id = $2`, o.TenantID, o.ID); err != nil {
		return err
	}
	if err := setOrderStatus(ctx, tx, o); err != nil {
		return err
	}
	return recordOrderEvent(ctx, tx, o.TenantID, o.ID, "payment.succeeded", a, map[string]any{"payment_id": id.Format(id.Payment, paymentID)})
}

// cancelUnpaid cancels an order whose payment failed or never came: the
// stock, the points and the coupons go back, and nothing was sold.
func cancelUnpaid(ctx context.Context, tx *Tx, o *Order, paymentID, reason string, a Actor) error {
	if err := ReleaseReservation(ctx, tx, o.TenantID, o.ReservationID, ""); err != nil {
		return err
	}
	for i := range o.Payments {
		p := &o.Payments[i]
		if p.Provider == "points" && p.Status == "held" {
			if _, err := settleHoldTx(ctx, tx, o.TenantID, p.Reference, HoldReleased, a.Actor); err != nil {
				return err
			}
		}
		p.Status = PayFailed
		if p.ID == paymentID {
			p.Failure = reason
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = $3, failure = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, p.ID, p.Status, p.Failure, tx.Now()); err != nil {
			return err
		}
	}
	for _, code := range o.Coupons {
		if err := giveBackCoupon(ctx, tx, o.TenantID, code, "order:"+o.ID); err != nil {
			return err
		}
	}
	for i := range o.Shipments {
		o.Shipments[i].Status = order.Cancelled
	}
	if _, err := tx.Exec(ctx, `UPDATE shipments SET status = 'cancelled', updated_at = $3 WHERE tenant_id = $1 AND order_id = $2`,
		o.TenantID, o.ID, tx.Now()); err != nil {
		return err
	}
	o.PaymentStatus = PaymentFailed
	if err := setOrderStatus(ctx, tx, o); err != nil {
		return err
	}
	return recordOrderEvent(ctx, tx, o.TenantID, o.ID, "order.cancelled", a, map[string]any{"reason": reason})
}

// giveBackCoupon undoes an order's use of a coupon. The freed use number
// goes to the coupon's last use, so that numbers stay 1..uses.
func giveBackCoupon(ctx context.Context, tx *Tx, tenantID, code, reference string) error {
	c, err := findCoupon(ctx, tx, tenantID, code, false)
	if err != nil {
		return err
	}
	var no int64
	err = tx.QueryRow(ctx, `SELECT use_no FROM coupon_uses WHERE tenant_id = $1 AND coupon_id = $2 AND reference = $3`, tenantID, c.ID, reference).Scan(&no)
	if errors.Is(err, ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE coupons SET uses = uses - 1 WHERE tenant_id = $1 AND id = $2 RETURNING uses + 1`, tenantID, c.ID).Scan(&last); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM coupon_uses WHERE tenant_id = $1 AND coupon_id = $2 AND use_no = $3`, tenantID, c.ID, no); err != nil {
		return err
	}
	if no != last {
		_, err = tx.Exec(ctx, `UPDATE coupon_uses SET use_no = $3 WHERE tenant_id = $1 AND coupon_id = $2 AND use_no = $4`, tenantID, c.ID, no, last)
	}
	return err
}

// VoidPayment cancels a provider's open payment of a tenant's order (the
// api layer's payer, for the jobs); it logs its own failures.
type VoidPayment func(ctx context.Context, tenantID, provider, reference, account string) error

// CancelUnpaidOrders cancels orders whose asynchronous payment did not
// arrive in time, and voids their open payments with void (when given),
// so the shopper can no longer pay them; the job runs it every minute. A
// void that fails is left to the late-payment refund (FindLatePayment).
func (db *DB) CancelUnpaidOrders(ctx context.Context, now time.Time, void VoidPayment, only ...string) (int, error) {
	var due [][2]string
	q := `SELECT tenant_id, id FROM orders WHERE status = 'awaiting_payment' AND payment_due_at <= $1`
	args := []any{now}
	if len(only) > 0 {
		q += ` AND tenant_id = $2`
		args = append(args, only[0])
	}
	if err := queryEach(ctx, db.Read(), q+` ORDER BY payment_due_at LIMIT 500`, args, func(r Rows) error {
		var k [2]string
		err := r.Scan(&k[0], &k[1])
		due = append(due, k)
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, k := range due {
		var open []Payment
		err := db.WriteTx(ctx, func(tx *Tx) error {
			open = nil
			o, err := findOrder(ctx, tx, k[0], k[1], true)
			if err != nil || o.PaymentStatus != PaymentAwaiting {
				return err
			}
			for _, p := range o.Payments {
				if p.Status == PayAction && p.Reference != "" {
					open = append(open, p)
				}
			}
			n++
			return cancelUnpaid(ctx, tx, o, "", "the payment did not arrive in time", Actor{Actor: "system"})
		})
		if err != nil {
			return n, err
		}
		for _, p := range open {
			if void == nil {
				break
			}
			// The order is cancelled either way; a payment that could not be
			// voided and succeeds later is refunded (see FindLatePayment), so
			// void reports its own failures.
			_ = void(context.WithoutCancel(ctx), k[0], p.Provider, p.Reference, p.Account)
		}
	}
	return n, nil
}
