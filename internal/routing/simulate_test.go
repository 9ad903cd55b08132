package routing

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSimulate_SplitOffAgainstDefault(t *testing.T) {
	t.Parallel()
	cases := []Case{
		{Name: "one place has all", Order: shipOrder(Line{Key: "1", SKU: "A", Quantity: 1}, Line{Key: "2", SKU: "B", Quantity: 1}),
			Locations: shop(), Stock: Stock{"wh": {"A": 1, "B": 1}}},
		{Name: "needs a split", Order: shipOrder(Line{Key: "1", SKU: "A", Quantity: 1}, Line{Key: "2", SKU: "B", Quantity: 1}),
			Locations: shop(), Stock: Stock{"wh": {"A": 1}, "cwb": {"B": 1}}},
		{Name: "nowhere", Order: shipOrder(Line{Key: "1", SKU: "Z", Quantity: 2}), Locations: shop(), Stock: Stock{}},
	}
	draft := DefaultRuleSet()
	draft.AllowSplit, draft.MaxShipments = false, 1
	rep := Simulate(DefaultRuleSet(), draft, cases)

	wantCur := Totals{Orders: 3, FilledOrders: 2, Shipments: 3, SplitOrders: 1, UnfilledLines: 1, UnfilledUnits: 2}
	wantDraft := Totals{Orders: 3, FilledOrders: 1, Shipments: 2, SplitOrders: 0, UnfilledLines: 2, UnfilledUnits: 3}
	for _, c := range []struct {
		name      string
		got, want Totals
	}{{"current", rep.Current, wantCur}, {"draft", rep.Draft, wantDraft}} {
		g := c.got
		g.DistanceKm, g.MeanDistanceKm, g.measured = 0, 0, 0
		if g != c.want {
			t.Errorf("%s totals %+v, want %+v", c.name, c.got, c.want)
		}
	}
	if rep.Changed != 1 || len(rep.Cases) != 1 || rep.Cases[0].Index != 1 || rep.Cases[0].Name != "needs a split" {
		t.Fatalf("changed cases: %+v", rep.Cases)
	}
	d := rep.Cases[0]
	if d.Current.Shipments != 2 || !d.Current.Split || d.Draft.Shipments != 1 || d.Draft.UnfilledLines != 1 {
		t.Errorf("case diff %+v", d)
	}
}

// TestSimulate_TotalsAddUp checks the report against routing each case alone.
func TestSimulate_TotalsAddUp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 8))
	var cases []Case
	for range 200 {
		w := randomWorld(rng, 3+rng.IntN(20))
		cases = append(cases, Case{Order: w.order, Locations: w.locs, Stock: w.stock})
	}
	cur, draft := randomRules(rng), randomRules(rng)
	rep := Simulate(cur, draft, cases)
	var shipments, unfilled, changed int
	var dist float64
	for _, c := range cases {
		p := Route(draft, c.Order, c.Locations, c.Stock)
		shipments += len(p.Shipments)
		unfilled += len(p.Unfilled)
		dist += p.DistanceKm()
		if !samePlan(p, Route(cur, c.Order, c.Locations, c.Stock)) {
			changed++
		}
	}
	if rep.Draft.Orders != len(cases) || rep.Draft.Shipments != shipments || rep.Draft.UnfilledLines != unfilled ||
		math.Abs(rep.Draft.DistanceKm-dist) > 0.01 || rep.Changed != changed || len(rep.Cases) != changed {
		t.Fatalf("report %+v does not add up: %d shipments, %d unfilled, %.2f km, %d changed", rep.Draft, shipments, unfilled, dist, changed)
	}
	if changed == 0 {
		t.Fatal("two random rule sets never differed; the test shows nothing")
	}
}
