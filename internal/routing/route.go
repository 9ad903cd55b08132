package routing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Route decides where each line of o is fulfilled from, under rs, among locs,
// with the units in stock. It never plans more units than stock holds at a
// location, never uses more locations per delivery method than rs allows,
// and lists every unit it cannot place in Unfilled with a reason. The same
// inputs always give the same plan: ties go to the lower location code.
//
// Lines are routed by delivery method, in this order: take_now (from the
// store of the sale), click_collect (from the pickup location), then
// ship_to_store and ship, which are sourced: see routeSourced.
func Route(rs RuleSet, o Order, locs []Location, stock Stock) Plan {
	r := newRouter(rs, o, locs, stock)
	for _, g := range r.groups() {
		switch g.method {
		case MethodTakeNow:
			r.routeFixed(g, o.TakeNowLocationID(), "store of the sale")
		case MethodClickCollect:
			r.routeFixed(g, o.Delivery.LocationID, "pickup location")
		case MethodShipToStore:
			r.routeToStore(g)
		case MethodShip:
			r.routeSourced(g, destination{point: o.Delivery.Point, country: o.Delivery.Country})
		default:
			r.unfill(g, g.lines, fmt.Sprintf("unknown delivery method %q", g.method))
		}
	}
	return r.plan
}

// router is the state of one Route call.
type router struct {
	rs     RuleSet
	order  Order
	locs   []Location
	byID   map[string]int // location id → index in locs
	rankOf []int          // index in locs → position in rs.Ranking, -1 unranked
	stock  Stock
	taken  map[takenKey]int64 // units this plan takes so far
	plan   Plan
}

type takenKey struct{ loc, sku string }

// group is the lines of one delivery method.
type group struct {
	method string
	lines  []Line
}

// destination is where sourced lines go.
type destination struct {
	point   *Point
	country string
}

func newRouter(rs RuleSet, o Order, locs []Location, stock Stock) *router {
	r := &router{rs: rs, order: o, locs: locs, byID: make(map[string]int, len(locs)), rankOf: make([]int, len(locs)),
		stock: stock, taken: map[takenKey]int64{},
		plan: Plan{Shipments: []Shipment{}, Unfilled: []UnfilledLine{}, Trace: []Decision{}}}
	byCode := make(map[string]int, len(locs))
	for i, l := range locs {
		r.byID[l.ID] = i
		byCode[l.Code] = i
		r.rankOf[i] = -1
	}
	for pos, code := range rs.Ranking {
		if i, ok := byCode[code]; ok && r.rankOf[i] < 0 {
			r.rankOf[i] = pos
		}
	}
	return r
}

// methodOrder is the order groups are routed in: fixed locations first, so
// that sourced lines see what is left.
var methodOrder = []string{MethodTakeNow, MethodClickCollect, MethodShipToStore, MethodShip}

// groups splits the order's lines by delivery method; lines of no quantity
// are nothing to route.
func (r *router) groups() []group {
	byMethod := map[string]*group{}
	var unknown []string
	for _, l := range r.order.Lines {
		if l.Quantity <= 0 {
			continue
		}
		m := r.order.MethodOf(l)
		g := byMethod[m]
		if g == nil {
			g = &group{method: m}
			byMethod[m] = g
			if !slices.Contains(methodOrder, m) {
				unknown = append(unknown, m)
			}
		}
		g.lines = append(g.lines, l)
	}
	var out []group
	for _, m := range append(slices.Clone(methodOrder), unknown...) {
		if g := byMethod[m]; g != nil {
			out = append(out, *g)
		}
	}
	return out
}

// avail is what a location still has of a SKU for this plan.
func (r *router) avail(locIdx int, sku string) int64 {
	id := r.locs[locIdx].ID
	return max(r.stock[id][sku]-r.taken[takenKey{id, sku}], 0)
}

func (r *router) take(locIdx int, sku string, n int64) {
	r.taken[takenKey{r.locs[locIdx].ID, sku}] += n
}

// ineligible says why a location may not serve a method towards dest, or "".
func (r *router) ineligible(l *Location, method string, dest destination, capacity bool) string {
	switch {
	case !l.Active:
		return "not active"
	case !slices.Contains(r.rs.AllowedTypes.For(method), l.Type):
		return fmt.Sprintf("type %s not allowed for %s", l.Type, method)
	case r.rs.StayInMarket && dest.country != "" && l.Country != dest.country && !slices.Contains(r.rs.CrossBorderTypes, l.Type):
		if l.Country == "" {
			return fmt.Sprintf("country unknown, outside market %s", dest.country)
		}
		return fmt.Sprintf("in %s, outside market %s", l.Country, dest.country)
	case capacity && r.rs.RespectCapacity && l.DailyCapacity > 0 && l.UsedToday >= l.DailyCapacity:
		return fmt.Sprintf("daily capacity %d reached", l.DailyCapacity)
	}
	return ""
}

// routeFixed serves a group from the one location its method names.
func (r *router) routeFixed(g group, locID, role string) {
	i, ok := r.byID[locID]
	if !ok {
		r.decide(Decision{LocationID: locID, Method: g.method, Outcome: Skipped, Reason: "not a location of the brand"})
		r.unfill(g, g.lines, "the "+role+" is not a location of the brand")
		return
	}
	l := &r.locs[i]
	if why := r.ineligible(l, g.method, destination{}, g.method != MethodTakeNow); why != "" {
		r.decide(decision(l, g.method, Skipped, why))
		r.unfill(g, g.lines, fmt.Sprintf("the %s %s: %s", role, l.Code, why))
		return
	}
	have := r.stockText(i, g.lines)
	s := Shipment{LocationID: l.ID, LocationCode: l.Code, Method: g.method}
	for _, line := range g.lines {
		n := min(r.avail(i, line.SKU), line.Quantity)
		if n > 0 {
			r.take(i, line.SKU, n)
			s.Lines = append(s.Lines, Line{Key: line.Key, SKU: line.SKU, Quantity: n})
		}
		if short := line.Quantity - n; short > 0 {
			line.Quantity = short
			r.unfill(g, []Line{line}, fmt.Sprintf("the %s %s has %d of %d %s", role, l.Code, n, n+short, line.SKU))
		}
	}
	if len(s.Lines) == 0 {
		r.decide(decision(l, g.method, Skipped, role+"; "+have))
		return
	}
	r.plan.Shipments = append(r.plan.Shipments, s)
	r.decide(decision(l, g.method, Chosen, role+"; "+have))
}

// routeToStore sources ship_to_store lines towards the destination store.
func (r *router) routeToStore(g group) {
	id := r.order.Delivery.LocationID
	i, ok := r.byID[id]
	switch {
	case !ok:
		r.unfill(g, g.lines, "the destination store is not a location of the brand")
	case !r.locs[i].Active:
		r.unfill(g, g.lines, fmt.Sprintf("the destination store %s is not active", r.locs[i].Code))
	default:
		r.routeSourced(g, destination{point: r.locs[i].Point, country: r.locs[i].Country})
	}
}

func (r *router) decide(d Decision) { r.plan.Trace = append(r.plan.Trace, d) }

func decision(l *Location, method, outcome, reason string) Decision {
	return Decision{LocationID: l.ID, LocationCode: l.Code, Method: method, Outcome: outcome, Reason: reason}
}

// unfill lists lines (with the quantity left) as unfilled.
func (r *router) unfill(g group, lines []Line, reason string) {
	for _, l := range lines {
		l.Method = g.method
		r.plan.Unfilled = append(r.plan.Unfilled, UnfilledLine{Line: l, Reason: reason})
	}
}

// distanceTo is the distance from a location to dest, if both positions are known.
func distanceTo(l *Location, dest destination) (float64, bool) {
	if l.Point == nil || dest.point == nil {
		return math.Inf(1), false
	}
	return DistanceKm(*l.Point, *dest.point), true
}

// compareCodes breaks the last tie: lower code, then lower id.
func compareCodes(a, b *Location) int {
	if c := cmp.Compare(a.Code, b.Code); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}
