package routing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/location"
)

func TestDistanceKm(t *testing.T) {
	t.Parallel()
	paris, london := Point{48.8566, 2.3522}, Point{51.5074, -0.1278}
	hk, sg := Point{22.3193, 114.1694}, Point{1.3521, 103.8198}
	for _, tc := range []struct {
		name string
		a, b Point
		want float64 // km, from published great-circle figures
	}{
		{"same point", hk, hk, 0},
		{"Paris to London", paris, london, 343.5},
		{"Hong Kong to Singapore", hk, sg, 2590},
		{"across the antimeridian", Point{0, 179.5}, Point{0, -179.5}, 111.2},
		{"pole to pole", Point{90, 0}, Point{-90, 0}, math.Pi * earthRadiusKm},
	} {
		got, back := DistanceKm(tc.a, tc.b), DistanceKm(tc.b, tc.a)
		if math.Abs(got-tc.want) > math.Max(1, tc.want*0.005) || got != back {
			t.Errorf("%s: %.2f km (back %.2f), want about %.1f", tc.name, got, back, tc.want)
		}
	}
}

func TestOrder_Validate(t *testing.T) {
	t.Parallel()
	valid := func() Order {
		return Order{Delivery: Delivery{Method: MethodShip, Country: "HK", Point: &Point{22.3, 114.2}},
			Lines: []Line{{Key: "1", SKU: "A", Quantity: 1}, {Key: "2", SKU: "B", Quantity: 2}}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Order)
		field string
	}{
		{"valid", func(*Order) {}, ""},
		{"mixed basket", func(o *Order) { o.SaleLocationID, o.Lines[0].Method = "loc-1", MethodTakeNow }, ""},
		{"take now at the pickup location", func(o *Order) {
			o.Delivery = Delivery{Method: MethodClickCollect, LocationID: "loc-1"}
			o.Lines[1].Method = MethodTakeNow
		}, ""},
		{"unknown method", func(o *Order) { o.Delivery.Method = "drone" }, "order.delivery.method"},
		{"ship without country", func(o *Order) { o.Delivery.Country = "" }, "order.delivery.country"},
		{"lower-case country", func(o *Order) { o.Delivery.Country = "hk" }, "order.delivery.country"},
		{"bad point", func(o *Order) { o.Delivery.Point = &Point{91, 0} }, "order.delivery.point"},
		{"no lines", func(o *Order) { o.Lines = nil }, "order.lines"},
		{"key twice", func(o *Order) { o.Lines[1].Key = "1" }, "order.lines[1].key"},
		{"no sku", func(o *Order) { o.Lines[0].SKU = " " }, "order.lines[0].sku"},
		{"zero quantity", func(o *Order) { o.Lines[1].Quantity = 0 }, "order.lines[1].quantity"},
		{"bad line method", func(o *Order) { o.Lines[0].Method = "post" }, "order.lines[0].method"},
		{"collect without location", func(o *Order) { o.Lines[0].Method = MethodClickCollect }, "order.delivery.location_id"},
		{"take now without store", func(o *Order) { o.Lines[0].Method = MethodTakeNow }, "order.sale_location_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := valid()
			tc.edit(&o)
			err := o.Validate("order")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || len(e.Fields) != 1 || e.Fields[0].Location != tc.field {
				t.Fatalf("want one invalid field %s, got %#v", tc.field, err)
			}
		})
	}
}

// shop is a few Hong Kong locations for table tests.
func shop() []Location {
	return []Location{
		{ID: "wh", Code: "WH", Type: location.TypeWarehouse, Country: "HK", Active: true, Point: &Point{22.357, 114.127}},
		{ID: "cwb", Code: "CWB", Type: location.TypeStore, Country: "HK", Active: true, Point: &Point{22.280, 114.184}},
		{ID: "tst", Code: "TST", Type: location.TypeStore, Country: "HK", Active: true, Point: &Point{22.297, 114.172}},
	}
}

func shipOrder(lines ...Line) Order {
	return Order{Delivery: Delivery{Method: MethodShip, Country: "HK", Point: &Point{22.288, 114.213}}, Lines: lines}
}

// summary words a plan's shipments and unfilled lines compactly:
// "CWB ship 1×2 2×1 | unfilled 3×1".
func summary(p Plan) string {
	var parts []string
	for _, s := range p.Shipments {
		part := s.LocationCode + " " + s.Method
		for _, l := range s.Lines {
			part += fmt.Sprintf(" %s×%d", l.Key, l.Quantity)
		}
		parts = append(parts, part)
	}
	for _, u := range p.Unfilled {
		parts = append(parts, fmt.Sprintf("unfilled %s×%d", u.Key, u.Quantity))
	}
	return strings.Join(parts, " | ")
}

func TestRoute_Table(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rules func(*RuleSet)
		order Order
		stock Stock
		want  string
	}{
		{"two lines of one SKU share its units", nil,
			shipOrder(Line{Key: "1", SKU: "A", Quantity: 1}, Line{Key: "2", SKU: "A", Quantity: 1}),
			Stock{"cwb": {"A": 1}}, "CWB ship 1×1 | unfilled 2×1"},
		{"two lines of one SKU from two places", nil,
			shipOrder(Line{Key: "1", SKU: "A", Quantity: 2}, Line{Key: "2", SKU: "A", Quantity: 1}),
			Stock{"cwb": {"A": 2}, "wh": {"A": 1}}, "CWB ship 1×2 | WH ship 2×1"},
		{"negative stock counts as none", nil,
			shipOrder(Line{Key: "1", SKU: "A", Quantity: 1}), Stock{"cwb": {"A": -4}, "wh": {"A": 1}}, "WH ship 1×1"},
		{"no stock at all", nil, shipOrder(Line{Key: "1", SKU: "A", Quantity: 3}), nil, "unfilled 1×3"},
		{"unlimited shipments, capacity ignored", func(r *RuleSet) { r.MaxShipments, r.RespectCapacity = 0, false },
			shipOrder(Line{Key: "1", SKU: "A", Quantity: 1}, Line{Key: "2", SKU: "B", Quantity: 1}, Line{Key: "3", SKU: "C", Quantity: 1}),
			Stock{"cwb": {"A": 1}, "tst": {"B": 1}, "wh": {"C": 1}}, "CWB ship 1×1 | TST ship 2×1 | WH ship 3×1"},
		{"ship method not offered", func(r *RuleSet) { r.AllowedTypes.Ship = nil },
			shipOrder(Line{Key: "1", SKU: "A", Quantity: 1}), Stock{"cwb": {"A": 1}}, "unfilled 1×1"},
		{"unknown pickup location", nil,
			Order{Delivery: Delivery{Method: MethodClickCollect, LocationID: "nowhere"}, Lines: []Line{{Key: "1", SKU: "A", Quantity: 1}}},
			Stock{"cwb": {"A": 1}}, "unfilled 1×1"},
		{"unknown method on a line", nil,
			shipOrder(Line{Key: "1", SKU: "A", Quantity: 1, Method: "drone"}), Stock{"cwb": {"A": 1}}, "unfilled 1×1"},
		{"take now uses capacity-free counter stock", func(r *RuleSet) { r.RespectCapacity = true },
			Order{SaleLocationID: "tst", Delivery: Delivery{Method: MethodTakeNow}, Lines: []Line{{Key: "1", SKU: "A", Quantity: 1}}},
			Stock{"tst": {"A": 1}}, "TST take_now 1×1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := DefaultRuleSet()
			if tc.rules != nil {
				tc.rules(&rs)
			}
			locs := shop()
			locs[2].DailyCapacity, locs[2].UsedToday = 1, 1 // TST is full today
			p := Route(rs, tc.order, locs, tc.stock)
			checkPlan(t, rs, tc.order, locs, tc.stock, p)
			if got := summary(p); got != tc.want {
				t.Errorf("got %q, want %q\ntrace %+v\nunfilled %+v", got, tc.want, p.Trace, p.Unfilled)
			}
		})
	}
}

// TestRoute_LocationOrderDoesNotMatter routes random cases with the
// locations shuffled: ties go by code, so the plan and trace stay the same.
func TestRoute_LocationOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		w := randomWorld(rng, 2+rng.IntN(25))
		for j := range w.locs { // unique codes, as a tenant's are
			w.locs[j].Code = fmt.Sprintf("%s-%d", w.locs[j].Code, j)
		}
		rs := randomRules(rng)
		a := Route(rs, w.order, w.locs, w.stock)
		shuffled := slices.Clone(w.locs)
		rng.Shuffle(len(shuffled), func(x, y int) { shuffled[x], shuffled[y] = shuffled[y], shuffled[x] })
		b := Route(rs, w.order, shuffled, w.stock)
		if !samePlan(a, b) || !slices.Equal(a.Trace, b.Trace) {
			t.Fatalf("case %d: the plan depends on the order of locations:\n%s\n%s", i, summary(a), summary(b))
		}
	}
}

// TestRoute_FewestShipmentsIsMinimal checks the exact search against brute
// force: with fewest_shipments first, no cap, and one unit per line, the
// plan uses as few locations as any set of locations that holds every line.
func TestRoute_FewestShipmentsIsMinimal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 7))
	rs := DefaultRuleSet()
	rs.MaxShipments, rs.StayInMarket, rs.RespectCapacity = 0, false, false
	for i := range 300 {
		n := 2 + rng.IntN(6)
		var lines []Line
		for j := range n {
			lines = append(lines, Line{Key: fmt.Sprint(j), SKU: fmt.Sprintf("S%d", j), Quantity: 1})
		}
		var locs []Location
		stock := Stock{}
		for j := range 3 + rng.IntN(6) {
			id := fmt.Sprintf("l%d", j)
			locs = append(locs, Location{ID: id, Code: id, Type: location.TypeWarehouse, Active: true})
			stock[id] = map[string]int64{}
			for _, l := range lines {
				if rng.IntN(3) == 0 {
					stock[id][l.SKU] = 1
				}
			}
		}
		p := Route(rs, shipOrder(lines...), locs, stock)
		if best := bruteForceCover(lines, locs, stock); len(p.Unfilled) == 0 && len(p.Shipments) != best {
			t.Fatalf("case %d: %d shipments, %d would do: %s", i, len(p.Shipments), best, summary(p))
		}
	}
}

// bruteForceCover is the fewest locations holding every line (one unit each).
func bruteForceCover(lines []Line, locs []Location, stock Stock) int {
	best := math.MaxInt
	for set := 1; set < 1<<len(locs); set++ {
		covered := 0
		for _, l := range lines {
			for j, loc := range locs {
				if set&(1<<j) != 0 && stock[loc.ID][l.SKU] > 0 {
					covered++
					break
				}
			}
		}
		if count := popcount(set); covered == len(lines) && count < best {
			best = count
		}
	}
	return best
}

func popcount(x int) int {
	n := 0
	for ; x > 0; x &= x - 1 {
		n++
	}
	return n
}
