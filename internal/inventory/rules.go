package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
)

// SafetyRule keeps units back from one sales channel: store floor stock is
// not sold online below Quantity. A rule names one SKU or every SKU ("")
// and one location, one location type, or every location (both "").
type SafetyRule struct {
	SalesChannelID string
	SKU            string // "" = every SKU
	LocationID     string // "" = by LocationType
	LocationType   string // "" = every type (when LocationID is "" too)
	Quantity       int64
}

// Validate checks a rule and names each bad field under base.
func (r *SafetyRule) Validate(base string, locationTypes []string) error {
	r.SKU = strings.TrimSpace(r.SKU)
	var fields []apperr.FieldError
	if r.SalesChannelID == "" {
		fields = append(fields, apperr.FieldError{Location: base + ".sales_channel", Message: "the sales channel the rule holds stock back from"})
	}
	if r.SKU != "" && !ValidSKU(r.SKU) {
		fields = append(fields, apperr.FieldError{Location: base + ".sku", Message: fmt.Sprintf("a SKU of at most %d bytes, or none for every SKU", MaxSKU), Value: r.SKU})
	}
	if r.LocationID != "" && r.LocationType != "" {
		fields = append(fields, apperr.FieldError{Location: base + ".location_type", Message: "give a location or a location type, not both", Value: r.LocationType})
	} else if r.LocationType != "" && !slices.Contains(locationTypes, r.LocationType) {
		fields = append(fields, apperr.FieldError{Location: base + ".location_type", Message: "one of " + strings.Join(locationTypes, ", "), Value: r.LocationType})
	}
	if r.Quantity < 0 || r.Quantity > MaxQuantity {
		fields = append(fields, apperr.FieldError{Location: base + ".quantity", Message: fmt.Sprintf("units kept back, 0 to %d", MaxQuantity), Value: r.Quantity})
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the safety stock rule is not valid", Fields: fields}
	}
	return nil
}

// rank orders matching rules: a rule for the SKU beats a rule for every
// SKU; then a rule for the location beats one for its type, which beats one
// for every location. A more specific rule may lower the stock kept back as
// well as raise it (0 for one SKU under a rule of 2 for all).
func (r SafetyRule) rank() int {
	n := 0
	if r.SKU != "" {
		n += 3
	}
	switch {
	case r.LocationID != "":
		n += 2
	case r.LocationType != "":
		n++
	}
	return n
}

func (r SafetyRule) matches(sku, locationID, locationType string) bool {
	return (r.SKU == "" || r.SKU == sku) &&
		(r.LocationID == "" || r.LocationID == locationID) &&
		(r.LocationType == "" || r.LocationType == locationType)
}

// SafetyStock is the units a channel keeps back of a SKU at a location: the
// quantity of the most specific matching rule, 0 when none matches. rules
// are one channel's.
func SafetyStock(rules []SafetyRule, sku, locationID, locationType string) int64 {
	best, q := -1, int64(0)
	for _, r := range rules {
		if r.matches(sku, locationID, locationType) && r.rank() > best {
			best, q = r.rank(), r.Quantity
		}
	}
	return q
}

// DefaultLowStock is the low-stock threshold where a tenant set none.
const DefaultLowStock = 5

// ThresholdRule sets the low-stock threshold of one SKU or every SKU ("")
// at one location or every location ("").
type ThresholdRule struct {
	SKU        string
	LocationID string
	LowStock   int64
}

// Threshold is the low-stock threshold of a SKU at a location: SKU and
// location, then SKU anywhere, then every SKU at the location, then the
// tenant's default, then DefaultLowStock.
func Threshold(rules []ThresholdRule, sku, locationID string) int64 {
	best, t := -1, int64(DefaultLowStock)
	for _, r := range rules {
		if (r.SKU != "" && r.SKU != sku) || (r.LocationID != "" && r.LocationID != locationID) {
			continue
		}
		rank := 0
		if r.SKU != "" {
			rank += 2
		}
		if r.LocationID != "" {
			rank++
		}
		if rank > best {
			best, t = rank, r.LowStock
		}
	}
	return t
}

// Fact kinds.
const (
	FactLowStock    = "low_stock"
	FactBackInStock = "back_in_stock"
)

// LowStock reports a change that took the units available at a location
// to its threshold or below, from above it. A change that stays low is not
// a new fact, so one sell-down records one fact, not one per sale.
func LowStock(before, after, threshold int64) bool {
	return before > threshold && after <= threshold
}

// BackInStock reports a change that made a sales channel able to sell a
// SKU again: none available before, some after.
func BackInStock(before, after int64) bool {
	return before <= 0 && after > 0
}

// FactsJob tells later automation (back-in-stock messages, replenishment)
// about recorded facts. It is enqueued in the transaction that records
// them; the facts stay readable whether or not anything consumes it.
type FactsJob struct {
	TenantID string   `json:"tenant_id"`
	FactIDs  []string `json:"fact_ids"`
}

// Kind names the job.
func (FactsJob) Kind() string { return "inventory.facts" }

// Merge folds the next job of the same tenant into this one, so a group
// commit of many changes queues one job.
func (j FactsJob) Merge(next any) (any, bool) {
	n, ok := next.(FactsJob)
	if !ok || n.TenantID != j.TenantID || len(j.FactIDs)+len(n.FactIDs) > 1000 {
		return nil, false
	}
	ids := append(append(make([]string, 0, len(j.FactIDs)+len(n.FactIDs)), j.FactIDs...), n.FactIDs...)
	return FactsJob{TenantID: j.TenantID, FactIDs: ids}, true
}
