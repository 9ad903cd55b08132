package sqldb

import (
	"context"
	"errors"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/order"
)

// OrderExchange links an order paid (in part) by items returned from an
// earlier order to that order and its return.
type OrderExchange struct {
	OrderID  string `json:"order_id"`
	ReturnID string `json:"return_id"`
}

// exchangeUse is what an exchange return does with the returned items'
// worth: credit spent on the new order (the rest is refunded as usual).
type exchangeUse struct {
	orderID string
	credit  int64
}

// exchangeCredit is what a cart's exchange brings back now: the returned
// lines' worth, checked against the order (same customer and currency,
// paid, units not returned yet). Problems are field errors under
// cart.exchange.
func exchangeCredit(ctx context.Context, q Querier, c order.Cart) (int64, error) {
	if c.Exchange == nil {
		return 0, nil
	}
	o, err := findOrder(ctx, q, c.TenantID, c.Exchange.OrderID, false)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.NotFound {
		return 0, apperr.Field("cart.exchange.order_id", "no such order", id.Format(id.Order, c.Exchange.OrderID))
	}
	if err != nil {
		return 0, err
	}
	if loc := c.Exchange.LocationID; loc != "" {
		if _, err := findLocation(ctx, q, c.TenantID, "id", loc); err != nil {
			return 0, apperr.Field("cart.exchange.location_id", "no such location", id.Format(id.Location, loc))
		}
	}
	return checkExchange(o, c)
}

func checkExchange(o *Order, c order.Cart) (int64, error) {
	at := "cart.exchange.order_id"
	switch {
	case o.TransactionID == "":
		return 0, apperr.Field(at, "the order was never paid: nothing can come back from it", id.Format(id.Order, o.ID))
	case o.CustomerID != c.CustomerID:
		return 0, apperr.Field(at, "the order belongs to another customer than the cart's", id.Format(id.Order, o.ID))
	case o.Currency != c.Currency:
		return 0, apperr.Field(at, "the order was paid in "+o.Currency+", the cart is in "+c.Currency, id.Format(id.Order, o.ID))
	}
	worth, err := order.CheckReturn(returnableLines(o), c.Exchange.ReturnLines())
	if err == nil {
		err = checkReceived(o, c.Exchange.ReturnLines(), "body")
	}
	return worth, exchangeProblem(err)
}

func returnableLines(o *Order) []order.OrderLine {
	lines := make([]order.OrderLine, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = order.OrderLine{LineNo: l.LineNo, SKU: l.SKU, Quantity: l.Quantity, Total: l.Total, Returned: l.Returned}
	}
	return lines
}

// exchangeIn returns a cart's exchanged items from their order, in the
// checkout's transaction: the credit the new order spends becomes its
// "exchange_credit" payment, and what the new order does not use is
// refunded to the earlier order's tenders (provider refunds after commit).
func exchangeIn(ctx context.Context, tx *Tx, c *order.Cart, o *Order, a Actor) error {
	e := c.Exchange
	items := make([]ReturnItem, len(e.Lines))
	for i, l := range e.Lines {
		items[i] = ReturnItem{LineNo: l.LineNo, Quantity: l.Quantity, Restock: l.Restock}
	}
	r := &Return{ID: id.New(), OrderID: e.OrderID, LocationID: e.LocationID, Via: "post", Lines: items}
	if e.LocationID != "" {
		r.Via = "store"
	}
	p := ReturnParams{TenantID: c.TenantID, OrderID: e.OrderID, LocationID: e.LocationID, Lines: items,
		Reason: "exchanged for order " + id.Format(id.Order, o.ID), Actor: a, exchange: &exchangeUse{orderID: o.ID, credit: o.Totals.ExchangeCredit}}
	if err := returnTx(ctx, tx, o.tenant, p, r); err != nil {
		return exchangeProblem(err)
	}
	if worth := r.RefundTotal + r.ExchangeCredit; worth != o.Totals.ExchangeCredit+o.Totals.ExchangeRefund {
		return errCartMoved // another return of the same order changed what the items are worth
	}
	o.Exchange, o.exchangeReturn = &OrderExchange{OrderID: e.OrderID, ReturnID: r.ID}, r
	if used := o.Totals.ExchangeCredit; used > 0 {
		o.Payments = append(o.Payments, Payment{ID: id.New(), Provider: "exchange", Method: "exchange_credit", Reference: e.OrderID,
			Status: PaySucceeded, Amount: used, Captured: used, CreatedAt: tx.Now()})
	}
	return nil
}

// exchangeProblem names the cart's exchange in a return's field errors.
func exchangeProblem(err error) error {
	var e *apperr.Error
	if errors.As(err, &e) {
		for i := range e.Fields {
			e.Fields[i].Location = strings.Replace(e.Fields[i].Location, "body.", "cart.exchange.", 1)
		}
	}
	return err
}

// refundExchange passes a refund of an exchange_credit payment on to the
// tenders of the order the credit came from, so that money goes back the
// way it was paid and never beyond what those tenders captured.
func refundExchange(ctx context.Context, tx *Tx, tenantID string, p Payment, part int64, r *Return, a Actor) ([]Refund, error) {
	from, err := findOrder(ctx, tx, tenantID, p.Reference, true)
	if err != nil {
		return nil, err
	}
	passed := &Return{ID: r.ID}
	if err := refundTenders(ctx, tx, from, passed, part, a); err != nil {
		return nil, err
	}
	from.Refunded += part
	from.Exchanged -= part
	from.PaymentStatus = refundedStatus(from)
	if err := setOrderStatus(ctx, tx, from); err != nil {
		return nil, err
	}
	return passed.Refunds, recordOrderEvent(ctx, tx, from.TenantID, from.ID, "order.refunded", a, map[string]any{
		"reason": "items of exchange order " + id.Format(id.Order, r.OrderID) + " returned", "return_id": id.Format(id.Return, r.ID), "amount": part})
}

// refundedStatus is an order's payment status after refunds: refunded
// when every unit of money is back (or passed on to an exchange).
func refundedStatus(o *Order) string {
	switch {
	case o.Refunded == 0:
		return o.PaymentStatus
	case o.Refunded+o.Exchanged == o.Totals.Total && o.Exchanged == 0:
		return PaymentRefunded
	}
	return PaymentPartRefnd
}
