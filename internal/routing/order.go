package routing

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
)

// MaxLines caps the lines of one order to route.
const MaxLines = 500

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// MethodOf is the delivery method of a line: its own, else the order's.
func (o Order) MethodOf(l Line) string {
	if l.Method != "" {
		return l.Method
	}
	return o.Delivery.Method
}

// TakeNowLocationID is where take_now lines come from.
func (o Order) TakeNowLocationID() string {
	if o.SaleLocationID != "" {
		return o.SaleLocationID
	}
	return o.Delivery.LocationID
}

// Validate checks an order before routing and names each bad field under
// base ("body.order"): known methods, lines with unique keys, a SKU and a
// positive quantity, and for each method used what it needs (a country to
// ship to, a location to collect at or ship to, a store to take from).
func (o Order) Validate(base string) error {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	if !slices.Contains(Methods, o.Delivery.Method) {
		bad("delivery.method", "one of "+strings.Join(Methods, ", "), o.Delivery.Method)
	}
	if p := o.Delivery.Point; p != nil && !validPoint(*p) {
		bad("delivery.point", "latitude within ±90 and longitude within ±180", p)
	}
	if c := o.Delivery.Country; c != "" && !countryPattern.MatchString(c) {
		bad("delivery.country", "an ISO 3166-1 alpha-2 code in capitals, such as HK", c)
	}
	switch {
	case len(o.Lines) == 0:
		bad("lines", "at least one line", nil)
	case len(o.Lines) > MaxLines:
		bad("lines", fmt.Sprintf("at most %d lines", MaxLines), len(o.Lines))
	}
	used := map[string]bool{}
	for i, l := range o.Lines {
		fields = append(fields, l.check(fmt.Sprintf("%s.lines[%d]", base, i), o.Lines[:i])...)
		used[o.MethodOf(l)] = true
	}
	fields = append(fields, o.checkNeeds(base, used)...)
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the order cannot be routed", Fields: fields}
	}
	return nil
}

func (l Line) check(at string, before []Line) []apperr.FieldError {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: at + "." + field, Message: msg, Value: v})
	}
	if l.Key == "" || len(l.Key) > 64 {
		bad("key", "1 to 64 characters, unique in the order", l.Key)
	} else if slices.ContainsFunc(before, func(b Line) bool { return b.Key == l.Key }) {
		bad("key", "used by an earlier line", l.Key)
	}
	if strings.TrimSpace(l.SKU) == "" || len(l.SKU) > 100 {
		bad("sku", "1 to 100 characters", l.SKU)
	}
	if l.Quantity <= 0 || l.Quantity > 1_000_000 {
		bad("quantity", "1 to 1000000", l.Quantity)
	}
	if l.Method != "" && !slices.Contains(Methods, l.Method) {
		bad("method", "one of "+strings.Join(Methods, ", "), l.Method)
	}
	return fields
}

// checkNeeds asks for what the methods in use need.
func (o Order) checkNeeds(base string, used map[string]bool) []apperr.FieldError {
	var fields []apperr.FieldError
	need := func(field, msg string) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg})
	}
	if used[MethodShip] && o.Delivery.Country == "" {
		need("delivery.country", "the country of the delivery address, for lines shipped")
	}
	if (used[MethodClickCollect] || used[MethodShipToStore]) && o.Delivery.LocationID == "" {
		need("delivery.location_id", "the location to collect at or ship to")
	}
	if used[MethodTakeNow] && o.TakeNowLocationID() == "" {
		need("sale_location_id", "the location of the sale, for lines taken now")
	}
	return fields
}

func validPoint(p Point) bool {
	return !math.IsNaN(p.Latitude) && !math.IsNaN(p.Longitude) && math.Abs(p.Latitude) <= 90 && math.Abs(p.Longitude) <= 180
}
