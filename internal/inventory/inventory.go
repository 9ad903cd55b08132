// Package inventory holds the rules of stock: the kinds of stock movement
// and what each does to the units on hand, what a sales channel may sell
// (on hand less reserved less that channel's safety stock, never below
// zero), which safety stock and low-stock threshold apply to a SKU at a
// location, and when a change is a low-stock or a back-in-stock fact. Every
// rule is a plain function over values; storage applies them in sqldb.
package inventory

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/omo-platform/omo/internal/apperr"
)

// Movement kinds: every change to the units on hand is one of these.
const (
	KindReceipt     = "receipt"      // goods received from a supplier or a warehouse outside OMO
	KindSale        = "sale"         // units sold and handed over or shipped
	KindReturn      = "return"       // units a customer returned, put back on sale
	KindAdjustment  = "adjustment"   // a correction with a reason code (damaged, lost, found …)
	KindTransferOut = "transfer_out" // units leaving for another location
	KindTransferIn  = "transfer_in"  // units arriving from another location
	KindCount       = "count"        // a physical count: sets on hand to the units counted
)

// Kinds lists the movement kinds.
var Kinds = []string{KindReceipt, KindSale, KindReturn, KindAdjustment, KindTransferOut, KindTransferIn, KindCount}

// Reasons are the reason codes a movement may carry; an adjustment must.
var Reasons = []string{"damaged", "expired", "lost", "theft", "found", "correction", "shrinkage", "sample", "write_off",
	"cycle_count", "other"}

// Limits on what one movement or hold may say.
const (
	MaxQuantity  = 1_000_000_000 // units in one movement or hold line
	MaxSKU       = 64            // bytes, as on transaction lines
	MaxText      = 200           // bytes of a reference or key
	MaxNote      = 500           // bytes of a note
	MaxHoldLines = 200           // lines in one reservation
)

// Movement is one change to the stock of a SKU at a location, as asked.
type Movement struct {
	SKU        string
	LocationID string
	Kind       string
	// Quantity is the units moved (at least 1) for receipts, sales,
	// returns and transfers; the signed change for an adjustment; the
	// units counted (0 or more) for a count.
	Quantity  int64
	Reason    string // a reason code (Reasons); required for adjustments
	Note      string
	Reference string // what caused it: a delivery note, shipment, return or transfer
	Key       string // natural key: the same key again applies nothing
}

// Validate checks a movement and names each bad field under base
// ("body" or "body.movements[2]").
func (m *Movement) Validate(base string) error {
	m.SKU = strings.TrimSpace(m.SKU)
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	if !ValidSKU(m.SKU) {
		bad("sku", fmt.Sprintf("a SKU of 1 to %d bytes, without control characters", MaxSKU), m.SKU)
	}
	if m.LocationID == "" {
		bad("location_id", "the location the stock is at, loc_…", m.LocationID)
	}
	if !slices.Contains(Kinds, m.Kind) {
		bad("kind", "one of "+strings.Join(Kinds, ", "), m.Kind)
	} else if msg := quantityRule(m.Kind, m.Quantity); msg != "" {
		bad("quantity", msg, m.Quantity)
	}
	switch {
	case m.Kind == KindAdjustment && m.Reason == "":
		bad("reason", "an adjustment needs a reason code: one of "+strings.Join(Reasons, ", "), m.Reason)
	case m.Reason != "" && !slices.Contains(Reasons, m.Reason):
		bad("reason", "one of "+strings.Join(Reasons, ", "), m.Reason)
	}
	fields = append(fields, textRules(base, m.Reference, m.Key, m.Note)...)
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the stock movement is not valid", Fields: fields}
	}
	return nil
}

// quantityRule says what is wrong with a quantity for a kind, or "".
func quantityRule(kind string, q int64) string {
	switch {
	case kind == KindAdjustment && (q == 0 || q > MaxQuantity || q < -MaxQuantity):
		return fmt.Sprintf("the signed change in units, not 0, within ±%d", MaxQuantity)
	case kind == KindCount && (q < 0 || q > MaxQuantity):
		return fmt.Sprintf("the units counted, 0 to %d", MaxQuantity)
	case kind != KindAdjustment && kind != KindCount && (q < 1 || q > MaxQuantity):
		return fmt.Sprintf("the units moved, 1 to %d", MaxQuantity)
	}
	return ""
}

func textRules(base, reference, key, note string) []apperr.FieldError {
	var fields []apperr.FieldError
	if len(reference) > MaxText || !Storable(reference) {
		fields = append(fields, apperr.FieldError{Location: base + ".reference", Message: fmt.Sprintf("text of at most %d bytes", MaxText), Value: reference})
	}
	if len(key) > MaxText || !Storable(key) {
		fields = append(fields, apperr.FieldError{Location: base + ".key", Message: fmt.Sprintf("text of at most %d bytes", MaxText), Value: key})
	}
	if len(note) > MaxNote || !Storable(note) {
		fields = append(fields, apperr.FieldError{Location: base + ".note", Message: fmt.Sprintf("text of at most %d bytes", MaxNote)})
	}
	return fields
}

// Storable reports whether s can be stored as text on both engines: valid
// UTF-8 without NUL (which PostgreSQL refuses).
func Storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// ValidSKU reports whether s can be a SKU: 1 to MaxSKU bytes of text
// without control characters or surrounding spaces.
func ValidSKU(s string) bool {
	if s == "" || len(s) > MaxSKU || s != strings.TrimSpace(s) || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// Delta is the change a movement makes to the units on hand, given what is
// on hand before it.
func Delta(kind string, quantity, onHand int64) int64 {
	switch kind {
	case KindSale, KindTransferOut:
		return -quantity
	case KindCount:
		return quantity - onHand
	case KindAdjustment:
		return quantity
	}
	return quantity // receipt, return, transfer_in
}

// Guard is what must stay true after a movement, beyond on hand never
// going below zero: a transfer out must not take units that are reserved
// (it is a decision, and carts hold them), while a sale, an adjustment or a
// count records what physically happened and may leave reservations short.
func Guard(kind string, delta, onHand, reserved int64) string {
	after := onHand + delta
	switch {
	case after < 0:
		return fmt.Sprintf("%d on hand; the %s takes %d", onHand, kind, -delta)
	case kind == KindTransferOut && after < reserved:
		return fmt.Sprintf("%d on hand of which %d reserved; a transfer out may take only unreserved units", onHand, reserved)
	}
	return ""
}

// Available is what can be sold: on hand less reserved less safety stock,
// never below zero.
func Available(onHand, reserved, safety int64) int64 {
	return max(0, onHand-reserved-safety)
}
