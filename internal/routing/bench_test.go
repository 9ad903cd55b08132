package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/omo-platform/omo/internal/location"
)

// benchWorld is 200 locations across Hong Kong, Singapore and Taiwan (a
// tenth warehouses, a few bonded, the rest stores, outlets and pop-ups), 40
// SKUs stocked thinly so that no location holds the whole order and it must
// split, and a ranking of 20 codes.
func benchWorld() ([]Location, Stock, Order, RuleSet) {
	rng := rand.New(rand.NewPCG(200, 3))
	markets := []struct {
		country  string
		lat, lon float64
	}{{"HK", 22.32, 114.17}, {"HK", 22.32, 114.17}, {"SG", 1.35, 103.82}, {"TW", 25.03, 121.56}}
	types := []string{location.TypeStore, location.TypeStore, location.TypeStore, location.TypeOutlet, location.TypePopUp,
		location.TypeWarehouse, location.TypeBondedWarehouse}
	var locs []Location
	stock := Stock{}
	for i := range 200 {
		m := markets[i%len(markets)]
		l := Location{ID: fmt.Sprintf("loc-%03d", i), Code: fmt.Sprintf("%s-%03d", m.country, i), Type: types[i%len(types)],
			Country: m.country, Active: i%25 != 0,
			Point: &Point{Latitude: m.lat + rng.Float64()*0.2 - 0.1, Longitude: m.lon + rng.Float64()*0.2 - 0.1}}
		if i%3 == 0 {
			l.DailyCapacity, l.UsedToday = 150, int64(rng.IntN(160))
		}
		locs = append(locs, l)
		stock[l.ID] = map[string]int64{}
		for s := range 40 {
			if rng.IntN(8) == 0 {
				stock[l.ID][fmt.Sprintf("SKU-%02d", s)] = int64(rng.IntN(3))
			}
		}
	}
	o := shipOrder(Line{Key: "1", SKU: "SKU-03", Quantity: 1}, Line{Key: "2", SKU: "SKU-17", Quantity: 2}, Line{Key: "3", SKU: "SKU-29", Quantity: 1})
	rs := DefaultRuleSet()
	for i := range 20 {
		rs.Ranking = append(rs.Ranking, locs[i*7].Code)
	}
	return locs, stock, o, rs
}

// BenchmarkRoute3Lines200Locations is the figure: a 3-line order
// across 200 locations, trace included, must route in under 2 ms.
func BenchmarkRoute3Lines200Locations(b *testing.B) {
	locs, stock, o, rs := benchWorld()
	b.ReportAllocs()
	for b.Loop() {
		Route(rs, o, locs, stock)
	}
}

// TestBenchWorld_Splits keeps the benchmark honest: its order needs a split.
func TestBenchWorld_Splits(t *testing.T) {
	t.Parallel()
	locs, stock, o, rs := benchWorld()
	p := Route(rs, o, locs, stock)
	checkPlan(t, rs, o, locs, stock, p)
	if len(p.Shipments) < 2 || len(p.Unfilled) > 0 || len(p.Trace) != len(locs) {
		t.Fatalf("want a filled split with a decision per location, got %s (%d decisions)", summary(p), len(p.Trace))
	}
}
