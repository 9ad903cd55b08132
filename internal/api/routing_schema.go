package api

import "github.com/omo-platform/omo/internal/routing"

// The routing API shows the domain's values through types of its own: huma
// names OpenAPI schemas after Go type names alone, and bare names such as
// Line or Totals belong to no one module.

// RoutingRuleSet is a brand's sourcing rules (routing.RuleSet).
type RoutingRuleSet struct {
	AllowedTypes     RoutingMethodTypes `json:"allowed_types" doc:"location types that may fulfil each delivery method; an empty list: the method is not offered"`
	StayInMarket     bool               `json:"stay_in_market" doc:"ship and ship_to_store lines stay in the destination's country, except from cross_border_types"`
	CrossBorderTypes []string           `json:"cross_border_types,omitempty" doc:"location types that may ship to another country when stay_in_market is on"`
	Ranking          []string           `json:"ranking,omitempty" doc:"location codes, most preferred first; codes of no location are ignored"`
	Strategy         []string           `json:"strategy" doc:"ordered criteria among fewest_shipments, rank, distance, capacity; ties go to the lower code"`
	AllowSplit       bool               `json:"allow_split" doc:"lines of one method may leave from several locations"`
	MaxShipments     int                `json:"max_shipments,omitempty" doc:"locations per delivery method when splitting; 0 is no cap"`
	RespectCapacity  bool               `json:"respect_capacity" doc:"skip locations whose daily capacity is used up"`
}

// RoutingMethodTypes lists location types per delivery method.
type RoutingMethodTypes struct {
	Ship         []string `json:"ship"`
	ClickCollect []string `json:"click_collect"`
	ShipToStore  []string `json:"ship_to_store"`
	TakeNow      []string `json:"take_now"`
}

func (b RoutingRuleSet) rules() routing.RuleSet {
	return routing.RuleSet{AllowedTypes: routing.MethodTypes(b.AllowedTypes), StayInMarket: b.StayInMarket,
		CrossBorderTypes: b.CrossBorderTypes, Ranking: b.Ranking, Strategy: b.Strategy, AllowSplit: b.AllowSplit,
		MaxShipments: b.MaxShipments, RespectCapacity: b.RespectCapacity}
}

func routingRuleSet(rs routing.RuleSet) RoutingRuleSet {
	return RoutingRuleSet{AllowedTypes: RoutingMethodTypes(rs.AllowedTypes), StayInMarket: rs.StayInMarket,
		CrossBorderTypes: rs.CrossBorderTypes, Ranking: rs.Ranking, Strategy: rs.Strategy, AllowSplit: rs.AllowSplit,
		MaxShipments: rs.MaxShipments, RespectCapacity: rs.RespectCapacity}
}

// RoutingPoint is a WGS 84 position.
type RoutingPoint struct {
	Latitude  float64 `json:"latitude" minimum:"-90" maximum:"90"`
	Longitude float64 `json:"longitude" minimum:"-180" maximum:"180"`
}

// RoutingLine is a line of an order to route, or the part a shipment carries.
type RoutingLine struct {
	Key      string `json:"key" minLength:"1" maxLength:"64"`
	SKU      string `json:"sku" minLength:"1" maxLength:"100"`
	Quantity int64  `json:"quantity"`
	Method   string `json:"method,omitempty" doc:"overrides the order's delivery method for this line"`
}

func routingLines[T routing.Line | RoutingLine, U routing.Line | RoutingLine](in []T) []U {
	out := make([]U, len(in))
	for i, l := range in {
		out[i] = U(l)
	}
	return out
}

// RoutingUnfilledLine is the part of a line no location could fill.
type RoutingUnfilledLine struct {
	Key      string `json:"key"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	Method   string `json:"method"`
	Reason   string `json:"reason" example:"only 0 of 1 TEE-M in stock where ship is allowed"`
}

func routingUnfilled(in []routing.UnfilledLine) []RoutingUnfilledLine {
	out := make([]RoutingUnfilledLine, len(in))
	for i, u := range in {
		out[i] = RoutingUnfilledLine{Key: u.Key, SKU: u.SKU, Quantity: u.Quantity, Method: u.Method, Reason: u.Reason}
	}
	return out
}

// RoutingTotals sum the plans of a simulation under one rule set.
type RoutingTotals struct {
	Orders         int     `json:"orders"`
	FilledOrders   int     `json:"filled_orders" doc:"orders with nothing unfilled"`
	Shipments      int     `json:"shipments"`
	SplitOrders    int     `json:"split_orders" doc:"orders whose lines of one delivery method leave from more than one location"`
	UnfilledLines  int     `json:"unfilled_lines"`
	UnfilledUnits  int64   `json:"unfilled_units"`
	DistanceKm     float64 `json:"distance_km" doc:"sum of the known distances"`
	MeanDistanceKm float64 `json:"mean_distance_km" doc:"per shipment whose distance is known"`
}

func routingTotals(t routing.Totals) RoutingTotals {
	return RoutingTotals{Orders: t.Orders, FilledOrders: t.FilledOrders, Shipments: t.Shipments, SplitOrders: t.SplitOrders,
		UnfilledLines: t.UnfilledLines, UnfilledUnits: t.UnfilledUnits, DistanceKm: t.DistanceKm, MeanDistanceKm: t.MeanDistanceKm}
}

// RoutingOutcome is one simulated case's plan in short.
type RoutingOutcome struct {
	Shipments     int      `json:"shipments"`
	Split         bool     `json:"split"`
	UnfilledLines int      `json:"unfilled_lines"`
	DistanceKm    float64  `json:"distance_km"`
	Locations     []string `json:"locations" doc:"codes of the shipping locations, in plan order"`
}

// RoutingCaseDiff is a simulated case whose plan differs between the rule sets.
type RoutingCaseDiff struct {
	Index   int            `json:"index" doc:"position of the case in the body, from 0"`
	Name    string         `json:"name,omitempty"`
	Current RoutingOutcome `json:"current"`
	Draft   RoutingOutcome `json:"draft"`
}

func routingCaseDiffs(in []routing.CaseDiff) []RoutingCaseDiff {
	out := make([]RoutingCaseDiff, len(in))
	for i, d := range in {
		out[i] = RoutingCaseDiff{Index: d.Index, Name: d.Name, Current: RoutingOutcome(d.Current), Draft: RoutingOutcome(d.Draft)}
	}
	return out
}
