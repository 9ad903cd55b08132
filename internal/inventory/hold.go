package inventory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
)

// HoldLine asks to reserve units of a SKU at a location.
type HoldLine struct {
	SKU        string
	LocationID string
	Quantity   int64
}

// ValidateHold checks a reservation's lines and its holder's reference,
// naming bad fields under base ("body"): the lines are base.lines[i].
func ValidateHold(base, ref string, lines []HoldLine) error {
	var fields []apperr.FieldError
	if strings.TrimSpace(ref) == "" || len(ref) > MaxText || !Storable(ref) {
		fields = append(fields, apperr.FieldError{Location: base + ".ref",
			Message: fmt.Sprintf("what holds the stock (a cart or order id), 1 to %d bytes", MaxText), Value: ref})
	}
	if len(lines) == 0 || len(lines) > MaxHoldLines {
		fields = append(fields, apperr.FieldError{Location: base + ".lines", Message: fmt.Sprintf("1 to %d lines", MaxHoldLines)})
	}
	for i, l := range lines {
		at := fmt.Sprintf("%s.lines[%d]", base, i)
		if !ValidSKU(l.SKU) {
			fields = append(fields, apperr.FieldError{Location: at + ".sku", Message: fmt.Sprintf("a SKU of 1 to %d bytes", MaxSKU), Value: l.SKU})
		}
		if l.LocationID == "" {
			fields = append(fields, apperr.FieldError{Location: at + ".location_id", Message: "the location to hold the stock at"})
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			fields = append(fields, apperr.FieldError{Location: at + ".quantity", Message: fmt.Sprintf("1 to %d units", MaxQuantity), Value: l.Quantity})
		}
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the stock reservation is not valid", Fields: fields}
	}
	return nil
}

// MergeLines adds up lines of the same SKU and location and sorts them by
// location, then SKU. Reserving in that one order everywhere means two
// holds never wait on each other's rows in opposite orders (no deadlock on
// PostgreSQL). index[i] is where line i of the input went.
func MergeLines(lines []HoldLine) (merged []HoldLine, index []int) {
	type key struct{ loc, sku string }
	at := map[key]int{}
	for _, l := range lines {
		k := key{l.LocationID, l.SKU}
		if i, ok := at[k]; ok {
			merged[i].Quantity += l.Quantity
			continue
		}
		at[k] = len(merged)
		merged = append(merged, l)
	}
	slices.SortFunc(merged, func(a, b HoldLine) int {
		return cmp.Or(cmp.Compare(a.LocationID, b.LocationID), cmp.Compare(a.SKU, b.SKU))
	})
	index = make([]int, len(lines))
	for i, l := range lines {
		index[i] = slices.IndexFunc(merged, func(m HoldLine) bool { return m.LocationID == l.LocationID && m.SKU == l.SKU })
	}
	return merged, index
}
