package order

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

// Delivery methods.
const (
	ShipToAddress = "ship"          // a carrier brings it to an address
	ClickCollect  = "click_collect" // the customer collects it at a store that has it
	ShipToStore   = "ship_to_store" // shipped to a store for collection
	TakeNow       = "take_now"      // handed over at the counter (POS, endless aisle)
)

// DeliveryMethods lists the delivery methods.
var DeliveryMethods = []string{ShipToAddress, ClickCollect, ShipToStore, TakeNow}

// Cart states.
const (
	CartOpen      = "open"
	CartCompleted = "completed"
)

// Limits of one cart.
const (
	MaxCartLines  = 100
	MaxQuantity   = 999
	MaxCoupons    = 5
	MaxLineNoteLn = 500
)

// Point is a WGS 84 position.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Address is where an order ships to.
type Address struct {
	Name       string   `json:"name,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	Lines      []string `json:"lines,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
	Point      *Point   `json:"point,omitempty"`
}

// Delivery is how the customer gets the order.
type Delivery struct {
	Method     string   `json:"method"`
	Address    *Address `json:"address,omitempty"`
	LocationID string   `json:"location_id,omitempty"` // pickup store, destination store, or the store of a take-now sale
}

// Line is one line of a cart. Fulfilment "take_now" marks an item handed
// over at once in a mixed basket (the rest ships).
type Line struct {
	ID         string `json:"id"`
	SKU        string `json:"sku"`
	Quantity   int64  `json:"quantity"`
	Fulfilment string `json:"fulfilment,omitempty"`
}

// Cart is a basket being built by a shopper, or by an associate for a
// customer (then shared as a link and credited to the associate).
type Cart struct {
	TenantID     string
	ID           string
	CustomerID   string // "" for a guest
	Email        string
	SalesChannel string // sales channel code
	Currency     string
	LocationID   string // the store of a POS or associate cart
	AssociateID  string // the staff member credited with the order
	Lines        []Line
	Coupons      []string
	Points       int64 // points the customer applies as a tender
	Exchange     *Exchange
	Delivery     *Delivery
	ShareToken   string
	Status       string
	Version      int64
	OrderID      string
	HoldID       string // a stock reservation holding the cart's items
	HoldUntil    *time.Time
	Held         []Held // what the hold reserved, where
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Held is units of a SKU a cart's hold reserved at a location.
type Held struct {
	SKU        string `json:"sku"`
	LocationID string `json:"location_id"`
	Quantity   int64  `json:"quantity"`
}

// Line returns the line with id, or nil.
func (c *Cart) Line(id string) *Line {
	for i := range c.Lines {
		if c.Lines[i].ID == id {
			return &c.Lines[i]
		}
	}
	return nil
}

// SKUs returns the distinct SKUs of the cart, in line order.
func (c *Cart) SKUs() []string {
	out := make([]string, 0, len(c.Lines))
	for _, l := range c.Lines {
		if !slices.Contains(out, l.SKU) {
			out = append(out, l.SKU)
		}
	}
	return out
}

// AddLine adds quantity of sku, merging with a line of the same SKU and
// fulfilment. newID names a new line. It returns the line changed.
func (c *Cart) AddLine(sku string, quantity int64, fulfilment, newID string) (Line, error) {
	sku = strings.TrimSpace(sku)
	if err := checkLine(sku, quantity, fulfilment, "body"); err != nil {
		return Line{}, err
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		if l.SKU == sku && l.Fulfilment == fulfilment {
			if l.Quantity+quantity > MaxQuantity {
				return Line{}, apperr.Field("body.quantity", fmt.Sprintf("a line holds at most %d units", MaxQuantity), l.Quantity+quantity)
			}
			l.Quantity += quantity
			return *l, nil
		}
	}
	if len(c.Lines) >= MaxCartLines {
		return Line{}, apperr.Field("body.sku", fmt.Sprintf("a cart holds at most %d lines", MaxCartLines), sku)
	}
	l := Line{ID: newID, SKU: sku, Quantity: quantity, Fulfilment: fulfilment}
	c.Lines = append(c.Lines, l)
	return l, nil
}

// SetQuantity changes a line's quantity; 0 removes it.
func (c *Cart) SetQuantity(lineID string, quantity int64) error {
	i := slices.IndexFunc(c.Lines, func(l Line) bool { return l.ID == lineID })
	if i < 0 {
		return apperr.New(apperr.NotFound, "the cart has no line %s", lineID)
	}
	if quantity == 0 {
		c.Lines = slices.Delete(c.Lines, i, i+1)
		return nil
	}
	if err := checkLine(c.Lines[i].SKU, quantity, c.Lines[i].Fulfilment, "body"); err != nil {
		return err
	}
	c.Lines[i].Quantity = quantity
	return nil
}

func checkLine(sku string, quantity int64, fulfilment, base string) error {
	var fs []apperr.FieldError
	if sku == "" || len(sku) > 64 {
		fs = append(fs, apperr.FieldError{Location: base + ".sku", Message: "a SKU of 1 to 64 characters", Value: sku})
	}
	if quantity < 1 || quantity > MaxQuantity {
		fs = append(fs, apperr.FieldError{Location: base + ".quantity", Message: fmt.Sprintf("1 to %d", MaxQuantity), Value: quantity})
	}
	if fulfilment != "" && fulfilment != TakeNow {
		fs = append(fs, apperr.FieldError{Location: base + ".fulfilment", Message: `"take_now" for an item handed over at once, or empty`, Value: fulfilment})
	}
	if fs != nil {
		return apperr.Fields(fs...)
	}
	return nil
}

// AddCoupon applies a coupon code (already in canonical form).
func (c *Cart) AddCoupon(code string) error {
	if slices.Contains(c.Coupons, code) {
		return nil
	}
	if len(c.Coupons) >= MaxCoupons {
		return apperr.Field("body.code", fmt.Sprintf("a cart takes at most %d coupons", MaxCoupons), code)
	}
	c.Coupons = append(c.Coupons, code)
	return nil
}

// RemoveCoupon takes a coupon off; NotFound when it is not applied.
func (c *Cart) RemoveCoupon(code string) error {
	i := slices.Index(c.Coupons, code)
	if i < 0 {
		return apperr.New(apperr.NotFound, "the coupon %s is not applied to this cart", code)
	}
	c.Coupons = slices.Delete(c.Coupons, i, i+1)
	return nil
}

// CheckDelivery validates a delivery choice.
func CheckDelivery(d Delivery, base string) error {
	var fs []apperr.FieldError
	bad := func(f, m string, v any) {
		fs = append(fs, apperr.FieldError{Location: base + "." + f, Message: m, Value: v})
	}
	switch d.Method {
	case ShipToAddress:
		if d.Address == nil {
			bad("address", "required to ship to an address", nil)
		} else {
			if len(d.Address.Country) != 2 || strings.ToUpper(d.Address.Country) != d.Address.Country {
				bad("address.country", "ISO 3166-1 alpha-2 in capitals, e.g. HK", d.Address.Country)
			}
			if p := d.Address.Point; p != nil && (p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180) {
				bad("address.point", "latitude -90..90 and longitude -180..180", *p)
			}
		}
	case ClickCollect, ShipToStore, TakeNow:
		if d.LocationID == "" {
			bad("location_id", "the store is required for "+d.Method, nil)
		}
	default:
		bad("method", "one of "+strings.Join(DeliveryMethods, ", "), d.Method)
	}
	if fs != nil {
		return apperr.Fields(fs...)
	}
	return nil
}
