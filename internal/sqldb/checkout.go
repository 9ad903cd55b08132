package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/routing"
	"github.com/omo-platform/omo/internal/tenant"
	"github.com/omo-platform/omo/internal/transaction"
)

// Payer takes the money part of a checkout through a payment provider. The
// api layer adapts the providers of internal/payment to it; storage never
// talks to the network itself.
type Payer interface {
	Pay(ctx context.Context, r PayRequest) (PayResult, error)
	// Cancel voids a payment whose order could not be placed; account is
	// the provider account it was taken on ("" for the platform's own).
	Cancel(ctx context.Context, provider, reference, account string) error
	Refund(ctx context.Context, r RefundRequest) (PayResult, error)
}

// PayRequest is a payment to take for an order.
type PayRequest struct {
	OrderID, Currency, Method, PaymentMethod, ReturnURL, Customer, IdempotencyKey string
	Amount                                                                        int64
}

// RefundRequest gives money back through the provider (and account) that
// took it.
type RefundRequest struct {
	Provider, Reference, Account, Reason, IdempotencyKey string
	Amount                                               int64
}

// Payment outcomes a Payer reports.
const (
	PaySucceeded = "succeeded" // captured
	PayPending   = "pending"   // offline: collected in store or on delivery
	PayAction    = "requires_action"
	PayFailed    = "failed"
)

// PayResult is what the provider answered.
type PayResult struct {
	Provider      string `json:"provider"`
	Account       string `json:"-"` // the provider account it was taken on (Stripe Connect)
	Reference     string `json:"reference,omitempty"`
	Status        string `json:"status"`
	Captured      int64  `json:"captured"`
	ClientSecret  string `json:"client_secret,omitempty"`
	NextActionURL string `json:"next_action_url,omitempty"`
	FailureCode   string `json:"failure_code,omitempty"`
	FailureReason string `json:"failure_message,omitempty"`
}

// CompleteParams completes a cart into an order.
type CompleteParams struct {
	TenantID, CartID string
	Method           string // payment method: card, alipay, wechat_pay, pay_in_store, cash_on_delivery, paid_at_pos
	PaymentMethod    string // the provider's token (Stripe pm_…)
	ReturnURL        string
	ExpectedTotal    *int64 // when given, a total that moved since the shopper saw it is a Conflict
	Actor
}

var errCartMoved = errors.New("sqldb: the cart changed during checkout")

// maxRoutings bounds how often a checkout routes its cart when other
// orders take the stock it was routed to.
const maxRoutings = 4

// CompleteCart turns an open cart into an order, atomically: the stock is
// reserved where routing decided, the coupons used, the points captured,
// the order and its shipments created and the sale recorded (earning
// points), or nothing at all. A completed cart answers with its order and
// created=false, so a retried completion never makes a second order. The
// payment is taken before the database transaction with an idempotency key
// of the cart's version, and voided if the order cannot be placed.
func (db *DB) CompleteCart(ctx context.Context, p CompleteParams, payer Payer) (*Order, bool, error) {
	c, err := db.FindCart(ctx, p.TenantID, p.CartID)
	if err != nil {
		return nil, false, err
	}
	if c.Status == order.CartCompleted {
		o, err := db.FindOrder(ctx, p.TenantID, c.OrderID)
		return o, false, err
	}
	if err := readyToComplete(&c); err != nil {
		return nil, false, err
	}
	priced, err := db.PriceCart(ctx, c)
	if err != nil {
		return nil, false, err
	}
	if p.ExpectedTotal != nil && *p.ExpectedTotal != priced.Totals.Total {
		return nil, false, apperr.New(apperr.Conflict, "the total is now %d, not %d: show the shopper the new total", priced.Totals.Total, *p.ExpectedTotal)
	}
	plan, err := db.routeCart(ctx, &c)
	if err != nil {
		return nil, false, err
	}
	// Read before the write transaction: on PostgreSQL a read from the pool
	// inside it could wait for a connection that transactions holding row
	// locks it needs will never give back.
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, false, err
	}
	settings, err := db.CommerceSettings(ctx, p.TenantID)
	if err != nil {
		return nil, false, err
	}
	o := newOrder(&c, priced, plan)
	o.tenant, o.paymentWindow = t, time.Duration(max(settings.PaymentMinutes, 1))*time.Minute
	pay, err := db.payExchange(ctx, payer, p, &c, o)
	if err != nil {
		return nil, false, err
	}
	err = db.placeRouted(ctx, p, &c, priced, o, pay)
	if err == nil {
		if pay.Status == PayAction {
			o.NextAction = &pay
		}
		if r := o.exchangeReturn; r != nil {
			err = db.providerRefunds(ctx, p.TenantID, "exchanged for order "+id.Format(id.Order, o.ID), r, payer)
		}
		return o, true, err
	}
	if pay.Reference != "" && pay.Status != PayFailed {
		if cerr := payer.Cancel(context.WithoutCancel(ctx), pay.Provider, pay.Reference, pay.Account); cerr != nil {
			err = fmt.Errorf("%w (and voiding payment %s failed: %v)", err, pay.Reference, cerr)
		}
	}
	if errors.Is(err, errCartMoved) {
		if again, ferr := db.FindCart(ctx, p.TenantID, p.CartID); ferr == nil && again.Status == order.CartCompleted {
			o, err := db.FindOrder(ctx, p.TenantID, again.OrderID)
			return o, false, err
		}
		return nil, false, apperr.New(apperr.Conflict, "the cart changed while it was being completed; review it and complete again")
	}
	return nil, false, err
}

// payExchange takes the payment (db.pay), refusing for an exchange a
// payment that may still fail: the exchanged items come back when the
// order is placed, and would stay returned for an order that never happens.
func (db *DB) payExchange(ctx context.Context, payer Payer, p CompleteParams, c *order.Cart, o *Order) (PayResult, error) {
	pay, err := db.pay(ctx, payer, p, o)
	if err == nil && c.Exchange != nil && pay.Status == PayAction {
		err = apperr.New(apperr.Conflict, "an exchange's difference must be paid at once (card without a redirect, or in store), not by %s", p.Method)
		if pay.Reference != "" {
			_ = payer.Cancel(context.WithoutCancel(ctx), pay.Provider, pay.Reference, pay.Account)
		}
	}
	return pay, err
}

// placeRouted places the order in one write transaction. When other
// orders took the units routing counted on between its read and this
// write, it routes the cart again on the stock left (another location may
// have them) and retries: each retry follows someone else's reservation,
// so a few suffice, and totals do not depend on where the goods come from.
func (db *DB) placeRouted(ctx context.Context, p CompleteParams, c *order.Cart, priced *PricedCart, o *Order, pay PayResult) error {
	for attempt := 1; ; attempt++ {
		err := db.WriteTx(ctx, func(tx *Tx) error {
			o.Shipments, o.Payments, o.Loyalty, o.Exchange, o.exchangeReturn = nil, nil, nil, nil, nil
			return placeOrder(ctx, tx, p, c, priced, o, pay)
		})
		var short *StockShortage
		if err == nil || attempt == maxRoutings || !errors.As(err, &short) {
			return err
		}
		if o.Routing, err = db.routeCart(ctx, c); err != nil {
			return err
		}
	}
}

func readyToComplete(c *order.Cart) error {
	if len(c.Lines) == 0 {
		return apperr.New(apperr.Conflict, "the cart is empty")
	}
	if c.Delivery == nil {
		for _, l := range c.Lines {
			if l.Fulfilment != order.TakeNow {
				return apperr.Field("cart.delivery", "choose a delivery (PUT /v1/carts/{id}/delivery) before checkout", nil)
			}
		}
	}
	if c.Points > 0 && c.CustomerID == "" {
		return apperr.Field("cart.points", "points need a customer on the cart", c.Points)
	}
	return nil
}

// pay takes the money the points and coupons leave due.
func (db *DB) pay(ctx context.Context, payer Payer, p CompleteParams, o *Order) (PayResult, error) {
	if o.Totals.Due == 0 {
		return PayResult{Provider: "none", Status: PaySucceeded}, nil
	}
	if p.Method == "" {
		return PayResult{}, apperr.Field("body.payment.method", "how the shopper pays the amount due", nil)
	}
	res, err := payer.Pay(ctx, PayRequest{OrderID: id.Format(id.Order, o.ID), Currency: o.Currency, Method: p.Method,
		PaymentMethod: p.PaymentMethod, ReturnURL: p.ReturnURL, Customer: o.Email, Amount: o.Totals.Due,
		IdempotencyKey: "checkout:" + o.CartID + ":" + strconv.FormatInt(o.cartVersion, 10)})
	if err != nil {
		return res, err
	}
	if res.Status == PayFailed {
		return res, &apperr.Error{Kind: apperr.PaymentFailed, Message: fmt.Sprintf("the payment was declined (%s): %s; nothing was charged, held or used",
			res.FailureCode, res.FailureReason)}
	}
	return res, nil
}

// routeCart decides where each line comes from, with the brand's active
// rules over the stock the cart's sales channel may sell (units the cart
// itself holds count as available to it). Lines no location can fill are
// a Conflict carrying the routing trace.
func (db *DB) routeCart(ctx context.Context, c *order.Cart) (routing.Plan, error) {
	rules, version, err := db.ActiveRoutingRules(ctx, c.TenantID)
	if err != nil {
		return routing.Plan{}, err
	}
	locs, err := db.RoutingLocations(ctx, db.Read(), c.TenantID, db.Now())
	if err != nil {
		return routing.Plan{}, err
	}
	stock, err := db.AvailableStock(ctx, db.Read(), c.TenantID, c.SalesChannel, c.SKUs())
	if err != nil {
		return routing.Plan{}, err
	}
	for _, h := range c.Held {
		if stock[h.LocationID] == nil {
			stock[h.LocationID] = map[string]int64{}
		}
		stock[h.LocationID][h.SKU] += h.Quantity
	}
	plan := routing.Route(rules, routingOrder(c), locs, stock)
	plan.RuleVersion = version
	if len(plan.Unfilled) > 0 {
		var why []string
		for _, u := range plan.Unfilled {
			why = append(why, fmt.Sprintf("%s × %d: %s", u.SKU, u.Quantity, u.Reason))
		}
		return plan, &apperr.Error{Kind: apperr.Conflict, Message: "not every line can be fulfilled: " + strings.Join(why, "; ")}
	}
	return plan, nil
}

func routingOrder(c *order.Cart) routing.Order {
	o := routing.Order{SaleLocationID: c.LocationID}
	if d := c.Delivery; d != nil {
		o.Delivery = routing.Delivery{Method: d.Method, LocationID: d.LocationID}
		if a := d.Address; a != nil {
			o.Delivery.Country = a.Country
			if a.Point != nil {
				o.Delivery.Point = &routing.Point{Latitude: a.Point.Lat, Longitude: a.Point.Lon}
			}
		}
	} else {
		o.Delivery = routing.Delivery{Method: order.TakeNow, LocationID: c.LocationID}
	}
	for _, l := range c.Lines {
		rl := routing.Line{Key: l.ID, SKU: l.SKU, Quantity: l.Quantity}
		if l.Fulfilment == order.TakeNow {
			rl.Method = order.TakeNow
		}
		o.Lines = append(o.Lines, rl)
	}
	return o
}

// holdLines are the stock a plan reserves, per location and SKU.
func holdLines(plan routing.Plan) []StockHoldLine {
	var out []StockHoldLine
	for _, s := range plan.Shipments {
		for _, l := range s.Lines {
			out = append(out, StockHoldLine{SKU: l.SKU, LocationID: s.LocationID, Quantity: l.Quantity})
		}
	}
	return out
}

func newOrder(c *order.Cart, priced *PricedCart, plan routing.Plan) *Order {
	o := &Order{TenantID: c.TenantID, ID: id.New(), CartID: c.ID, CustomerID: c.CustomerID, Email: c.Email, SalesChannel: c.SalesChannel,
		LocationID: c.LocationID, AssociateID: c.AssociateID, Currency: c.Currency, Totals: priced.Totals, Delivery: c.Delivery,
		Points: c.Points, Routing: plan, cartVersion: c.Version}
	for i, l := range priced.Totals.Lines {
		o.Lines = append(o.Lines, OrderLine{LineNo: i + 1, LineTotal: l})
	}
	for _, cc := range priced.Coupons {
		o.Coupons = append(o.Coupons, cc.Offer.Code)
	}
	return o
}

// placeOrder writes everything a checkout does, in the caller's
// transaction.
func placeOrder(ctx context.Context, tx *Tx, p CompleteParams, c *order.Cart, priced *PricedCart, o *Order, pay PayResult) error {
	now := tx.Now()
	o.CreatedAt, o.UpdatedAt = now, now
	n, err := tx.Exec(ctx, `UPDATE carts SET status = 'completed', order_id = $3, version = version + 1, updated_at = $4
		WHERE tenant_id = $1 AND id = $2 AND status = 'open' AND version = $5`, c.TenantID, c.ID, o.ID, now, c.Version)
	if err != nil {
		return err
	}
	if n == 0 {
		return errCartMoved
	}
	if c.HoldID != "" {
		if err := ReleaseReservation(ctx, tx, c.TenantID, c.HoldID, ""); err != nil {
			return err
		}
	}
	if o.ReservationID, err = ReserveStock(ctx, tx, StockHold{TenantID: c.TenantID, Ref: "order:" + o.ID, SalesChannel: c.SalesChannel,
		Reason: "order", Lines: holdLines(o.Routing)}); err != nil {
		return err
	}
	if err := UseCapacity(ctx, tx, c.TenantID, o.Routing.CapacityLocationIDs(), now); err != nil {
		return err
	}
	locationCode, err := saleLocationCode(ctx, tx, c)
	if err != nil {
		return err
	}
	for _, cc := range priced.Coupons {
		if err := useCoupon(ctx, tx, CouponUseParams{TenantID: c.TenantID, Code: cc.Offer.Code, Reference: "order:" + o.ID,
			CustomerID: c.CustomerID, LocationCode: locationCode, SalesChannelCode: c.SalesChannel, Actor: p.Actor}, &CouponUse{}); err != nil {
			return apperr.New(apperr.Conflict, "coupon %s: %s", cc.Offer.Code, apperr.Summary(err))
		}
	}
	paid := pay.Status == PaySucceeded || pay.Status == PayPending
	if err := takePoints(ctx, tx, c, o, paid, p.Actor); err != nil {
		return err
	}
	if c.Exchange != nil {
		if err := exchangeIn(ctx, tx, c, o, p.Actor); err != nil {
			return err
		}
	}
	if err := insertPayment(ctx, tx, o, pay, p.Method); err != nil {
		return err
	}
	o.PaymentStatus = map[string]string{PaySucceeded: PaymentPaid, PayPending: PaymentCollect, PayAction: PaymentAwaiting}[pay.Status]
	if !paid {
		due := now.Add(o.paymentWindow)
		o.PaymentDueAt = &due
	}
	if err := insertShipments(ctx, tx, o); err != nil {
		return err
	}
	o.Status = orderStatus(o)
	if paid {
		if err := recordOrderSale(ctx, tx, o, locationCode, p.Actor); err != nil {
			return err
		}
	}
	if err := insertOrder(ctx, tx, o); err != nil {
		return err
	}
	return recordOrderEvent(ctx, tx, c.TenantID, o.ID, "order.placed", p.Actor, map[string]any{"cart_id": id.Format(id.Cart, c.ID),
		"total": o.Totals.Total, "due": o.Totals.Due, "points": o.Points, "coupons": o.Coupons, "payment": pay.Status,
		"shipments": len(o.Shipments), "split": o.Routing.Split()})
}

func orderStatus(o *Order) string {
	states := make([]string, len(o.Shipments))
	for i, s := range o.Shipments {
		states[i] = s.Status
	}
	return order.Status(o.PaymentStatus != PaymentAwaiting && o.PaymentStatus != PaymentFailed, states)
}

// saleLocationCode is the code of the store a sale is credited to (the
// cart's store), "" for an online sale.
func saleLocationCode(ctx context.Context, tx *Tx, c *order.Cart) (string, error) {
	if c.LocationID == "" {
		return "", nil
	}
	loc, err := findLocation(ctx, tx, c.TenantID, "id", c.LocationID)
	return loc.Code, err
}

// takePoints holds the cart's points as a tender and captures them when
// the order is paid (an asynchronous payment captures them on its
// confirmation, or releases them on its failure).
func takePoints(ctx context.Context, tx *Tx, c *order.Cart, o *Order, paid bool, a Actor) error {
	if c.Points == 0 {
		return nil
	}
	h, _, err := holdTx(ctx, tx, HoldParams{TenantID: c.TenantID, CustomerID: c.CustomerID, Points: c.Points, Currency: c.Currency,
		Reference: "order:" + o.ID, TTL: MaxHoldTTL, Actor: a})
	if err != nil {
		return err
	}
	o.HoldID = h.ID
	status := "held"
	if paid {
		if _, err := settleHoldTx(ctx, tx, c.TenantID, h.ID, HoldCaptured, a.Actor); err != nil {
			return err
		}
		status = PaySucceeded
	}
	captured := int64(0)
	if paid {
		captured = h.Amount
	}
	o.Payments = append(o.Payments, Payment{ID: id.New(), Provider: "points", Method: "points", Reference: h.ID, Status: status,
		Amount: h.Amount, Captured: captured, Points: h.Points, CreatedAt: tx.Now()})
	return nil
}

func insertPayment(ctx context.Context, tx *Tx, o *Order, pay PayResult, method string) error {
	if o.Totals.Due > 0 {
		o.Payments = append(o.Payments, Payment{ID: id.New(), Provider: pay.Provider, Method: method, Reference: pay.Reference,
			Account: pay.Account, Status: pay.Status, Amount: o.Totals.Due, Captured: pay.Captured, CreatedAt: tx.Now()})
	}
	for _, p := range o.Payments {
		if _, err := tx.Exec(ctx, `INSERT INTO payments (tenant_id, id, order_id, provider, method, reference, account, status, amount, captured, points,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`, o.TenantID, p.ID, o.ID, p.Provider, p.Method,
			p.Reference, p.Account, p.Status, p.Amount, p.Captured, p.Points, p.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

// insertShipments creates a shipment per routed location. Take-now goods
// leave the shelf at once: their reservation becomes a sale and the
// shipment is picked up.
func insertShipments(ctx context.Context, tx *Tx, o *Order) error {
	lineNo := map[string]int{}
	for _, l := range o.Lines {
		lineNo[l.LineID] = l.LineNo
	}
	now := tx.Now()
	for _, rs := range o.Routing.Shipments {
		s := Shipment{ID: id.New(), OrderID: o.ID, LocationID: rs.LocationID, Method: rs.Method, Status: order.Allocated, CreatedAt: now, UpdatedAt: now}
		for _, l := range rs.Lines {
			s.Lines = append(s.Lines, ShipmentLine{LineNo: lineNo[l.Key], SKU: l.SKU, Quantity: l.Quantity})
		}
		if s.Method == order.TakeNow && o.PaymentStatus != PaymentAwaiting {
			if err := handOver(ctx, tx, o, &s); err != nil {
				return err
			}
		}
		s.Next = order.Next(s.Method, s.Status)
		lines, _ := json.Marshal(s.Lines)
		if _, err := tx.Exec(ctx, `INSERT INTO shipments (tenant_id, id, order_id, location_id, method, status, lines, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, o.TenantID, s.ID, o.ID, s.LocationID, s.Method, s.Status, string(lines), now); err != nil {
			return err
		}
		o.Shipments = append(o.Shipments, s)
	}
	return nil
}

// handOver gives take-now goods to the customer at the counter: their
// reservation becomes a sale and the shipment is picked up.
func handOver(ctx context.Context, tx *Tx, o *Order, s *Shipment) error {
	if err := CommitReservation(ctx, tx, o.TenantID, o.ReservationID, s.LocationID, s.ID); err != nil {
		return err
	}
	s.Status = order.PickedUp
	return nil
}

func insertOrder(ctx context.Context, tx *Tx, o *Order) error {
	_, err := tx.Exec(ctx, `INSERT INTO orders (tenant_id, id, cart_id, customer_id, sales_channel_code, location_id, associate_id, currency,
		status, payment_status, total, doc, reservation_id, hold_id, payment_due_at, transaction_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)`, o.TenantID, o.ID, o.CartID, o.CustomerID,
		o.SalesChannel, o.LocationID, o.AssociateID, o.Currency, o.Status, o.PaymentStatus, o.Totals.Total, o.docJSON(), o.ReservationID,
		o.HoldID, o.PaymentDueAt, o.TransactionID, o.CreatedAt)
	return err
}

// recordOrderSale records the order as a purchase transaction, so that
// loyalty, profiles and analytics treat it as any sale: shipping is a
// "delivery" line, points and the provider's payment are its tenders.
func recordOrderSale(ctx context.Context, tx *Tx, o *Order, locationCode string, a Actor) error {
	res, err := recordOrderTransaction(ctx, tx, o.tenant, saleParams(o, locationCode, a))
	if err != nil {
		return err
	}
	o.TransactionID, o.Loyalty = res.Transaction.ID, res.Loyalty
	return nil
}

// recordOrderTransaction records a sale or return of an order as any
// transaction is recorded (checked, applied, its facts enqueued), in the
// caller's transaction.
func recordOrderTransaction(ctx context.Context, tx *Tx, t tenant.Tenant, p RecordParams) (*RecordResult, error) {
	totals, claims, err := checkRecord(&p, t, tx.Now())
	if err != nil {
		return nil, err
	}
	res, err := recordTx(ctx, tx, t, p, totals, claims, recordHash(p))
	if err != nil {
		return nil, err
	}
	return res, enqueueRecorded(ctx, tx, t.ID, []string{res.Transaction.ID})
}

// deliveryLine is an order's delivery charge as a transaction line: the
// sale's last line, and what a fully cancelled order gives back.
func deliveryLine(t order.Totals) transaction.Line {
	return transaction.Line{SKU: "DELIVERY", Name: "Delivery", Category: "delivery", Quantity: 1, UnitPrice: t.Shipping,
		Discount: t.ShippingDiscount, Tax: t.ShippingTax}
}

func saleCategory(l order.LineTotal) string {
	if l.GiftCard {
		return "gift_card"
	}
	return l.Category
}

// tenderType maps a payment to the tender types of transactions.
func tenderType(p Payment) string {
	switch p.Method {
	case "points":
		return "points"
	case "card":
		return "card"
	case "alipay", "wechat_pay":
		return "wallet"
	case "pay_in_store", "cash_on_delivery":
		return "cash"
	case "exchange_credit":
		return "store_credit"
	}
	return "other"
}

// CartQuote is what a cart would become at checkout now.
type CartQuote struct {
	Totals        order.Totals
	Routing       routing.Plan
	LoyaltyPoints *int64 // what the sale would earn; nil for a guest or no program
}

// QuoteCart prices and routes a cart as checkout would, and asks the
// loyalty engine what the sale would earn (the same Evaluate the commit
// runs). Lines that cannot be fulfilled are a Conflict with the trace.
func (db *DB) QuoteCart(ctx context.Context, tenantID, cartID string) (*CartQuote, error) {
	c, err := db.FindCart(ctx, tenantID, cartID)
	if err != nil {
		return nil, err
	}
	if err := readyToComplete(&c); err != nil {
		return nil, err
	}
	priced, err := db.PriceCart(ctx, c)
	if err != nil {
		return nil, err
	}
	plan, err := db.routeCart(ctx, &c)
	if err != nil {
		return nil, err
	}
	out := &CartQuote{Totals: priced.Totals, Routing: plan}
	if c.CustomerID == "" {
		return out, nil
	}
	o := newOrder(&c, priced, plan)
	code := ""
	if c.LocationID != "" {
		loc, err := findLocation(ctx, db.Read(), tenantID, "id", c.LocationID)
		if err != nil {
			return nil, err
		}
		code = loc.Code
	}
	p := QuoteParams{TenantID: tenantID, CustomerID: c.CustomerID, SalesChannelCode: c.SalesChannel, LocationCode: code,
		Currency: c.Currency, TaxInclusive: priced.Totals.TaxIncluded}
	o.Payments = []Payment{{Method: "points", Amount: priced.Totals.PointsAmount}, {Method: "card", Amount: priced.Totals.Due}}
	rp := saleParams(o, code, Actor{})
	p.Lines, p.Tenders = rp.Lines, rp.Tenders
	q, err := db.QuoteLoyalty(ctx, p)
	if apperr.Is(err, apperr.NotFound) {
		return out, nil // no loyalty program
	} else if err != nil {
		return nil, err
	}
	points := q.Earning.Points
	out.LoyaltyPoints = &points
	return out, nil
}

// saleParams is the purchase transaction an order records.
func saleParams(o *Order, locationCode string, a Actor) RecordParams {
	p := RecordParams{TenantID: o.TenantID, Kind: transaction.KindPurchase, SalesChannelCode: o.SalesChannel, LocationCode: locationCode,
		ExternalID: "order:" + id.Format(id.Order, o.ID), OccurredAt: o.CreatedAt, Currency: o.Currency, TaxInclusive: o.Totals.TaxIncluded,
		CustomerID: o.CustomerID, AssociateID: o.AssociateID, Source: "checkout", Actor: a}
	for _, l := range o.Lines {
		p.Lines = append(p.Lines, transaction.Line{SKU: l.SKU, Name: l.Name, Category: saleCategory(l.LineTotal), Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, Discount: l.Discount, Tax: l.Tax})
	}
	if o.Totals.Shipping > 0 {
		p.Lines = append(p.Lines, deliveryLine(o.Totals))
	}
	for _, pm := range o.Payments {
		if pm.Amount > 0 {
			p.Tenders = append(p.Tenders, transaction.Tender{Type: tenderType(pm), Amount: pm.Amount, Reference: pm.Reference})
		}
	}
	return p
}

// PastOrderCases turns a tenant's orders placed in [since, until) into
// routing cases, for replaying them under draft rules: each order as it was
// placed (delivery and lines), the tenant's locations now, and the stock
// its sales channel may sell now plus what the order itself took where it
// took it (the stock each order saw is not kept, so this is the nearest
// honest snapshot).
func (db *DB) PastOrderCases(ctx context.Context, tenantID string, since, until time.Time, limit int) ([]routing.Case, error) {
	var orders []*Order
	err := queryEach(ctx, db.Read(), `SELECT `+orderColumns+` FROM orders WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
		ORDER BY id LIMIT $4`, []any{tenantID, since, until, limit}, func(r Rows) error {
		o, err := scanOrder(r, tenantID)
		orders = append(orders, o)
		return err
	})
	if err != nil || len(orders) == 0 {
		return nil, err
	}
	locs, err := db.RoutingLocations(ctx, db.Read(), tenantID, db.Now())
	if err != nil {
		return nil, err
	}
	cases := make([]routing.Case, 0, len(orders))
	for _, o := range orders {
		c := order.Cart{TenantID: tenantID, LocationID: o.LocationID, Delivery: o.Delivery, SalesChannel: o.SalesChannel}
		for _, l := range o.Lines {
			c.Lines = append(c.Lines, order.Line{ID: l.LineID, SKU: l.SKU, Quantity: l.Quantity, Fulfilment: l.Fulfilment})
		}
		stock, err := db.AvailableStock(ctx, db.Read(), tenantID, o.SalesChannel, c.SKUs())
		if err != nil {
			return nil, err
		}
		for _, s := range o.Routing.Shipments {
			if stock[s.LocationID] == nil {
				stock[s.LocationID] = map[string]int64{}
			}
			for _, l := range s.Lines {
				stock[s.LocationID][l.SKU] += l.Quantity
			}
		}
		cases = append(cases, routing.Case{Name: id.Format(id.Order, o.ID), Order: routingOrder(&c), Locations: locs, Stock: stock})
	}
	return cases, nil
}
