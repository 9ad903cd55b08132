package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/location"
)

// Strategy criteria: how candidate locations are compared, in the order the
// rule set lists them. Ties left after every criterion go to the lower code.
const (
	// CriterionFewestShipments prefers the location that fills more of what
	// is left (the whole of it first, then more lines, then more units).
	// Listed first, it makes a split use the fewest locations there are.
	CriterionFewestShipments = "fewest_shipments"
	// CriterionRank prefers locations earlier in Ranking; unranked ones last.
	CriterionRank = "rank"
	// CriterionDistance prefers the nearest location to the delivery point
	// or destination store; locations without a position last.
	CriterionDistance = "distance"
	// CriterionCapacity prefers the location with the most daily capacity
	// left (no limit counts as the most), to spread the day's work.
	CriterionCapacity = "capacity"
)

// Criteria lists the strategy criteria.
var Criteria = []string{CriterionFewestShipments, CriterionRank, CriterionDistance, CriterionCapacity}

// Limits of a rule set.
const (
	MaxRanking      = 2000
	MaxShipmentsCap = 50
)

// RuleSet is a brand's sourcing rules.
type RuleSet struct {
	// AllowedTypes are the location types that may fulfil each delivery
	// method; a method with none is not offered.
	AllowedTypes MethodTypes `json:"allowed_types"`
	// StayInMarket keeps ship and ship_to_store lines in the destination's
	// country, except from the CrossBorderTypes (a bonded warehouse serving
	// cross-border buyers).
	StayInMarket     bool     `json:"stay_in_market"`
	CrossBorderTypes []string `json:"cross_border_types,omitempty" doc:"location types that may ship to another country when stay_in_market is on"`
	// Ranking lists location codes, most preferred first.
	Ranking []string `json:"ranking,omitempty" doc:"location codes, most preferred first; codes of no location are ignored"`
	// Strategy lists the criteria candidates are compared by, in order.
	Strategy []string `json:"strategy" doc:"ordered criteria among fewest_shipments, rank, distance, capacity"`
	// AllowSplit lets one order's lines of one method leave from several
	// locations (and one line's units too).
	AllowSplit bool `json:"allow_split"`
	// MaxShipments caps the locations per delivery method when splitting;
	// 0 is no cap.
	MaxShipments int `json:"max_shipments,omitempty"`
	// RespectCapacity skips locations whose daily capacity is used up.
	RespectCapacity bool `json:"respect_capacity"`
}

// MethodTypes lists location types per delivery method.
type MethodTypes struct {
	Ship         []string `json:"ship"`
	ClickCollect []string `json:"click_collect"`
	ShipToStore  []string `json:"ship_to_store"`
	TakeNow      []string `json:"take_now"`
}

// For returns the location types allowed for a method.
func (m MethodTypes) For(method string) []string {
	switch method {
	case MethodShip:
		return m.Ship
	case MethodClickCollect:
		return m.ClickCollect
	case MethodShipToStore:
		return m.ShipToStore
	case MethodTakeNow:
		return m.TakeNow
	}
	return nil
}

// DefaultRuleSet is the rules of a brand that has set none: ship from
// warehouses and stores in the market (cross-border from bonded warehouses),
// collect and take now at stores, outlets and pop-ups, split into at most
// three shipments, fewest shipments first, then the nearest.
func DefaultRuleSet() RuleSet {
	stores := []string{location.TypeStore, location.TypeOutlet, location.TypePopUp}
	return RuleSet{
		AllowedTypes: MethodTypes{
			Ship:         []string{location.TypeWarehouse, location.TypeBondedWarehouse, location.TypeStore, location.TypeOutlet},
			ClickCollect: stores,
			ShipToStore:  []string{location.TypeWarehouse, location.TypeStore, location.TypeOutlet},
			TakeNow:      stores,
		},
		StayInMarket:     true,
		CrossBorderTypes: []string{location.TypeBondedWarehouse},
		Strategy:         []string{CriterionFewestShipments, CriterionDistance, CriterionRank},
		AllowSplit:       true,
		MaxShipments:     3,
		RespectCapacity:  true,
	}
}

// Validate checks a rule set and names each bad field under base ("body").
func (rs RuleSet) Validate(base string) error {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	for _, m := range Methods {
		checkTypes(rs.AllowedTypes.For(m), "allowed_types."+m, bad)
	}
	checkTypes(rs.CrossBorderTypes, "cross_border_types", bad)
	checkRanking(rs.Ranking, bad)
	checkStrategy(rs.Strategy, bad)
	switch {
	case rs.MaxShipments < 0 || rs.MaxShipments > MaxShipmentsCap:
		bad("max_shipments", fmt.Sprintf("0 (no cap) to %d", MaxShipmentsCap), rs.MaxShipments)
	case !rs.AllowSplit && rs.MaxShipments > 1:
		bad("max_shipments", "more than one shipment needs allow_split", rs.MaxShipments)
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the routing rules are not valid", Fields: fields}
	}
	return nil
}

func checkTypes(types []string, field string, bad func(string, string, any)) {
	for i, t := range types {
		at := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !slices.Contains(location.Types, t):
			bad(at, "one of "+strings.Join(location.Types, ", "), t)
		case slices.Index(types, t) < i:
			bad(at, "listed twice", t)
		}
	}
}

func checkRanking(codes []string, bad func(string, string, any)) {
	if len(codes) > MaxRanking {
		bad("ranking", fmt.Sprintf("at most %d codes", MaxRanking), len(codes))
		return
	}
	seen := make(map[string]bool, len(codes))
	for i, c := range codes {
		at := fmt.Sprintf("ranking[%d]", i)
		switch {
		case !location.ValidCode(c):
			bad(at, "a location code", c)
		case seen[c]:
			bad(at, "listed twice", c)
		}
		seen[c] = true
	}
}

func checkStrategy(criteria []string, bad func(string, string, any)) {
	if len(criteria) == 0 {
		bad("strategy", "at least one of "+strings.Join(Criteria, ", "), criteria)
	}
	for i, c := range criteria {
		at := fmt.Sprintf("strategy[%d]", i)
		switch {
		case !slices.Contains(Criteria, c):
			bad(at, "one of "+strings.Join(Criteria, ", "), c)
		case slices.Index(criteria, c) < i:
			bad(at, "listed twice", c)
		}
	}
}

// ParseRuleSet reads a rule set from its JSON form (the stored form and the
// API body) strictly: unknown members and trailing data are refused, and the
// result is validated. Errors are Invalid, located under base.
func ParseRuleSet(raw []byte, base string) (RuleSet, error) {
	var rs RuleSet
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return RuleSet{}, apperr.Field(base, "routing rules as JSON: "+err.Error(), nil)
	}
	if _, err := dec.Token(); err != io.EOF {
		return RuleSet{}, apperr.Field(base, "routing rules as JSON: data after the rule set", nil)
	}
	if err := rs.Validate(base); err != nil {
		return RuleSet{}, err
	}
	return rs, nil
}
