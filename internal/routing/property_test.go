package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/omo-platform/omo/internal/location"
)

// checkPlan fails the test when a plan breaks a promise of Route: no more
// units than stock holds, every unit of every line either shipped or
// unfilled, no more locations per method than the rules allow, only
// locations the rules allow, and a chosen decision for every shipment.
func checkPlan(t *testing.T, rs RuleSet, o Order, locs []Location, stock Stock, p Plan) {
	t.Helper()
	byID := map[string]Location{}
	for _, l := range locs {
		byID[l.ID] = l
	}
	used := map[takenKey]int64{}
	placed := map[string]int64{}
	perMethod := map[string]int{}
	for _, s := range p.Shipments {
		perMethod[s.Method]++
		if len(s.Lines) == 0 {
			t.Errorf("shipment from %s carries nothing", s.LocationCode)
		}
		for _, l := range s.Lines {
			if l.Quantity <= 0 {
				t.Errorf("shipment from %s has line %s of %d units", s.LocationCode, l.Key, l.Quantity)
			}
			used[takenKey{s.LocationID, l.SKU}] += l.Quantity
			placed[l.Key] += l.Quantity
		}
		checkAllowed(t, rs, o, byID, s)
		if !slices.ContainsFunc(p.Trace, func(d Decision) bool {
			return d.LocationID == s.LocationID && d.Method == s.Method && d.Outcome == Chosen
		}) {
			t.Errorf("no chosen decision for the shipment from %s", s.LocationCode)
		}
	}
	for k, n := range used {
		if have := stock[k.loc][k.sku]; n > have {
			t.Errorf("plans %d of %s at %s, which has %d", n, k.sku, k.loc, have)
		}
	}
	for _, u := range p.Unfilled {
		placed[u.Key] += u.Quantity
		if u.Reason == "" {
			t.Errorf("unfilled line %s has no reason", u.Key)
		}
	}
	for _, l := range o.Lines {
		if placed[l.Key] != l.Quantity {
			t.Errorf("line %s: %d units shipped or unfilled, want %d", l.Key, placed[l.Key], l.Quantity)
		}
	}
	budget := rs.MaxShipments
	if !rs.AllowSplit {
		budget = 1
	}
	for m, n := range perMethod {
		if n > 1 && (m == MethodTakeNow || m == MethodClickCollect) {
			t.Errorf("%d shipments for %s, which has one location", n, m)
		}
		if budget > 0 && n > budget {
			t.Errorf("%d shipments for %s, the rules allow %d", n, m, budget)
		}
	}
}

// checkAllowed fails when a shipment leaves from a location the rules exclude.
func checkAllowed(t *testing.T, rs RuleSet, o Order, byID map[string]Location, s Shipment) {
	t.Helper()
	l, ok := byID[s.LocationID]
	switch {
	case !ok:
		t.Errorf("shipment from unknown location %s", s.LocationID)
	case !l.Active:
		t.Errorf("shipment from inactive %s", l.Code)
	case !slices.Contains(rs.AllowedTypes.For(s.Method), l.Type):
		t.Errorf("shipment from %s of type %s for %s", l.Code, l.Type, s.Method)
	case s.Method != MethodTakeNow && rs.RespectCapacity && l.DailyCapacity > 0 && l.UsedToday >= l.DailyCapacity:
		t.Errorf("shipment from %s, whose capacity is used up", l.Code)
	case s.Method == MethodShip && rs.StayInMarket && l.Country != o.Delivery.Country && !slices.Contains(rs.CrossBorderTypes, l.Type):
		t.Errorf("shipment from %s in %s to %s", l.Code, l.Country, o.Delivery.Country)
	}
}

// world is a random set of locations, stock and an order.
type world struct {
	locs  []Location
	stock Stock
	order Order
}

var (
	countries = []string{"HK", "HK", "HK", "SG", "TW"}
	skus      = []string{"SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E", "SKU-F"}
)

func randomWorld(rng *rand.Rand, nLocs int) world {
	w := world{stock: Stock{}}
	for i := range nLocs {
		l := Location{ID: fmt.Sprintf("loc-%03d", i), Code: fmt.Sprintf("L%03d", rng.IntN(1000)),
			Type: location.Types[rng.IntN(len(location.Types))], Country: countries[rng.IntN(len(countries))],
			Active: rng.IntN(10) > 0}
		if rng.IntN(5) > 0 {
			l.Point = &Point{Latitude: 22.2 + rng.Float64()*0.3, Longitude: 113.9 + rng.Float64()*0.4}
		}
		if rng.IntN(3) == 0 {
			l.DailyCapacity = int64(1 + rng.IntN(5))
			l.UsedToday = int64(rng.IntN(6))
		}
		w.locs = append(w.locs, l)
		w.stock[l.ID] = map[string]int64{}
		for _, s := range skus {
			if rng.IntN(3) == 0 {
				w.stock[l.ID][s] = int64(rng.IntN(4))
			}
		}
	}
	w.order = randomOrder(rng, w.locs)
	return w
}

func randomOrder(rng *rand.Rand, locs []Location) Order {
	o := Order{Delivery: Delivery{Method: Methods[rng.IntN(len(Methods))], Country: countries[rng.IntN(len(countries))],
		Point: &Point{Latitude: 22.3, Longitude: 114.17}, LocationID: locs[rng.IntN(len(locs))].ID},
		SaleLocationID: locs[rng.IntN(len(locs))].ID}
	for i := range 1 + rng.IntN(5) {
		l := Line{Key: fmt.Sprint(i + 1), SKU: skus[rng.IntN(len(skus))], Quantity: int64(1 + rng.IntN(4))}
		if rng.IntN(4) == 0 {
			l.Method = Methods[rng.IntN(len(Methods))]
		}
		o.Lines = append(o.Lines, l)
	}
	return o
}

func randomRules(rng *rand.Rand) RuleSet {
	rs := DefaultRuleSet()
	rs.Strategy = slices.Clone(Criteria)
	rng.Shuffle(len(rs.Strategy), func(i, j int) { rs.Strategy[i], rs.Strategy[j] = rs.Strategy[j], rs.Strategy[i] })
	rs.Strategy = rs.Strategy[:1+rng.IntN(len(rs.Strategy))]
	rs.StayInMarket, rs.RespectCapacity, rs.AllowSplit = rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(4) > 0
	rs.MaxShipments = 0
	if !rs.AllowSplit {
		rs.MaxShipments = rng.IntN(2)
	} else if rng.IntN(3) > 0 {
		rs.MaxShipments = 1 + rng.IntN(3)
	}
	for i := range rng.IntN(6) {
		rs.Ranking = append(rs.Ranking, fmt.Sprintf("L%03d", i*37%1000))
	}
	slices.Sort(rs.Ranking)
	rs.Ranking = slices.Compact(rs.Ranking)
	return rs
}

// TestRoute_Properties routes thousands of random orders under random rules
// and checks every promise of Route, and that the same inputs give the same
// plan.
func TestRoute_Properties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 12))
	for i := range 3000 {
		w := randomWorld(rng, 1+rng.IntN(30))
		rs := randomRules(rng)
		if err := rs.Validate("rules"); err != nil {
			t.Fatalf("random rules: %v", err)
		}
		p := Route(rs, w.order, w.locs, w.stock)
		checkPlan(t, rs, w.order, w.locs, w.stock, p)
		again := Route(rs, w.order, w.locs, w.stock)
		if !slices.EqualFunc(p.Trace, again.Trace, func(a, b Decision) bool { return a == b }) || !samePlan(p, again) {
			t.Fatalf("case %d: two routes of the same inputs differ", i)
		}
		if t.Failed() {
			t.Fatalf("case %d failed: rules %+v order %+v", i, rs, w.order)
		}
	}
}

// TestRoute_FillsWhenStockSuffices checks that an order every line of which
// one active, allowed location holds in full is filled from that location
// alone, whatever the strategy.
func TestRoute_FillsWhenStockSuffices(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 3))
	for i := range 1000 {
		w := randomWorld(rng, 2+rng.IntN(20))
		rs := randomRules(rng)
		rs.StayInMarket, rs.RespectCapacity = false, false
		w.order.Delivery.Method, w.order.SaleLocationID = MethodShip, ""
		for j := range w.order.Lines {
			w.order.Lines[j].Method = ""
		}
		full := &w.locs[rng.IntN(len(w.locs))]
		full.Active, full.Type = true, location.TypeWarehouse
		for _, l := range w.order.Lines {
			w.stock[full.ID][l.SKU] += l.Quantity
		}
		p := Route(rs, w.order, w.locs, w.stock)
		checkPlan(t, rs, w.order, w.locs, w.stock, p)
		if len(p.Unfilled) > 0 || len(p.Shipments) != 1 {
			t.Fatalf("case %d: want one shipment and nothing unfilled, got %d shipments, unfilled %+v", i, len(p.Shipments), p.Unfilled)
		}
	}
}
