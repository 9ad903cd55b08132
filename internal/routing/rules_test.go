package routing

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func TestRuleSet_Validate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(*RuleSet)
		field string // "" when valid
	}{
		{"default", func(*RuleSet) {}, ""},
		{"no split, one shipment", func(r *RuleSet) { r.AllowSplit, r.MaxShipments = false, 1 }, ""},
		{"method not offered", func(r *RuleSet) { r.AllowedTypes.TakeNow = nil }, ""},
		{"unknown type", func(r *RuleSet) { r.AllowedTypes.Ship = []string{"warehouse", "shop"} }, "body.allowed_types.ship[1]"},
		{"type twice", func(r *RuleSet) { r.AllowedTypes.ClickCollect = []string{"store", "store"} }, "body.allowed_types.click_collect[1]"},
		{"unknown cross-border type", func(r *RuleSet) { r.CrossBorderTypes = []string{"port"} }, "body.cross_border_types[0]"},
		{"bad ranking code", func(r *RuleSet) { r.Ranking = []string{"HK 1"} }, "body.ranking[0]"},
		{"ranking twice", func(r *RuleSet) { r.Ranking = []string{"HK-1", "HK-2", "HK-1"} }, "body.ranking[2]"},
		{"no strategy", func(r *RuleSet) { r.Strategy = nil }, "body.strategy"},
		{"unknown criterion", func(r *RuleSet) { r.Strategy = []string{"cheapest"} }, "body.strategy[0]"},
		{"criterion twice", func(r *RuleSet) { r.Strategy = []string{"rank", "distance", "rank"} }, "body.strategy[2]"},
		{"negative max", func(r *RuleSet) { r.MaxShipments = -1 }, "body.max_shipments"},
		{"max over cap", func(r *RuleSet) { r.MaxShipments = MaxShipmentsCap + 1 }, "body.max_shipments"},
		{"max without split", func(r *RuleSet) { r.AllowSplit, r.MaxShipments = false, 2 }, "body.max_shipments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := DefaultRuleSet()
			tc.edit(&rs)
			err := rs.Validate("body")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || len(e.Fields) != 1 || e.Fields[0].Location != tc.field {
				t.Fatalf("want one invalid field %s, got %#v", tc.field, err)
			}
		})
	}
}

func TestParseRuleSet(t *testing.T) {
	t.Parallel()
	raw, err := json.Marshal(DefaultRuleSet())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRuleSet(raw, "body")
	if err != nil || !reflect.DeepEqual(rs, DefaultRuleSet()) {
		t.Fatalf("round trip: %v, %+v", err, rs)
	}
	for _, bad := range []string{
		`{"strategy": ["rank"], "colour": "red"}`,
		`{"strategy": ["rank"]} {"strategy": ["rank"]}`,
		`{"strategy": "rank"}`,
		`[]`,
		``,
	} {
		if _, err := ParseRuleSet([]byte(bad), "body"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: want Invalid, got %v", bad, err)
		}
	}
}

// FuzzParseRuleSet feeds arbitrary JSON to the rule-set parser: it must
// never panic, accept only valid rule sets, read back what it writes, and
// any rule set it accepts must route without breaking Route's promises.
func FuzzParseRuleSet(f *testing.F) {
	raw, _ := json.Marshal(DefaultRuleSet())
	f.Add(raw)
	f.Add([]byte(`{"allowed_types":{"ship":["warehouse"],"click_collect":[],"ship_to_store":[],"take_now":["store"]},"strategy":["rank","distance"],"ranking":["HK-WH-01"],"allow_split":true,"max_shipments":2}`))
	f.Add([]byte(`{"strategy":["capacity"],"allow_split":false,"max_shipments":1,"stay_in_market":true,"cross_border_types":["bonded_warehouse"]}`))
	f.Add([]byte(`{"strategy":["fewest_shipments"],"max_shipments":-3}`))
	f.Add([]byte(`{"strategy":[null]}`))
	w := randomWorld(rand.New(rand.NewPCG(1, 2)), 25)
	f.Fuzz(func(t *testing.T, raw []byte) {
		rs, err := ParseRuleSet(raw, "body")
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error of kind %s: %v", apperr.KindOf(err), err)
			}
			return
		}
		if err := rs.Validate("body"); err != nil {
			t.Fatalf("accepted an invalid rule set: %v", err)
		}
		again, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		rs2, err := ParseRuleSet(again, "body")
		if err != nil {
			t.Fatalf("does not read back what it writes: %v", err)
		}
		if twice, _ := json.Marshal(rs2); string(twice) != string(again) {
			t.Fatalf("does not read back what it writes:\n%s\n%s", again, twice)
		}
		checkPlan(t, rs, w.order, w.locs, w.stock, Route(rs, w.order, w.locs, w.stock))
	})
}
