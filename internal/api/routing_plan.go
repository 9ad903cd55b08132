package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/routing"
)

// Limits of the routing test and simulation bodies.
const (
	maxSimulationCases = 1000
	maxCaseLocations   = 2000
)

// RoutingOrderBody is an order to route, naming locations by code.
type RoutingOrderBody struct {
	SaleLocation string              `json:"sale_location,omitempty" doc:"code of the location of the sale (POS, endless aisle); take_now lines come from it, else from delivery.location"`
	Delivery     RoutingDeliveryBody `json:"delivery"`
	Lines        []RoutingLine       `json:"lines" minItems:"1" maxItems:"500" doc:"key unique in the order; method overrides the delivery method for the line (a mixed basket)"`
}

// RoutingDeliveryBody is where the order goes.
type RoutingDeliveryBody struct {
	Method   string        `json:"method" enum:"ship,click_collect,ship_to_store,take_now"`
	Point    *RoutingPoint `json:"point,omitempty" doc:"position of the delivery address, for distances"`
	Country  string        `json:"country,omitempty" doc:"ISO 3166-1 alpha-2 of the delivery address: the market of shipped lines"`
	Location string        `json:"location,omitempty" doc:"code of the pickup location (click_collect) or destination store (ship_to_store)"`
}

// RoutingLocationBody is a location given in the body instead of the
// tenant's own, to try rules on a network that does not exist yet.
type RoutingLocationBody struct {
	Code          string        `json:"code" minLength:"1" maxLength:"64"`
	Type          string        `json:"type" enum:"store,outlet,warehouse,bonded_warehouse,pop_up"`
	Country       string        `json:"country,omitempty"`
	Point         *RoutingPoint `json:"point,omitempty"`
	Active        *bool         `json:"active,omitempty" doc:"default true"`
	DailyCapacity int64         `json:"daily_capacity,omitempty" minimum:"0"`
	UsedToday     int64         `json:"used_today,omitempty" minimum:"0"`
}

// RoutingStock is units available by location code and SKU.
type RoutingStock map[string]map[string]int64

// RoutingTestRequest routes one order.
type RoutingTestRequest struct {
	Order     RoutingOrderBody      `json:"order"`
	Stock     RoutingStock          `json:"stock" doc:"units available to sell: location code → SKU → units"`
	Rules     *RoutingRuleSet       `json:"rules,omitempty" doc:"route by these rules; else by version; else by the active rules"`
	Version   int                   `json:"version,omitempty" minimum:"0" doc:"route by this stored version (a draft, say)"`
	Locations []RoutingLocationBody `json:"locations,omitempty" maxItems:"2000" doc:"route among these locations instead of the tenant's (whose capacity used today is read live)"`
}

// RoutingPlanBody is a routing plan as shown.
type RoutingPlanBody struct {
	RulesVersion *int                  `json:"rules_version" doc:"the stored version routed by; null for rules given in the body"`
	Shipments    []RoutingShipmentBody `json:"shipments"`
	Unfilled     []RoutingUnfilledLine `json:"unfilled" doc:"what no location could fill, and why"`
	Trace        []RoutingDecisionBody `json:"trace" doc:"why each location was chosen or skipped, per delivery method: chosen ones in pick order, then the rest by code"`
}

// RoutingShipmentBody is what one location sends by one method.
type RoutingShipmentBody struct {
	LocationID string        `json:"location_id,omitempty" doc:"loc_…; absent for locations given in the body"`
	Location   string        `json:"location" doc:"location code"`
	Method     string        `json:"method"`
	Lines      []RoutingLine `json:"lines"`
	DistanceKm *float64      `json:"distance_km" doc:"to the delivery point or destination store; null when unknown or nothing travels"`
}

// RoutingDecisionBody is one line of the trace.
type RoutingDecisionBody struct {
	LocationID string `json:"location_id,omitempty"`
	Location   string `json:"location"`
	Method     string `json:"method"`
	Outcome    string `json:"outcome" enum:"chosen,skipped"`
	Reason     string `json:"reason" example:"daily capacity 200 reached"`
}

type routingTestInput struct{ Body RoutingTestRequest }

type routingTestOutput struct{ Body RoutingPlanBody }

// RoutingCaseBody is one order of a simulation with its stock.
type RoutingCaseBody struct {
	Name      string                `json:"name,omitempty" maxLength:"200"`
	Order     RoutingOrderBody      `json:"order"`
	Stock     RoutingStock          `json:"stock"`
	Locations []RoutingLocationBody `json:"locations,omitempty" maxItems:"2000" doc:"else the tenant's locations"`
}

// RoutingSimulateRequest compares a draft rule set with the current one.
type RoutingSimulateRequest struct {
	Draft        *RoutingRuleSet   `json:"draft,omitempty" doc:"the rules to try; or draft_version"`
	DraftVersion int               `json:"draft_version,omitempty" minimum:"0" doc:"a stored version to try"`
	Current      *RoutingRuleSet   `json:"current,omitempty" doc:"the rules to compare with; else the active rules"`
	Cases        []RoutingCaseBody `json:"cases,omitempty" maxItems:"1000" doc:"orders with stock snapshots; or past_orders"`
	PastOrders   *PastOrdersBody   `json:"past_orders,omitempty" doc:"replay the orders placed in a period instead"`
}

// PastOrdersBody picks past orders to replay.
type PastOrdersBody struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	Limit int       `json:"limit,omitempty" minimum:"1" maximum:"1000" default:"1000"`
}

// RoutingSimulationBody is a simulation's report.
type RoutingSimulationBody struct {
	CurrentVersion *int              `json:"current_version" doc:"null when current was given in the body"`
	DraftVersion   *int              `json:"draft_version" doc:"null when draft was given in the body"`
	Current        RoutingTotals     `json:"current"`
	Draft          RoutingTotals     `json:"draft"`
	Changed        int               `json:"changed" doc:"cases whose shipments or unfilled lines differ"`
	Cases          []RoutingCaseDiff `json:"cases" doc:"the changed cases, in the order of the body"`
}

type routingSimulateInput struct{ Body RoutingSimulateRequest }

type routingSimulateOutput struct{ Body RoutingSimulationBody }

func (s *server) routingPlanRoutes() {
	tags := []string{"Order routing"}
	huma.Register(s.api, huma.Operation{OperationID: "test-routing", Method: http.MethodPost, Path: "/v1/routing/test",
		Summary: "Route one order against a stock snapshot", Tags: tags,
		Description: "Answers where each line would be fulfilled from, what cannot be filled, and a trace of why each location was chosen or skipped. " +
			"Nothing is reserved or counted."}, s.testRouting)
	huma.Register(s.api, huma.Operation{OperationID: "simulate-routing", Method: http.MethodPost, Path: "/v1/routing/simulate",
		Summary: "Compare draft sourcing rules with the current ones", Tags: tags,
		Description: "Routes every case under both rule sets and reports shipments, split orders, unfilled lines and distance for each, " +
			"with the cases whose plans differ."}, s.simulateRouting)
}

func (s *server) testRouting(ctx context.Context, in *routingTestInput) (*routingTestOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	rs, version, err := s.pickRoutingRules(ctx, p.TenantID, b.Rules, b.Version, "body.rules")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.routingCase(ctx, p.TenantID, RoutingCaseBody{Order: b.Order, Stock: b.Stock, Locations: b.Locations}, "body", nil)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &routingTestOutput{Body: routingPlanBody(routing.Route(rs, c.Order, c.Locations, c.Stock), version)}, nil
}

func (s *server) simulateRouting(ctx context.Context, in *routingSimulateInput) (*routingSimulateOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	if b.Draft == nil && b.DraftVersion == 0 {
		return nil, s.problem(ctx, apperr.Field("body.draft", "the rules to try, or draft_version", nil))
	}
	draft, draftV, err := s.pickRoutingRules(ctx, p.TenantID, b.Draft, b.DraftVersion, "body.draft")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	current, currentV, err := s.pickRoutingRules(ctx, p.TenantID, b.Current, 0, "body.current")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	cases, err := s.simulationCases(ctx, p.TenantID, b)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rep := routing.Simulate(current, draft, cases)
	return &routingSimulateOutput{Body: RoutingSimulationBody{CurrentVersion: currentV, DraftVersion: draftV,
		Current: routingTotals(rep.Current), Draft: routingTotals(rep.Draft), Changed: rep.Changed, Cases: routingCaseDiffs(rep.Cases)}}, nil
}

// pickRoutingRules chooses the rules to route by: given in the body, a stored
// version, or the active ones. The version is nil for rules from the body.
func (s *server) pickRoutingRules(ctx context.Context, tenantID string, given *RoutingRuleSet, version int, at string) (routing.RuleSet, *int, error) {
	switch {
	case given != nil:
		rs := given.rules()
		return rs, nil, rs.Validate(at)
	case version > 0:
		v, err := s.db.FindRoutingRuleVersion(ctx, tenantID, version)
		return v.Rules, &version, err
	}
	rs, v, err := s.db.ActiveRoutingRules(ctx, tenantID)
	return rs, &v, err
}

// routingCase turns a body into a routing case: locations from the body or
// the tenant (loaded into *own once when own is given), codes into ids.
func (s *server) routingCase(ctx context.Context, tenantID string, b RoutingCaseBody, at string, own *[]routing.Location) (routing.Case, error) {
	c := routing.Case{Name: b.Name}
	var err error
	switch {
	case len(b.Locations) > maxCaseLocations:
		return c, apperr.Field(at+".locations", fmt.Sprintf("at most %d", maxCaseLocations), len(b.Locations))
	case len(b.Locations) > 0:
		if c.Locations, err = routingBodyLocations(b.Locations, at+".locations"); err != nil {
			return c, err
		}
	case own != nil && *own != nil:
		c.Locations = *own
	default:
		if c.Locations, err = s.db.RoutingLocations(ctx, s.db.Read(), tenantID, s.db.Now()); err != nil {
			return c, err
		}
		if own != nil {
			*own = c.Locations
		}
	}
	byCode := make(map[string]string, len(c.Locations))
	for _, l := range c.Locations {
		byCode[l.Code] = l.ID
	}
	if c.Order, err = routingOrder(b.Order, byCode, at+".order"); err != nil {
		return c, err
	}
	c.Stock, err = routingStock(b.Stock, byCode, at+".stock")
	return c, err
}

// routingBodyLocations reads locations given in a body; their code serves as id.
func routingBodyLocations(in []RoutingLocationBody, at string) ([]routing.Location, error) {
	out := make([]routing.Location, len(in))
	seen := make(map[string]bool, len(in))
	var fields []apperr.FieldError
	for i, b := range in {
		if seen[b.Code] {
			fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s[%d].code", at, i), Message: "listed twice", Value: b.Code})
		}
		seen[b.Code] = true
		out[i] = routing.Location{ID: b.Code, Code: b.Code, Type: b.Type, Country: b.Country, Point: (*routing.Point)(b.Point),
			Active: b.Active == nil || *b.Active, DailyCapacity: b.DailyCapacity, UsedToday: b.UsedToday}
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Kind: apperr.Invalid, Message: "the locations are not valid", Fields: fields}
	}
	return out, nil
}

// routingOrder validates an order body and names its locations by id.
func routingOrder(b RoutingOrderBody, byCode map[string]string, at string) (routing.Order, error) {
	o := routing.Order{SaleLocationID: b.SaleLocation, Lines: routingLines[RoutingLine, routing.Line](b.Lines),
		Delivery: routing.Delivery{Method: b.Delivery.Method, Point: (*routing.Point)(b.Delivery.Point), Country: b.Delivery.Country, LocationID: b.Delivery.Location}}
	if err := o.Validate(at); err != nil {
		return o, renameOrderFields(err)
	}
	var fields []apperr.FieldError
	resolve := func(code *string, field string) {
		if *code == "" {
			return
		}
		if lid, ok := byCode[*code]; ok {
			*code = lid
			return
		}
		fields = append(fields, apperr.FieldError{Location: at + "." + field, Message: "no location with this code", Value: *code})
	}
	resolve(&o.SaleLocationID, "sale_location")
	resolve(&o.Delivery.LocationID, "delivery.location")
	if len(fields) > 0 {
		return o, &apperr.Error{Kind: apperr.Invalid, Message: "the order names unknown locations", Fields: fields}
	}
	return o, nil
}

// renameOrderFields words the domain's field names as the API body's: the
// body names locations by code.
func renameOrderFields(err error) error {
	if e, ok := apperr.As(err); ok {
		for i := range e.Fields {
			f := &e.Fields[i]
			f.Location = strings.Replace(f.Location, ".delivery.location_id", ".delivery.location", 1)
			f.Location = strings.Replace(f.Location, ".sale_location_id", ".sale_location", 1)
		}
	}
	return err
}

// routingStock names a stock snapshot's locations by id.
func routingStock(in RoutingStock, byCode map[string]string, at string) (routing.Stock, error) {
	out := make(routing.Stock, len(in))
	var fields []apperr.FieldError
	for code, units := range in {
		lid, ok := byCode[code]
		if !ok {
			fields = append(fields, apperr.FieldError{Location: at + "." + code, Message: "no location with this code", Value: code})
			continue
		}
		for sku, n := range units {
			if n < 0 {
				fields = append(fields, apperr.FieldError{Location: at + "." + code + "." + sku, Message: "units available, 0 or more", Value: n})
			}
		}
		out[lid] = units
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Kind: apperr.Invalid, Message: "the stock snapshot is not valid", Fields: fields}
	}
	return out, nil
}

func routingPlanBody(p routing.Plan, version *int) RoutingPlanBody {
	b := RoutingPlanBody{RulesVersion: version, Shipments: make([]RoutingShipmentBody, 0, len(p.Shipments)), Unfilled: routingUnfilled(p.Unfilled),
		Trace: make([]RoutingDecisionBody, 0, len(p.Trace))}
	for _, sh := range p.Shipments {
		b.Shipments = append(b.Shipments, RoutingShipmentBody{LocationID: routingLocationID(sh.LocationID), Location: sh.LocationCode,
			Method: sh.Method, Lines: routingLines[routing.Line, RoutingLine](sh.Lines), DistanceKm: sh.DistanceKm})
	}
	for _, d := range p.Trace {
		b.Trace = append(b.Trace, RoutingDecisionBody{LocationID: routingLocationID(d.LocationID), Location: d.LocationCode,
			Method: d.Method, Outcome: d.Outcome, Reason: d.Reason})
	}
	return b
}

// routingLocationID shows a stored location id as loc_…, and nothing for a
// location given in the body (whose id is its code).
func routingLocationID(stored string) string {
	if _, err := id.Parse(id.Location, stored); err != nil {
		return ""
	}
	return id.Format(id.Location, stored)
}

// simulationCases are the cases given in the body, or the past orders it
// names (each with the stock its channel may sell now plus what it took).
func (s *server) simulationCases(ctx context.Context, tenantID string, b RoutingSimulateRequest) ([]routing.Case, error) {
	if po := b.PastOrders; po != nil {
		limit := po.Limit
		if limit == 0 {
			limit = 1000
		}
		cases, err := s.db.PastOrderCases(ctx, tenantID, po.Since, po.Until, limit)
		if err == nil && len(cases) == 0 {
			err = apperr.Field("body.past_orders", "no orders were placed in this period", po)
		}
		return cases, err
	}
	if len(b.Cases) == 0 {
		return nil, apperr.Field("body.cases", "at least one case, or past_orders", nil)
	}
	var own []routing.Location // the tenant's locations, read once for every case that uses them
	cases := make([]routing.Case, len(b.Cases))
	for i, cb := range b.Cases {
		var err error
		if cases[i], err = s.routingCase(ctx, tenantID, cb, fmt.Sprintf("body.cases[%d]", i), &own); err != nil {
			return nil, err
		}
	}
	return cases, nil
}
