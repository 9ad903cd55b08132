package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/tenant"
	"github.com/omo-platform/omo/internal/transaction"
)

// ReturnParams gives back part of an order, at a store or by post.
type ReturnParams struct {
	TenantID, OrderID string
	LocationID        string // the store it is returned at; "" by post (restocked at the shipment's location)
	Lines             []ReturnItem
	Reason            string
	Actor
	exchange *exchangeUse // the items pay for an exchange order
}

// ReturnItem is units of an order line coming back, restocked or written off.
type ReturnItem struct {
	LineNo   int   `json:"line_no"`
	Quantity int64 `json:"quantity"`
	Restock  bool  `json:"restock,omitempty" doc:"put the units back on hand; false writes them off"`
}

// Return is a recorded return with its refunds.
type Return struct {
	ID            string       `json:"id"`
	OrderID       string       `json:"order_id"`
	LocationID    string       `json:"location_id,omitempty"`
	Via           string       `json:"via"`
	Lines         []ReturnItem `json:"lines"`
	Reason        string       `json:"reason,omitempty"`
	RefundTotal   int64        `json:"refund_total"`
	Refunds       []Refund     `json:"refunds"`
	TransactionID string       `json:"transaction_id,omitempty"`
	// CouponsReturned are the order's coupons that can be used again:
	// the whole order came back.
	CouponsReturned []string `json:"coupons_returned,omitempty"`
	// ExchangeCredit is what the items paid of the exchange order they
	// came back for; the rest of their worth is in RefundTotal.
	ExchangeCredit int64 `json:"exchange_credit,omitempty"`
	// ShippingRefund is the delivery charge refunded with the last
	// shipment of an order cancelled before anything reached the customer.
	ShippingRefund  int64           `json:"shipping_refund,omitempty"`
	ExchangeOrderID string          `json:"exchange_order_id,omitempty"`
	Loyalty         *LoyaltyOutcome `json:"-"`
	CreatedAt       time.Time       `json:"created_at"`
}

// Refund is money or points going back through one tender.
type Refund struct {
	ID        string `json:"id"`
	PaymentID string `json:"payment_id"`
	Provider  string `json:"provider"`
	Method    string `json:"method"`
	Amount    int64  `json:"amount"`
	Points    int64  `json:"points,omitempty"`
	Status    string `json:"status"`
	Reference string `json:"reference,omitempty"`
	reference string // the payment's provider reference
	account   string // and the provider account it was taken on
}

// ReturnOrder records a return: the lines can never come back beyond what
// was bought, the refund is what they cost (after discounts, with tax)
// split over the order's tenders in proportion and never above what a
// tender captured; points paid come back as points to their lots, points
// earned on the lines are clawed back (the return is recorded as a return
// transaction of the order's sale), restocked units go back on hand.
// Provider refunds run after the database transaction commits.
func (db *DB) ReturnOrder(ctx context.Context, p ReturnParams, payer Payer) (*Return, error) {
	r := &Return{ID: id.New(), OrderID: p.OrderID, LocationID: p.LocationID, Via: "post", Lines: p.Lines, Reason: p.Reason}
	if p.LocationID != "" {
		r.Via = "store"
	}
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		r.Refunds, r.RefundTotal, r.TransactionID = nil, 0, ""
		return returnTx(ctx, tx, t, p, r)
	})
	if err != nil {
		return nil, err
	}
	return r, db.providerRefunds(ctx, p.TenantID, p.Reason, r, payer)
}

// providerRefunds sends the refunds a committed return left pending to
// their providers and records what each answered.
func (db *DB) providerRefunds(ctx context.Context, tenantID, reason string, r *Return, payer Payer) error {
	for i := range r.Refunds {
		f := &r.Refunds[i]
		if f.Status != "pending" {
			continue
		}
		res, err := payer.Refund(ctx, RefundRequest{Provider: f.Provider, Reference: f.reference, Account: f.account, Amount: f.Amount, Reason: reason,
			IdempotencyKey: "refund:" + f.ID})
		f.Status, f.Reference = "failed", res.Reference
		if err == nil && res.Status != PayFailed {
			f.Status = PaySucceeded
		}
		if _, uerr := db.exec(ctx, `UPDATE refunds SET status = $3, reference = $4 WHERE tenant_id = $1 AND id = $2`,
			tenantID, f.ID, f.Status, f.Reference); uerr != nil {
			return uerr
		}
	}
	return nil
}

func (db *DB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.Exec(ctx, q, args...)
		return err
	})
	return n, err
}

func returnTx(ctx context.Context, tx *Tx, t tenant.Tenant, p ReturnParams, r *Return) error {
	o, err := findOrder(ctx, tx, p.TenantID, p.OrderID, true)
	if err != nil {
		return err
	}
	if o.TransactionID == "" {
		return apperr.New(apperr.Conflict, "the order was never paid: cancel it instead of returning it")
	}
	ret := make([]order.ReturnLine, len(p.Lines))
	for i, l := range p.Lines {
		ret[i] = order.ReturnLine{LineNo: l.LineNo, Quantity: l.Quantity}
	}
	worth, err := order.CheckReturn(returnableLines(o), ret)
	if err != nil {
		return err
	}
	if r.Via != "cancellation" {
		if err := checkReceived(o, ret, "body"); err != nil {
			return err
		}
	}
	if x := p.exchange; x != nil {
		if x.credit > worth {
			return errCartMoved
		}
		r.ExchangeCredit, r.ExchangeOrderID = x.credit, x.orderID
		o.Exchanged += x.credit
	}
	if r.Via == "cancellation" && everyShipmentCancelled(o) {
		// Nothing of the order reaches the customer: the delivery charge
		// goes back with the last cancelled shipment.
		r.ShippingRefund = o.Totals.Total
		for _, l := range o.Lines {
			r.ShippingRefund -= l.Total
		}
	}
	if err := refundTenders(ctx, tx, o, r, worth-r.ExchangeCredit+r.ShippingRefund, p.Actor); err != nil {
		return err
	}
	if err := restock(ctx, tx, o, p, r.ID); err != nil {
		return err
	}
	for _, l := range p.Lines {
		o.Lines[l.LineNo-1].Returned += l.Quantity
	}
	o.Refunded += worth - r.ExchangeCredit + r.ShippingRefund
	o.PaymentStatus = refundedStatus(o)
	if allReturned(o) {
		// Everything came back: the coupons the order used can be used
		// again (a partial return keeps them used).
		for _, code := range o.Coupons {
			if err := giveBackCoupon(ctx, tx, o.TenantID, code, "order:"+o.ID); err != nil {
				return err
			}
		}
		r.CouponsReturned = o.Coupons
	}
	if err := recordOrderReturn(ctx, tx, t, o, p, r); err != nil {
		return err
	}
	if err := setOrderStatus(ctx, tx, o); err != nil {
		return err
	}
	doc, _ := json.Marshal(r)
	if _, err := tx.Exec(ctx, `INSERT INTO order_returns (tenant_id, id, order_id, location_id, via, refund_total, doc, transaction_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.TenantID, r.ID, o.ID, p.LocationID, r.Via, r.RefundTotal, string(doc), r.TransactionID, tx.Now()); err != nil {
		return err
	}
	r.CreatedAt = tx.Now()
	facts := map[string]any{"return_id": id.Format(id.Return, r.ID), "via": r.Via, "refund_total": r.RefundTotal, "lines": p.Lines}
	if r.ExchangeOrderID != "" {
		facts["exchange_order_id"], facts["exchange_credit"] = id.Format(id.Order, r.ExchangeOrderID), r.ExchangeCredit
	}
	return recordOrderEvent(ctx, tx, o.TenantID, o.ID, "order.returned", p.Actor, facts)
}

// checkReceived refuses bringing back units that never reached the
// customer: a line's units come back only out of shipments that left
// their location (shipped, delivered, picked up), less those already back
// from them. Units that have not left are cancelled, not returned.
func checkReceived(o *Order, ret []order.ReturnLine, base string) error {
	left, cancelled := map[int]int64{}, map[int]int64{}
	for _, s := range o.Shipments {
		for _, l := range s.Lines {
			switch s.Status {
			case order.Shipped, order.Delivered, order.PickedUp:
				left[l.LineNo] += l.Quantity
			case order.Cancelled:
				cancelled[l.LineNo] += l.Quantity
			}
		}
	}
	asked := map[int]int64{}
	var fs []apperr.FieldError
	for i, r := range ret {
		if r.LineNo < 1 || r.LineNo > len(o.Lines) {
			continue // CheckReturn names it
		}
		asked[r.LineNo] += r.Quantity
		back := o.Lines[r.LineNo-1].Returned - cancelled[r.LineNo]
		if back+asked[r.LineNo] > left[r.LineNo] {
			fs = append(fs, apperr.FieldError{Location: fmt.Sprintf("%s.lines[%d].quantity", base, i), Value: r.Quantity,
				Message: fmt.Sprintf("line %d: %d units have reached the customer and %d of them are back already; units that have not left are cancelled, not returned",
					r.LineNo, left[r.LineNo], back)})
		}
	}
	if fs != nil {
		return apperr.Fields(fs...)
	}
	return nil
}

func everyShipmentCancelled(o *Order) bool {
	for _, s := range o.Shipments {
		if s.Status != order.Cancelled {
			return false
		}
	}
	return len(o.Shipments) > 0
}

func allReturned(o *Order) bool {
	for _, l := range o.Lines {
		if l.Returned < l.Quantity {
			return false
		}
	}
	return true
}

// refundTenders splits the refund over the order's tenders: points go back
// to their lots at once, offline money is handed back at once, provider
// money is refunded after commit (pending until then).
func refundTenders(ctx context.Context, tx *Tx, o *Order, r *Return, worth int64, a Actor) error {
	tenders := make([]order.Tender, len(o.Payments))
	for i, p := range o.Payments {
		captured := p.Captured
		if p.Status == PayPending {
			captured = p.Amount // offline, not collected yet: a refund lowers what is collected
		}
		tenders[i] = order.Tender{ID: p.ID, Kind: p.Method, Captured: captured, Refunded: p.Refunded, Points: p.Points}
	}
	parts, err := order.SplitRefund(tenders, worth)
	if err != nil {
		return err
	}
	for i, part := range parts {
		if part == 0 {
			continue
		}
		p := o.Payments[i]
		f := Refund{ID: id.New(), PaymentID: p.ID, Provider: p.Provider, Method: p.Method, Amount: part, Status: PaySucceeded, reference: p.Reference,
			account: p.Account}
		switch p.Provider {
		case "points":
			f.Points = order.PointsFor(tenders[i], part)
			if err := refundPoints(ctx, tx, o, p, tenders[i], f.Points, r.ID, a); err != nil {
				return err
			}
		case "stripe":
			f.Status = "pending"
		}
		change := `refunded = refunded + $3`
		if p.Status == PayPending {
			change, f.Status = `amount = amount - $3`, "uncollected"
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET `+change+`, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, p.ID, part, tx.Now()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refunds (tenant_id, id, order_id, return_id, payment_id, amount, points, status, reference, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, o.TenantID, f.ID, o.ID, r.ID, p.ID, part, f.Points, f.Status, "", tx.Now()); err != nil {
			return err
		}
		if p.Status == PayPending {
			o.Payments[i].Amount -= part
		} else {
			o.Payments[i].Refunded += part
		}
		r.RefundTotal += part
		if p.Provider != "exchange" {
			r.Refunds = append(r.Refunds, f)
			continue
		}
		passed, err := refundExchange(ctx, tx, o.TenantID, p, part, r, a)
		if err != nil {
			return err
		}
		r.Refunds = append(r.Refunds, passed...)
	}
	return nil
}

// refundPoints gives points spent on an order back to the lots they came
// from, with their original expiry: the slice of the hold's takes after
// what earlier refunds gave back.
func refundPoints(ctx context.Context, tx *Tx, o *Order, p Payment, t order.Tender, points int64, returnID string, a Actor) error {
	h, err := findHold(ctx, tx, o.TenantID, "id", p.Reference, true)
	if err != nil {
		return err
	}
	takes, owners, err := entryTakes(ctx, tx, o.TenantID, h.HoldEntryID)
	if err != nil {
		return err
	}
	already, _ := loyalty.MulDiv(t.Points, t.Refunded, t.Captured)
	for _, owner := range owners {
		if _, _, err := loadMember(ctx, tx, o.TenantID, owner, true); err != nil {
			return err
		}
	}
	_, err = restoreLots(ctx, tx, restore{TenantID: o.TenantID, Kind: loyalty.EntryRestore, CustomerID: h.CustomerID,
		Key: "refund:" + returnID + ":" + p.ID, Reason: "refunded with return " + id.Format(id.Return, returnID), Actor: a.Actor,
		From: loyalty.Account{Kind: loyalty.AccountRedeemed}}, sliceTakes(takes, already, points), tx.Now())
	return err
}

// sliceTakes returns the takes covering points [from, from+n) of takes in
// their order.
func sliceTakes(takes []lotTake, from, n int64) []lotTake {
	var out []lotTake
	pos := int64(0)
	for _, t := range takes {
		lo, hi := max(pos, from), min(pos+t.Points, from+n)
		if hi > lo {
			t.Points = hi - lo
			out = append(out, t)
		}
		pos += t.Points
	}
	return out
}

// restock puts returned units back on hand where they are returned (or,
// by post, at the location that shipped them); written-off units stay off.
func restock(ctx context.Context, tx *Tx, o *Order, p ReturnParams, returnID string) error {
	for i, l := range p.Lines {
		if !l.Restock {
			continue
		}
		loc := p.LocationID
		if loc == "" {
			loc = shippedFrom(o, l.LineNo)
		}
		if loc == "" {
			return apperr.Field(fmt.Sprintf("body.lines[%d].restock", i), "the line never left a location; name the store it is returned at", true)
		}
		if err := RecordMovement(ctx, tx, StockMovement{TenantID: o.TenantID, SKU: o.Lines[l.LineNo-1].SKU, LocationID: loc,
			Kind: "return", Quantity: l.Quantity, Reference: "return:" + returnID, Key: fmt.Sprintf("return:%s:%d", returnID, l.LineNo), Actor: p.Actor.Actor}); err != nil {
			return err
		}
	}
	return nil
}

func shippedFrom(o *Order, lineNo int) string {
	for _, s := range o.Shipments {
		for _, l := range s.Lines {
			if l.LineNo == lineNo {
				return s.LocationID
			}
		}
	}
	return ""
}

// recordOrderReturn records the return as a return transaction linked to
// the order's sale: loyalty claws back what the lines earned.
func recordOrderReturn(ctx context.Context, tx *Tx, t tenant.Tenant, o *Order, p ReturnParams, r *Return) error {
	rp := RecordParams{TenantID: o.TenantID, Kind: transaction.KindReturn, SalesChannelCode: o.SalesChannel,
		ExternalID: "return:" + id.Format(id.Return, r.ID), OccurredAt: tx.Now(), Currency: o.Currency, TaxInclusive: o.Totals.TaxIncluded,
		CustomerID: o.CustomerID, Source: "returns", Original: &OriginalRef{TransactionID: o.TransactionID}, Actor: p.Actor}
	for _, l := range p.Lines {
		ol := o.Lines[l.LineNo-1]
		part := order.OrderLine{LineNo: ol.LineNo, Quantity: ol.Quantity, Total: ol.Total, Returned: ol.Returned - l.Quantity}
		total := order.LineRefund(part, l.Quantity)
		rp.Lines = append(rp.Lines, returnLine(ol, l.Quantity, total, o.Totals.TaxIncluded))
	}
	for _, f := range r.Refunds {
		rp.Tenders = append(rp.Tenders, transaction.Tender{Type: tenderType(Payment{Method: f.Method}), Amount: f.Amount})
	}
	if r.ExchangeCredit > 0 {
		rp.Tenders = append(rp.Tenders, transaction.Tender{Type: "store_credit", Amount: r.ExchangeCredit})
	}
	if r.ShippingRefund > 0 {
		l := deliveryLine(o.Totals)
		l.OriginalLine = len(o.Lines) + 1
		rp.Lines = append(rp.Lines, l)
	}
	res, err := recordOrderTransaction(ctx, tx, t, rp)
	if err != nil {
		return err
	}
	r.TransactionID, r.Loyalty = res.Transaction.ID, res.Loyalty
	return nil
}

// returnLine is a transaction line giving back quantity units of an order
// line worth total (tax included): unit price and discount chosen so that
// the line's computed total is exactly total.
func returnLine(ol OrderLine, quantity, total int64, taxInclusive bool) transaction.Line {
	tax, _ := loyalty.MulDiv(ol.Tax, quantity, ol.Quantity)
	net := total
	if !taxInclusive {
		net = total - tax
	}
	gross := ol.UnitPrice * quantity
	return transaction.Line{SKU: ol.SKU, Name: ol.Name, Category: saleCategory(ol.LineTotal), Quantity: quantity, UnitPrice: ol.UnitPrice,
		Discount: gross - net, Tax: tax, OriginalLine: ol.LineNo}
}
