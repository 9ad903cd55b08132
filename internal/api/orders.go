package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/routing"
	"github.com/omo-platform/omo/internal/sqldb"
)

// OrderBody is an order as the API shows it.
type OrderBody struct {
	ID            string                  `json:"id" example:"ord_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	CartID        string                  `json:"cart_id,omitempty"`
	Status        string                  `json:"status" enum:"awaiting_payment,open,partially_fulfilled,fulfilled,cancelled"`
	PaymentStatus string                  `json:"payment_status" enum:"paid,to_collect,awaiting_payment,failed,partially_refunded,refunded"`
	CustomerID    string                  `json:"customer_id,omitempty"`
	Email         string                  `json:"email,omitempty"`
	SalesChannel  string                  `json:"sales_channel"`
	LocationID    string                  `json:"location_id,omitempty"`
	AssociateID   string                  `json:"associate_id,omitempty" doc:"the staff member credited"`
	Currency      string                  `json:"currency"`
	Totals        order.Totals            `json:"totals"`
	Lines         []sqldb.OrderLine       `json:"lines"`
	Delivery      *order.Delivery         `json:"delivery,omitempty"`
	Coupons       []string                `json:"coupons"`
	Points        int64                   `json:"points"`
	Shipments     []ShipmentBody          `json:"shipments"`
	Payments      []sqldb.Payment         `json:"payments"`
	Refunded      int64                   `json:"refunded"`
	Exchanged     int64                   `json:"exchanged,omitempty" doc:"what returned items of this order pay of exchange orders"`
	Exchange      *sqldb.OrderExchange    `json:"exchange,omitempty" doc:"the order and return whose items paid (part of) this order"`
	Routing       routing.Plan            `json:"routing" doc:"where each line ships from, and why each location was chosen or skipped"`
	TransactionID string                  `json:"transaction_id,omitempty" doc:"the sale recorded for loyalty and analytics"`
	PaymentDueAt  *time.Time              `json:"payment_due_at,omitempty"`
	Loyalty       *TransactionLoyaltyBody `json:"loyalty,omitempty" doc:"at checkout: what the sale earned"`
	NextAction    *sqldb.PayResult        `json:"next_action,omitempty" doc:"at checkout: what the storefront must do to finish the payment"`
	CreatedAt     time.Time               `json:"created_at"`
	UpdatedAt     time.Time               `json:"updated_at"`
}

// ShipmentBody is a shipment with the moves it may make next.
type ShipmentBody struct {
	sqldb.Shipment
	ID         string `json:"id"`
	OrderID    string `json:"order_id"`
	LocationID string `json:"location_id"`
}

func orderBody(o *sqldb.Order) OrderBody {
	b := OrderBody{ID: id.Format(id.Order, o.ID), CartID: id.Format(id.Cart, o.CartID), Status: o.Status, PaymentStatus: o.PaymentStatus,
		CustomerID: id.Format(id.Customer, o.CustomerID), Email: o.Email, SalesChannel: o.SalesChannel, LocationID: id.Format(id.Location, o.LocationID),
		AssociateID: o.AssociateID, Currency: o.Currency, Totals: o.Totals, Lines: o.Lines, Delivery: o.Delivery, Coupons: o.Coupons,
		Points: o.Points, Payments: o.Payments, Refunded: o.Refunded, Routing: o.Routing, TransactionID: id.Format(id.Transaction, o.TransactionID),
		PaymentDueAt: o.PaymentDueAt, NextAction: o.NextAction, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Shipments: []ShipmentBody{},
		Exchanged: o.Exchanged}
	if e := o.Exchange; e != nil {
		b.Exchange = &sqldb.OrderExchange{OrderID: id.Format(id.Order, e.OrderID), ReturnID: id.Format(id.Return, e.ReturnID)}
	}
	if b.Coupons == nil {
		b.Coupons = []string{}
	}
	for _, s := range o.Shipments {
		b.Shipments = append(b.Shipments, shipmentBody(s))
	}
	for i := range b.Payments {
		b.Payments[i].ID = id.Format(id.Payment, b.Payments[i].ID)
		if b.Payments[i].Provider == "exchange" {
			b.Payments[i].Reference = id.Format(id.Order, b.Payments[i].Reference)
		}
	}
	if o.Loyalty != nil {
		b.Loyalty = transactionLoyalty(o.Loyalty, "purchase", false)
	}
	return b
}

func shipmentBody(s sqldb.Shipment) ShipmentBody {
	return ShipmentBody{Shipment: s, ID: id.Format(id.Shipment, s.ID), OrderID: id.Format(id.Order, s.OrderID), LocationID: id.Format(id.Location, s.LocationID)}
}

type orderOutput struct {
	Status int
	Body   OrderBody
}

type completeInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body struct {
		Payment struct {
			Method        string `json:"method,omitempty" enum:"card,alipay,wechat_pay,pay_in_store,cash_on_delivery,paid_at_pos," doc:"how the amount due is paid; not needed when points and coupons pay it all"`
			PaymentMethod string `json:"payment_method,omitempty" doc:"the provider's token, e.g. Stripe pm_…"`
			ReturnURL     string `json:"return_url,omitempty" doc:"where Alipay / WeChat Pay send the shopper back"`
		} `json:"payment,omitempty" doc:"not needed when points, coupons or an exchange pay it all"`
		ExpectedTotal *int64 `json:"expected_total,omitempty" doc:"the total the shopper saw; a different one now is a 409"`
	}
}

// CartQuoteBody is what a cart would become at checkout now.
type CartQuoteBody struct {
	Totals  order.Totals         `json:"totals"`
	Routing routing.Plan         `json:"routing"`
	Loyalty *CheckoutLoyaltyBody `json:"loyalty,omitempty" doc:"points the order would earn (members only)"`
}

// CheckoutLoyaltyBody is the loyalty quote of a cart.
type CheckoutLoyaltyBody struct {
	Points int64 `json:"points"`
}

type cartQuoteOutput struct {
	Body CartQuoteBody
}

type orderIDInput struct {
	ID string `path:"id" doc:"order id, ord_…"`
}

type listOrdersInput struct {
	PageParams
	CustomerID string `query:"customer_id" doc:"cus_…"`
	Status     string `query:"status"`
}

type listOrdersOutput struct {
	Body Page[OrderBody]
}

type orderEventsOutput struct {
	Body struct {
		Data []sqldb.OrderEvent `json:"data"`
	}
}

type moveShipmentInput struct {
	ID   string `path:"id" doc:"shipment id, shp_…"`
	Body struct {
		Status         string `json:"status" enum:"picking,packed,shipped,delivered,ready_for_pickup,picked_up,cancelled"`
		Carrier        string `json:"carrier,omitempty" maxLength:"100"`
		TrackingNumber string `json:"tracking_number,omitempty" maxLength:"100"`
	}
}

type pickListInput struct {
	ID string `path:"id" doc:"location id, loc_…"`
}

type pickListOutput struct {
	Body struct {
		LocationID string           `json:"location_id"`
		Lines      []sqldb.PickLine `json:"lines"`
	}
}

type returnInput struct {
	ID   string `path:"id" doc:"order id, ord_…"`
	Body struct {
		LocationID string             `json:"location_id,omitempty" doc:"loc_…: the store it is returned at; omit for a return by post"`
		Lines      []sqldb.ReturnItem `json:"lines" minItems:"1" maxItems:"500"`
		Reason     string             `json:"reason,omitempty" maxLength:"500"`
	}
}

type cancelOrderInput struct {
	ID   string `path:"id" doc:"order id, ord_…"`
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

// ReturnBody is a recorded return with its refunds.
type ReturnBody struct {
	sqldb.Return
	ID      string                  `json:"id"`
	OrderID string                  `json:"order_id"`
	Loyalty *TransactionLoyaltyBody `json:"loyalty,omitempty" doc:"points clawed back and given back"`
}

type returnOutput struct {
	Status int
	Body   ReturnBody
}

type settingsOutput struct {
	Body order.Settings
}

type settingsInput struct {
	Body order.Settings
}

func (s *server) orderRoutes() {
	tags := []string{"Orders"}
	huma.Register(s.api, huma.Operation{OperationID: "complete-cart", Method: http.MethodPost, Path: "/v1/carts/{id}/complete",
		Summary: "Check out", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Atomically: stock reserved where routing decides, coupons used, points captured, the order and its shipments created and " +
			"the sale recorded (earning points), or nothing at all. A retried completion answers 200 with the same order, never a second one. " +
			"A declined payment is a 402 and changes nothing."}, s.completeCart)
	huma.Register(s.api, huma.Operation{OperationID: "quote-cart", Method: http.MethodPost, Path: "/v1/carts/{id}/quote",
		Summary: "Quote a checkout", Tags: tags, Description: "Totals, where each line would ship from and why, and the points the order would earn."}, s.quoteCart)
	huma.Register(s.api, huma.Operation{OperationID: "get-order", Method: http.MethodGet, Path: "/v1/orders/{id}", Summary: "Get an order", Tags: tags}, s.getOrder)
	huma.Register(s.api, huma.Operation{OperationID: "list-orders", Method: http.MethodGet, Path: "/v1/orders", Summary: "List orders, newest first", Tags: tags}, s.listOrders)
	huma.Register(s.api, huma.Operation{OperationID: "list-order-events", Method: http.MethodGet, Path: "/v1/orders/{id}/events",
		Summary: "An order's history", Description: "Every change of the order: who, when, what.", Tags: tags}, s.orderEvents)
	huma.Register(s.api, huma.Operation{OperationID: "move-shipment", Method: http.MethodPost, Path: "/v1/shipments/{id}/status",
		Summary: "Move a shipment along its fulfilment states", Tags: tags,
		Description: "allocated → picking → packed → shipped → delivered (ship to an address); … → ready_for_pickup → picked_up (collection); " +
			"cancelled before the goods leave. Anything else is a 409 naming the allowed moves."}, s.moveShipment)
	huma.Register(s.api, huma.Operation{OperationID: "pick-list", Method: http.MethodGet, Path: "/v1/locations/{id}/pick_list",
		Summary: "What a location must pick", Tags: tags}, s.pickList)
	huma.Register(s.api, huma.Operation{OperationID: "return-order", Method: http.MethodPost, Path: "/v1/orders/{id}/returns",
		Summary: "Return part of an order", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "At any store or by post. Refunds go back per tender in proportion, never beyond what a tender captured; points paid come " +
			"back as points, points earned on the lines are clawed back; each line is restocked or written off."}, s.returnOrder)
	huma.Register(s.api, huma.Operation{OperationID: "cancel-order", Method: http.MethodPost, Path: "/v1/orders/{id}/cancel",
		Summary: "Cancel what is left of an order", Tags: tags,
		Description: "Every shipment that has not left its location (or been handed over) is cancelled in one transaction: its stock goes back " +
			"and, on a paid order, its lines are refunded per tender as a return would (points paid back as points, points earned clawed " +
			"back). An order awaiting its payment is cancelled and the provider's payment voided. Nothing left to cancel is a 409."}, s.cancelOrder)
	huma.Register(s.api, huma.Operation{OperationID: "get-commerce-settings", Method: http.MethodGet, Path: "/v1/commerce/settings",
		Summary: "Commerce settings", Tags: tags}, s.getCommerceSettings)
	huma.Register(s.api, huma.Operation{OperationID: "put-commerce-settings", Method: http.MethodPut, Path: "/v1/commerce/settings",
		Summary: "Set shipping rates, promotions and tax", Tags: tags}, s.putCommerceSettings)
	s.mux.HandleFunc("POST /webhooks/stripe/{tenant}", s.stripeWebhook)
	s.mux.HandleFunc("POST /webhooks/stripe", s.stripeConnectWebhook)
}

func (s *server) completeCart(ctx context.Context, in *completeInput) (*orderOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pay := in.Body.Payment
	pr, err := s.payerFor(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	o, created, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: p.TenantID, CartID: cid, Method: pay.Method,
		PaymentMethod: pay.PaymentMethod, ReturnURL: pay.ReturnURL, ExpectedTotal: in.Body.ExpectedTotal, Actor: actor(ctx, p)}, pr)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &orderOutput{Status: status, Body: orderBody(o)}, nil
}

func (s *server) quoteCart(ctx context.Context, in *cartIDInput) (*cartQuoteOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersRead, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	q, err := s.db.QuoteCart(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &cartQuoteOutput{Body: CartQuoteBody{Totals: q.Totals, Routing: q.Routing}}
	if q.LoyaltyPoints != nil {
		out.Body.Loyalty = &CheckoutLoyaltyBody{Points: *q.LoyaltyPoints}
	}
	return out, nil
}

func (s *server) getOrder(ctx context.Context, in *orderIDInput) (*orderOutput, error) {
	p, oid, err := principalWithID(ctx, auth.ScopeOrdersRead, id.Order, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	o, err := s.db.FindOrder(ctx, p.TenantID, oid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &orderOutput{Status: http.StatusOK, Body: orderBody(o)}, nil
}

func (s *server) listOrders(ctx context.Context, in *listOrdersInput) (*listOrdersOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	f := sqldb.OrderFilter{TenantID: p.TenantID, Status: in.Status, Limit: in.limit() + 1}
	if f.CustomerID, err = optionalID(id.Customer, in.CustomerID, "query.customer_id"); err != nil {
		return nil, s.problem(ctx, err)
	}
	if f.Before, err = in.after(); err != nil {
		return nil, s.problem(ctx, err)
	}
	os, err := s.db.FindOrders(ctx, f)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listOrdersOutput{Body: paginate(os, in.limit(), func(o *sqldb.Order) string { return o.ID }, orderBody)}, nil
}

func (s *server) orderEvents(ctx context.Context, in *orderIDInput) (*orderEventsOutput, error) {
	p, oid, err := principalWithID(ctx, auth.ScopeOrdersRead, id.Order, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	evs, err := s.db.OrderEvents(ctx, p.TenantID, oid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &orderEventsOutput{}
	out.Body.Data = evs
	return out, nil
}

func (s *server) moveShipment(ctx context.Context, in *moveShipmentInput) (*orderOutput, error) {
	p, sid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Shipment, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pr, err := s.payerFor(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	o, err := s.db.MoveShipment(ctx, sqldb.ShipmentMove{TenantID: p.TenantID, ShipmentID: sid, To: in.Body.Status, Carrier: in.Body.Carrier,
		TrackingNumber: in.Body.TrackingNumber, Actor: actor(ctx, p)}, pr)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &orderOutput{Status: http.StatusOK, Body: orderBody(o)}, nil
}

func (s *server) pickList(ctx context.Context, in *pickListInput) (*pickListOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeOrdersRead, id.Location, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	lines, err := s.db.PickList(ctx, p.TenantID, lid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &pickListOutput{}
	out.Body.LocationID, out.Body.Lines = in.ID, lines
	if out.Body.Lines == nil {
		out.Body.Lines = []sqldb.PickLine{}
	}
	return out, nil
}

func (s *server) cancelOrder(ctx context.Context, in *cancelOrderInput) (*orderOutput, error) {
	p, oid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Order, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pr, err := s.payerFor(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	o, err := s.db.CancelOrder(ctx, sqldb.OrderCancelParams{TenantID: p.TenantID, OrderID: oid, Reason: in.Body.Reason, Actor: actor(ctx, p)}, pr)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &orderOutput{Status: http.StatusOK, Body: orderBody(o)}, nil
}

func (s *server) returnOrder(ctx context.Context, in *returnInput) (*returnOutput, error) {
	p, oid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Order, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalID(id.Location, in.Body.LocationID, "body.location_id")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pr, err := s.payerFor(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.ReturnOrder(ctx, sqldb.ReturnParams{TenantID: p.TenantID, OrderID: oid, LocationID: loc, Lines: in.Body.Lines,
		Reason: in.Body.Reason, Actor: actor(ctx, p)}, pr)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := ReturnBody{Return: *r, ID: id.Format(id.Return, r.ID), OrderID: in.ID}
	b.Return.LocationID = id.Format(id.Location, r.LocationID)
	b.Return.TransactionID = id.Format(id.Transaction, r.TransactionID)
	b.Return.ExchangeOrderID = id.Format(id.Order, r.ExchangeOrderID)
	for i := range b.Refunds {
		b.Refunds[i].ID, b.Refunds[i].PaymentID = id.Format(id.Refund, b.Refunds[i].ID), id.Format(id.Payment, b.Refunds[i].PaymentID)
	}
	if r.Loyalty != nil {
		b.Loyalty = transactionLoyalty(r.Loyalty, "return", false)
	}
	return &returnOutput{Status: http.StatusCreated, Body: b}, nil
}

func (s *server) getCommerceSettings(ctx context.Context, _ *struct{}) (*settingsOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	st, err := s.db.CommerceSettings(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &settingsOutput{Body: st}, nil
}

func (s *server) putCommerceSettings(ctx context.Context, in *settingsInput) (*settingsOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	current, err := s.db.CommerceSettings(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if in.Body.StripeAccount != current.StripeAccount {
		// Where the brand's money lands is not a till's business: a key
		// that sells must not be able to redirect payouts.
		if _, err := principal(ctx, auth.ScopeTenantWrite); err != nil {
			return nil, s.problem(ctx, apperr.New(apperr.Forbidden, "changing the Stripe account (body.stripe_account) needs a key with the %s scope",
				auth.ScopeTenantWrite))
		}
	}
	st, err := s.db.PutCommerceSettings(ctx, p.TenantID, in.Body)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &settingsOutput{Body: st}, nil
}
