package sqldb

import (
	"context"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/order"
)

// OrderCancelParams cancels what is left of an order.
type OrderCancelParams struct {
	TenantID, OrderID string
	Reason            string
	Actor
}

// CancelOrder cancels every shipment of an order that can still be
// cancelled (not yet shipped or handed over), in one transaction: their
// stock goes back and, on a paid order, their lines are refunded as a
// shipment cancellation refunds them (provider refunds after commit).
// An order still awaiting its payment is cancelled as a failed payment
// would cancel it (stock, points and coupons back) and the provider's
// payment is voided. Shipments on their way are left alone; an order with
// nothing left to cancel is a Conflict.
func (db *DB) CancelOrder(ctx context.Context, p OrderCancelParams, payer Payer) (*Order, error) {
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	reason := p.Reason
	if reason == "" {
		reason = "order cancelled"
	}
	var refund *Return
	var void []Payment
	err = db.WriteTx(ctx, func(tx *Tx) error {
		refund, void = nil, nil
		o, err := findOrder(ctx, tx, p.TenantID, p.OrderID, true)
		if err != nil {
			return err
		}
		o.tenant = t
		if o.PaymentStatus == PaymentAwaiting {
			for _, pay := range o.Payments {
				if pay.Status == PayAction && pay.Reference != "" {
					void = append(void, pay)
				}
			}
			return cancelUnpaid(ctx, tx, o, "", reason, p.Actor)
		}
		lines, err := cancelShipments(ctx, tx, o, p.Actor)
		if err != nil || o.TransactionID == "" {
			return err
		}
		refund = &Return{ID: id.New(), OrderID: o.ID, Via: "cancellation", Lines: lines}
		return returnTx(ctx, tx, t, ReturnParams{TenantID: p.TenantID, OrderID: o.ID, Lines: lines, Reason: reason, Actor: p.Actor}, refund)
	})
	if err != nil {
		return nil, err
	}
	for _, pay := range void {
		if err := payer.Cancel(context.WithoutCancel(ctx), pay.Provider, pay.Reference, pay.Account); err != nil {
			return nil, err
		}
	}
	if refund != nil {
		if err := db.providerRefunds(ctx, p.TenantID, reason, refund, payer); err != nil {
			return nil, err
		}
	}
	return db.FindOrder(ctx, p.TenantID, p.OrderID)
}

// cancelShipments cancels the shipments that may still be cancelled and
// returns their lines.
func cancelShipments(ctx context.Context, tx *Tx, o *Order, a Actor) ([]ReturnItem, error) {
	var lines []ReturnItem
	var ids []string
	for _, s := range o.Shipments {
		if order.Transition(s.Method, s.Status, order.Cancelled) == nil {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return nil, apperr.New(apperr.Conflict, "nothing left to cancel: every shipment has left its location, been handed over or been cancelled")
	}
	for _, sid := range ids {
		if err := moveShipment(ctx, tx, o, ShipmentMove{TenantID: o.TenantID, ShipmentID: sid, To: order.Cancelled, Actor: a}); err != nil {
			return nil, err
		}
		for _, s := range o.Shipments {
			if s.ID != sid {
				continue
			}
			for _, l := range s.Lines {
				lines = append(lines, ReturnItem{LineNo: l.LineNo, Quantity: l.Quantity})
			}
		}
	}
	return lines, nil
}
