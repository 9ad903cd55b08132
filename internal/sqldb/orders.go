package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/routing"
	"github.com/omo-platform/omo/internal/tenant"
)

// Order payment states.
const (
	PaymentPaid      = "paid"             // captured in full (points and coupons included)
	PaymentCollect   = "to_collect"       // offline: paid in store or on delivery
	PaymentAwaiting  = "awaiting_payment" // an asynchronous payment (Alipay, WeChat Pay, 3-D Secure) not yet confirmed
	PaymentFailed    = "failed"
	PaymentRefunded  = "refunded"
	PaymentPartRefnd = "partially_refunded"
)

// Order is a completed checkout: what was bought at what price, where it
// ships from and why, how it was paid, and what has happened since.
type Order struct {
	TenantID      string
	ID            string
	CartID        string
	CustomerID    string
	Email         string
	SalesChannel  string
	LocationID    string // the store of a POS or associate sale
	AssociateID   string
	Currency      string
	Status        string
	PaymentStatus string
	Totals        order.Totals
	Lines         []OrderLine
	Delivery      *order.Delivery
	Coupons       []string
	Points        int64
	Routing       routing.Plan
	Shipments     []Shipment
	Payments      []Payment
	Refunded      int64
	// Exchanged is what returned items passed on to exchange orders (and
	// not refunded since); Exchange names the order and return whose items
	// paid (part of) this one.
	Exchanged     int64
	Exchange      *OrderExchange
	ReservationID string
	TransactionID string
	HoldID        string
	PaymentDueAt  *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// Filled by checkout only: what the sale earned, and what the
	// storefront must do to finish an asynchronous payment.
	Loyalty    *LoyaltyOutcome
	NextAction *PayResult

	cartVersion    int64         // the cart version the order was priced from
	exchangeReturn *Return       // checkout: the exchange's return, for its provider refunds
	tenant         tenant.Tenant // read before the write transaction
	paymentWindow  time.Duration
}

// OrderLine is one line of an order with its returned units.
type OrderLine struct {
	LineNo int `json:"line_no"`
	order.LineTotal
	Returned int64 `json:"returned"`
}

// Shipment is the part of an order one location fulfils.
type Shipment struct {
	ID             string             `json:"id"`
	OrderID        string             `json:"order_id"`
	LocationID     string             `json:"location_id"`
	Method         string             `json:"method"`
	Status         string             `json:"status"`
	Lines          []ShipmentLine     `json:"lines"`
	Carrier        string             `json:"carrier,omitempty"`
	TrackingNumber string             `json:"tracking_number,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	Next           []string           `json:"next"`
	Routing        []routing.Decision `json:"-"`
}

// ShipmentLine is units of an order line in a shipment.
type ShipmentLine struct {
	LineNo   int    `json:"line_no"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Payment is one tender of an order: a provider's payment or points.
type Payment struct {
	ID        string    `json:"id"`
	Provider  string    `json:"provider"` // offline, stripe, points
	Method    string    `json:"method"`
	Reference string    `json:"reference,omitempty"`
	Account   string    `json:"account,omitempty" doc:"the Stripe account it was taken on (Stripe Connect)"`
	Status    string    `json:"status"`
	Amount    int64     `json:"amount"`
	Captured  int64     `json:"captured"`
	Refunded  int64     `json:"refunded"`
	Points    int64     `json:"points,omitempty"`
	Failure   string    `json:"failure,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// orderDoc is what the orders row keeps as JSON.
type orderDoc struct {
	Email    string          `json:"email,omitempty"`
	Totals   order.Totals    `json:"totals"`
	Lines    []OrderLine     `json:"lines"`
	Delivery *order.Delivery `json:"delivery,omitempty"`
	Coupons  []string        `json:"coupons,omitempty"`
	Points   int64           `json:"points,omitempty"`
	Routing  routing.Plan    `json:"routing"`
	// Exchanged and Exchange: see Order.
	Exchanged int64          `json:"exchanged,omitempty"`
	Exchange  *OrderExchange `json:"exchange,omitempty"`
}

const orderColumns = `id, COALESCE(cart_id, ''), customer_id, sales_channel_code, location_id, associate_id, currency, status, payment_status,
	refunded, doc, reservation_id, transaction_id, hold_id, payment_due_at, created_at, updated_at`

func scanOrder(r Row, tenantID string) (*Order, error) {
	o := &Order{TenantID: tenantID}
	var doc string
	err := r.Scan(&o.ID, &o.CartID, &o.CustomerID, &o.SalesChannel, &o.LocationID, &o.AssociateID, &o.Currency, &o.Status, &o.PaymentStatus,
		&o.Refunded, &doc, &o.ReservationID, &o.TransactionID, &o.HoldID, &o.PaymentDueAt, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "no such order")
	}
	if err != nil {
		return nil, err
	}
	var d orderDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	o.Email, o.Totals, o.Lines, o.Delivery, o.Coupons, o.Points, o.Routing = d.Email, d.Totals, d.Lines, d.Delivery, d.Coupons, d.Points, d.Routing
	o.Exchanged, o.Exchange = d.Exchanged, d.Exchange
	o.CreatedAt, o.UpdatedAt, o.PaymentDueAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC(), utcPtr(o.PaymentDueAt)
	return o, nil
}

func (o *Order) docJSON() string {
	b, _ := json.Marshal(orderDoc{Email: o.Email, Totals: o.Totals, Lines: o.Lines, Delivery: o.Delivery, Coupons: o.Coupons,
		Points: o.Points, Routing: o.Routing, Exchanged: o.Exchanged, Exchange: o.Exchange})
	return string(b)
}

// FindOrder reads an order with its shipments and payments.
func (db *DB) FindOrder(ctx context.Context, tenantID, orderID string) (*Order, error) {
	return findOrder(ctx, db.Read(), tenantID, orderID, false)
}

func findOrder(ctx context.Context, q Querier, tenantID, orderID string, lock bool) (*Order, error) {
	query := `SELECT ` + orderColumns + ` FROM orders WHERE tenant_id = $1 AND id = $2`
	if lock && engineOf(q) == Postgres {
		query += ` FOR UPDATE`
	}
	o, err := scanOrder(q.QueryRow(ctx, query, tenantID, orderID), tenantID)
	if err != nil {
		return nil, err
	}
	if o.Shipments, err = orderShipments(ctx, q, tenantID, orderID); err != nil {
		return nil, err
	}
	o.Payments, err = orderPayments(ctx, q, tenantID, orderID)
	return o, err
}

func orderShipments(ctx context.Context, q Querier, tenantID, orderID string) ([]Shipment, error) {
	var out []Shipment
	err := queryEach(ctx, q, `SELECT `+shipmentColumns+` FROM shipments WHERE tenant_id = $1 AND order_id = $2 ORDER BY id`,
		[]any{tenantID, orderID}, func(r Rows) error {
			s, err := scanShipment(r)
			out = append(out, s)
			return err
		})
	return out, err
}

const shipmentColumns = `id, order_id, location_id, method, status, lines, carrier, tracking_number, created_at, updated_at`

func scanShipment(r Row) (Shipment, error) {
	var s Shipment
	var lines string
	if err := r.Scan(&s.ID, &s.OrderID, &s.LocationID, &s.Method, &s.Status, &lines, &s.Carrier, &s.TrackingNumber, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt, s.Next = s.CreatedAt.UTC(), s.UpdatedAt.UTC(), order.Next(s.Method, s.Status)
	if s.Next == nil {
		s.Next = []string{}
	}
	return s, json.Unmarshal([]byte(lines), &s.Lines)
}

func orderPayments(ctx context.Context, q Querier, tenantID, orderID string) ([]Payment, error) {
	var out []Payment
	err := queryEach(ctx, q, `SELECT id, provider, method, reference, account, status, amount, captured, refunded, points, failure, created_at
		FROM payments WHERE tenant_id = $1 AND order_id = $2 ORDER BY id`, []any{tenantID, orderID}, func(r Rows) error {
		var p Payment
		err := r.Scan(&p.ID, &p.Provider, &p.Method, &p.Reference, &p.Account, &p.Status, &p.Amount, &p.Captured, &p.Refunded, &p.Points,
			&p.Failure, &p.CreatedAt)
		p.CreatedAt = p.CreatedAt.UTC()
		out = append(out, p)
		return err
	})
	return out, err
}

// OrderFilter selects orders, newest first.
type OrderFilter struct {
	TenantID, CustomerID, Status string
	Before                       string // cursor: an order id
	Limit                        int
}

// FindOrders lists orders (without shipments and payments), newest first.
func (db *DB) FindOrders(ctx context.Context, f OrderFilter) ([]*Order, error) {
	q := `SELECT ` + orderColumns + ` FROM orders WHERE tenant_id = $1`
	args := []any{f.TenantID}
	if f.CustomerID != "" {
		args = append(args, f.CustomerID)
		q += ` AND customer_id = $2`
	}
	if f.Status != "" {
		args = append(args, f.Status)
		q += ` AND status = ` + "$" + strconv.Itoa(len(args))
	}
	if f.Before != "" {
		args = append(args, f.Before)
		q += ` AND id < ` + "$" + strconv.Itoa(len(args))
	}
	args = append(args, f.Limit)
	q += ` ORDER BY id DESC LIMIT ` + "$" + strconv.Itoa(len(args))
	var out []*Order
	err := queryEach(ctx, db.Read(), q, args, func(r Rows) error {
		o, err := scanOrder(r, f.TenantID)
		out = append(out, o)
		return err
	})
	return out, err
}

// OrderEvent is one recorded change of an order: who, when, what.
type OrderEvent struct {
	Seq       int64          `json:"seq"`
	Kind      string         `json:"kind"`
	Actor     string         `json:"actor"`
	RequestID string         `json:"request_id,omitempty"`
	Data      map[string]any `json:"data"`
	At        time.Time      `json:"at"`
}

// recordOrderEvent appends a fact about an order. The order's row lock (or
// SQLite's single writer) serialises the sequence.
func recordOrderEvent(ctx context.Context, tx *Tx, tenantID, orderID, kind string, a Actor, data map[string]any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	actor := a.Actor
	if actor == "" {
		actor = "system"
	}
	_, err = tx.Exec(ctx, `INSERT INTO order_events (tenant_id, order_id, seq, kind, actor, request_id, data, at)
		VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM order_events WHERE tenant_id = $1 AND order_id = $2), $3, $4, $5, $6, $7)`,
		tenantID, orderID, kind, actor, a.RequestID, string(raw), tx.Now())
	return err
}

// OrderEvents lists an order's recorded changes in order.
func (db *DB) OrderEvents(ctx context.Context, tenantID, orderID string) ([]OrderEvent, error) {
	if _, err := scanOrder(db.Read().QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE tenant_id = $1 AND id = $2`, tenantID, orderID), tenantID); err != nil {
		return nil, err
	}
	var out []OrderEvent
	err := queryEach(ctx, db.Read(), `SELECT seq, kind, actor, request_id, data, at FROM order_events WHERE tenant_id = $1 AND order_id = $2 ORDER BY seq`,
		[]any{tenantID, orderID}, func(r Rows) error {
			var e OrderEvent
			var data string
			if err := r.Scan(&e.Seq, &e.Kind, &e.Actor, &e.RequestID, &data, &e.At); err != nil {
				return err
			}
			e.At = e.At.UTC()
			out = append(out, e)
			return json.Unmarshal([]byte(data), &out[len(out)-1].Data)
		})
	return out, err
}
