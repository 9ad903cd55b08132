package event

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/transaction"
)

// Segment's e-commerce spec (v2): the event names it defines, by the action
// OMO records them as.
var commerceEvents = map[string]string{}

func init() {
	for _, n := range []string{"Products Searched", "Product List Viewed", "Product List Filtered", "Promotion Viewed",
		"Promotion Clicked", "Product Clicked", "Product Viewed", "Product Added", "Product Removed", "Cart Viewed",
		"Checkout Started", "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered", "Order Updated",
		"Order Completed", "Order Refunded", "Order Cancelled", "Coupon Entered", "Coupon Applied", "Coupon Denied",
		"Coupon Removed", "Product Added to Wishlist", "Product Removed from Wishlist", "Wishlist Product Added to Cart",
		"Product Shared", "Cart Shared", "Product Reviewed"} {
		commerceEvents[commerceKey(n)] = strings.ReplaceAll(strings.ToLower(n), " ", "_")
	}
}

// The e-commerce actions that record transactions.
const (
	OrderCompleted = "order_completed"
	OrderRefunded  = "order_refunded"
)

// separators are dropped from event names before matching; built once, as
// a Replacer is costly to build and safe to share.
var separators = strings.NewReplacer(" ", "", "_", "", "-", "")

func commerceKey(name string) string {
	return separators.Replace(strings.ToLower(strings.TrimSpace(name)))
}

// CommerceAction names the e-commerce action of a track event
// ("Product Viewed" → product_viewed), or "" when the event is not one of
// Segment's e-commerce events. Case, spaces and underscores do not matter
// ("order_completed" is Order Completed).
func CommerceAction(name string) string { return commerceEvents[commerceKey(name)] }

// DefaultCurrency is the currency of an order that names none, as in
// Segment's spec.
const DefaultCurrency = "USD"

// Order is an Order Completed or Order Refunded event read as a purchase or
// a return. Amounts are minor units of Currency.
type Order struct {
	OrderID  string
	RefundID string // Order Refunded: an OMO extension for a second refund of one order
	Currency string
	Lines    []transaction.Line
	// Full is an Order Refunded without products: the whole remaining order
	// is given back.
	Full bool
}

// ExternalID is the transaction's natural key: the order id for a
// purchase; "refund:<order id>[:<refund id>]" for a return.
func (o Order) ExternalID(action string) string {
	if action != OrderRefunded {
		return o.OrderID
	}
	if o.RefundID != "" {
		return "refund:" + o.OrderID + ":" + o.RefundID
	}
	return "refund:" + o.OrderID
}

// orderProps are the properties of Order Completed / Order Refunded that OMO reads.
type orderProps struct {
	OrderID  json.RawMessage `json:"order_id"`
	RefundID json.RawMessage `json:"refund_id"`
	Currency string          `json:"currency"`
	Total    *json.Number    `json:"total"`
	Revenue  *json.Number    `json:"revenue"`
	Shipping *json.Number    `json:"shipping"`
	Tax      *json.Number    `json:"tax"`
	Discount *json.Number    `json:"discount"`
	Products []struct {
		ProductID json.RawMessage `json:"product_id"`
		SKU       json.RawMessage `json:"sku"`
		Name      string          `json:"name"`
		Category  string          `json:"category"`
		Price     *json.Number    `json:"price"`
		Quantity  *json.Number    `json:"quantity"`
	} `json:"products"`
}

// ParseOrder reads the properties of an Order Completed or Order Refunded
// event. Prices are in major units, as Segment sends them, rounded half away
// from zero to the currency's minor unit. The order discount and tax are
// spread over the lines in proportion to their amounts, shipping is a line
// of its own (sku "shipping"), and prices are read as excluding tax, as in
// Segment's spec. A stated revenue (products less discount) or total
// (revenue plus tax and shipping) that differs from the products is an
// error: the sender and OMO would disagree about the sale.
func ParseOrder(action string, props json.RawMessage) (Order, error) {
	var p orderProps
	d := json.NewDecoder(strings.NewReader(string(props)))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return Order{}, fmt.Errorf("the properties do not follow the e-commerce spec: %s", jsonError(err))
	}
	var o Order
	var ok bool
	if o.OrderID, ok = idString(p.OrderID); !ok || strings.TrimSpace(o.OrderID) == "" || len(o.OrderID) > 100 {
		return o, fmt.Errorf("properties.order_id is required (a string of at most 100 bytes)")
	}
	o.OrderID = strings.TrimSpace(o.OrderID)
	if o.RefundID, ok = idString(p.RefundID); !ok || len(o.RefundID) > 100 {
		return o, fmt.Errorf("properties.refund_id must be a string of at most 100 bytes")
	}
	o.Currency = DefaultCurrency
	if p.Currency != "" {
		if o.Currency, ok = money.NormalizeCurrency(p.Currency); !ok {
			return o, fmt.Errorf("properties.currency %q is not an ISO 4217 code", p.Currency)
		}
	}
	digits := money.Digits(o.Currency)
	amount := func(field string, n *json.Number) (int64, error) {
		if n == nil {
			return 0, nil
		}
		v, err := minorUnits(*n, digits)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s must be a non-negative amount, got %s", field, n.String())
		}
		return v, nil
	}
	for i, pr := range p.Products {
		l, err := productLine(i, pr.SKU, pr.ProductID, pr.Name, pr.Category, pr.Quantity, pr.Price, amount)
		if err != nil {
			return o, err
		}
		o.Lines = append(o.Lines, l)
	}
	if len(o.Lines) > transaction.MaxLines-1 {
		return o, fmt.Errorf("at most %d products", transaction.MaxLines-1)
	}
	var shipping, tax, discount int64
	var err error
	if shipping, err = amount("properties.shipping", p.Shipping); err != nil {
		return o, err
	}
	if tax, err = amount("properties.tax", p.Tax); err != nil {
		return o, err
	}
	if discount, err = amount("properties.discount", p.Discount); err != nil {
		return o, err
	}
	if len(o.Lines) == 0 {
		if action == OrderRefunded {
			o.Full = true
			return o, nil
		}
		return o, fmt.Errorf("properties.products is empty: an order needs its products to be recorded as a purchase")
	}
	return o, o.spread(action, shipping, tax, discount, p.Revenue, p.Total, amount)
}

type amountFunc func(string, *json.Number) (int64, error)

func productLine(i int, sku, productID json.RawMessage, name, category string, qty, price *json.Number, amount amountFunc) (transaction.Line, error) {
	at := fmt.Sprintf("properties.products[%d]", i)
	code, ok := idString(sku)
	if code == "" || !ok {
		code, ok = idString(productID)
	}
	code = strings.TrimSpace(code)
	if !ok || code == "" || len(code) > 64 {
		return transaction.Line{}, fmt.Errorf("%s needs a sku or product_id of at most 64 bytes", at)
	}
	l := transaction.Line{SKU: code, Name: clip(name, 200), Category: clip(category, 200), Quantity: 1}
	if qty != nil {
		q, err := qty.Int64()
		if err != nil || q < 1 || q > transaction.MaxQuantity {
			return l, fmt.Errorf("%s.quantity must be a whole number from 1 to %d", at, transaction.MaxQuantity)
		}
		l.Quantity = q
	}
	if price == nil {
		return l, fmt.Errorf("%s.price is required", at)
	}
	var err error
	l.UnitPrice, err = amount(at+".price", price)
	if err == nil && l.UnitPrice > money.MaxAmount {
		err = fmt.Errorf("%s.price is too large", at)
	}
	return l, err
}

func clip(s string, n int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
	for len(s) > n {
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}

// spread puts the order-level amounts on lines and checks stated totals.
func (o *Order) spread(action string, shipping, tax, discount int64, revenue, total *json.Number, amount amountFunc) error {
	if shipping > 0 {
		o.Lines = append(o.Lines, transaction.Line{SKU: "shipping", Name: "Shipping", Quantity: 1, UnitPrice: shipping})
	}
	gross := make([]int64, len(o.Lines))
	var sum int64
	for i, l := range o.Lines {
		gross[i] = l.Quantity * l.UnitPrice
		sum += gross[i]
		if sum > money.MaxAmount {
			return fmt.Errorf("the order is too large")
		}
	}
	if discount > sum-shipping {
		return fmt.Errorf("properties.discount is more than the products cost")
	}
	goods := append([]int64(nil), gross...)
	if shipping > 0 {
		goods[len(goods)-1] = 0 // the discount is on the products, not on shipping
	}
	for i, v := range Allocate(discount, goods) {
		o.Lines[i].Discount = v
	}
	net := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		net[i] = gross[i] - l.Discount
	}
	for i, v := range Allocate(tax, net) {
		o.Lines[i].Tax = v
	}
	wantRevenue := sum - shipping - discount
	if v, err := amount("properties.revenue", revenue); err != nil {
		return err
	} else if revenue != nil && v != wantRevenue {
		return fmt.Errorf("properties.revenue %s differs from the products less discount (%s)", revenue, major(wantRevenue, o.Currency))
	}
	wantTotal := wantRevenue + tax + shipping
	if v, err := amount("properties.total", total); err != nil {
		return err
	} else if total != nil && v != wantTotal {
		return fmt.Errorf("properties.total %s differs from products less discount plus tax and shipping (%s)", total, major(wantTotal, o.Currency))
	}
	return nil
}

// Allocate splits amount over parts in proportion to weights (largest
// remainder, ties to the earlier part), so the shares add up exactly. With
// no weight it returns zeros except the whole amount on the first part.
func Allocate(amount int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if amount == 0 || len(weights) == 0 {
		return out
	}
	var total int64
	for _, w := range weights {
		total += w
	}
	if total == 0 {
		out[0] = amount
		return out
	}
	type rem struct {
		i int
		r *big.Int
	}
	var given int64
	rems := make([]rem, len(weights))
	a, t := big.NewInt(amount), big.NewInt(total)
	for i, w := range weights {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(a, big.NewInt(w)), t, new(big.Int))
		out[i] = q.Int64()
		given += out[i]
		rems[i] = rem{i, r}
	}
	for left := amount - given; left > 0; left-- {
		best := -1
		for j := range rems {
			if weights[rems[j].i] > 0 && (best < 0 || rems[j].r.Cmp(rems[best].r) > 0) {
				best = j
			}
		}
		out[rems[best].i]++
		rems[best].r = big.NewInt(-1)
	}
	return out
}

// minorUnits converts a decimal in major units to minor units, rounding
// half away from zero. It never goes through floating point.
func minorUnits(n json.Number, digits int) (int64, error) {
	s := n.String()
	if len(s) > 40 || !saneExponent(s) {
		return 0, fmt.Errorf("not a sane number")
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)))
	neg := r.Sign() < 0
	r.Abs(r)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > money.MaxAmount {
		return 0, fmt.Errorf("too large")
	}
	if neg {
		return -q.Int64(), nil
	}
	return q.Int64(), nil
}

// major formats minor units as a decimal in major units, for messages.
func major(v int64, currency string) string {
	d := money.Digits(currency)
	if d == 0 {
		return fmt.Sprintf("%d", v)
	}
	p := int64(1)
	for range d {
		p *= 10
	}
	return fmt.Sprintf("%d.%0*d", v/p, d, v%p)
}

// saneExponent rejects numbers like 1e999999999, whose exact value would
// take unbounded memory to compute.
func saneExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return true
	}
	e := strings.TrimLeft(s[i+1:], "+-")
	return len(e) > 0 && len(e) <= 2
}
