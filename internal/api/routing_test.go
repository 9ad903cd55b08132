package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// routingRules is a complete rule set body: the default with changes.
func routingRules(edit func(map[string]any)) map[string]any {
	r := map[string]any{
		"allowed_types": map[string]any{"ship": []string{"warehouse", "store"}, "click_collect": []string{"store"},
			"ship_to_store": []string{"warehouse", "store"}, "take_now": []string{"store"}},
		"stay_in_market": true, "cross_border_types": []string{"bonded_warehouse"},
		"strategy": []string{"fewest_shipments", "distance", "rank"}, "allow_split": true, "max_shipments": 3, "respect_capacity": true,
	}
	if edit != nil {
		edit(r)
	}
	return r
}

// routingShop is a tenant with a Hong Kong warehouse and two stores.
func (s *server) routingShop(t *testing.T) (c caller, ids map[string]string) {
	t.Helper()
	c = s.newTenant(t)
	ids = map[string]string{}
	for _, l := range []struct {
		code, typ string
		lat, lng  float64
	}{{"HK-WH-01", "warehouse", 22.357, 114.127}, {"HK-CWB-01", "store", 22.280, 114.184}, {"HK-TST-01", "store", 22.297, 114.172}} {
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/locations", c.Secret, map[string]any{
			"code": l.code, "type": l.typ, "names": map[string]string{"en": l.code}, "time_zone": "Asia/Hong_Kong", "currency": "HKD",
			"address": map[string]string{"country": "HK"}, "coordinates": map[string]float64{"latitude": l.lat, "longitude": l.lng}}, nil)
		ids[l.code] = r.JSON["id"].(string)
	}
	return c, ids
}

type routingPlanJSON struct {
	RulesVersion *int `json:"rules_version"`
	Shipments    []struct {
		LocationID string   `json:"location_id"`
		Location   string   `json:"location"`
		Method     string   `json:"method"`
		DistanceKm *float64 `json:"distance_km"`
		Lines      []struct {
			Key      string `json:"key"`
			SKU      string `json:"sku"`
			Quantity int64  `json:"quantity"`
		} `json:"lines"`
	} `json:"shipments"`
	Unfilled []struct {
		Key      string `json:"key"`
		Quantity int64  `json:"quantity"`
		Reason   string `json:"reason"`
	} `json:"unfilled"`
	Trace []struct {
		LocationID string `json:"location_id"`
		Location   string `json:"location"`
		Method     string `json:"method"`
		Outcome    string `json:"outcome"`
		Reason     string `json:"reason"`
	} `json:"trace"`
}

// reasonFor is the trace's reason for a location and method.
func (p routingPlanJSON) reasonFor(code, method string) string {
	for _, d := range p.Trace {
		if d.Location == code && d.Method == method {
			return d.Outcome + ": " + d.Reason
		}
	}
	return ""
}

func TestRouting_RulesVersionsLifecycle(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		def := s.must(t, http.StatusOK, http.MethodGet, "/v1/routing/rules", c.Secret, nil, nil)
		if def.JSON["version"].(float64) != 0 || def.JSON["status"] != "active" || def.JSON["created_at"] != nil {
			t.Fatalf("default rules: %s", def)
		}
		put := s.must(t, http.StatusOK, http.MethodPut, "/v1/routing/rules", c.Secret, map[string]any{
			"rules": routingRules(func(r map[string]any) { r["ranking"] = []string{"HK-WH-01"} }), "note": "warehouse first"}, nil)
		if put.JSON["version"].(float64) != 1 || put.JSON["status"] != "active" || put.JSON["activated_by"] == "" {
			t.Fatalf("replace: %s", put)
		}
		draft := s.must(t, http.StatusCreated, http.MethodPost, "/v1/routing/rules/drafts", c.Secret, map[string]any{
			"rules": routingRules(func(r map[string]any) { r["allow_split"], r["max_shipments"] = false, 1 })}, nil)
		if draft.JSON["version"].(float64) != 2 || draft.JSON["status"] != "draft" {
			t.Fatalf("draft: %s", draft)
		}
		if cur := s.must(t, http.StatusOK, http.MethodGet, "/v1/routing/rules", c.Secret, nil, nil); cur.JSON["version"].(float64) != 1 {
			t.Fatalf("a draft went live: %s", cur)
		}
		first := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/routing/rules/versions?limit=1", c.Secret, nil, nil))
		if len(first.Data) != 1 || first.Data[0]["version"].(float64) != 2 || first.NextCursor == nil {
			t.Fatalf("first page: %+v", first)
		}
		second := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet,
			"/v1/routing/rules/versions?limit=1&cursor="+*first.NextCursor, c.Secret, nil, nil))
		if len(second.Data) != 1 || second.Data[0]["version"].(float64) != 1 || second.NextCursor != nil {
			t.Fatalf("second page: %+v", second)
		}
		s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/rules/versions/2/activate", c.Secret, nil, nil)
		if old := s.must(t, http.StatusOK, http.MethodGet, "/v1/routing/rules/versions/1", c.Secret, nil, nil); old.JSON["status"] != "retired" {
			t.Fatalf("replaced version: %s", old)
		}
		if cur := s.must(t, http.StatusOK, http.MethodGet, "/v1/routing/rules", c.Secret, nil, nil); cur.JSON["rules"].(map[string]any)["allow_split"] != false {
			t.Fatalf("activated draft: %s", cur)
		}
		assertProblem(t, s.do(t, http.MethodPost, "/v1/routing/rules/versions/9/activate", c.Secret, nil, nil), http.StatusNotFound)
		assertFieldError(t, s.do(t, http.MethodPut, "/v1/routing/rules", c.Secret, map[string]any{
			"rules": routingRules(func(r map[string]any) { r["strategy"] = []string{"cheapest"} })}, nil), "body.rules.strategy[0]")
		assertFieldError(t, s.do(t, http.MethodPut, "/v1/routing/rules", c.Secret, map[string]any{
			"rules": routingRules(func(r map[string]any) { r["allow_split"], r["max_shipments"] = false, 2 })}, nil), "body.rules.max_shipments")
		reader := s.newKey(t, c.TenantID, "orders:read")
		assertProblem(t, s.do(t, http.MethodPut, "/v1/routing/rules", reader.Secret, map[string]any{"rules": routingRules(nil)}, nil), http.StatusForbidden)
		s.must(t, http.StatusOK, http.MethodGet, "/v1/routing/rules/versions", reader.Secret, nil, nil)
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/routing/rules/versions/1", other.Secret, nil, nil), http.StatusNotFound)
	})
}

func TestRouting_CapacityEndpoints(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c, ids := s.routingShop(t)
		path := "/v1/locations/" + ids["HK-CWB-01"] + "/capacity"
		r := s.must(t, http.StatusOK, http.MethodPut, path, c.Secret, map[string]any{"daily_capacity": 200}, nil)
		if r.JSON["daily_capacity"].(float64) != 200 || r.JSON["location_code"] != "HK-CWB-01" || r.JSON["used_today"].(float64) != 0 ||
			r.JSON["day"] != time.Now().In(routingZone(t)).Format(time.DateOnly) {
			t.Fatalf("set capacity: %s", r)
		}
		if g := s.must(t, http.StatusOK, http.MethodGet, path, c.Secret, nil, nil); g.JSON["daily_capacity"].(float64) != 200 {
			t.Fatalf("get capacity: %s", g)
		}
		assertFieldError(t, s.do(t, http.MethodPut, path, c.Secret, map[string]any{"daily_capacity": -1}, nil), "body.daily_capacity")
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodPut, path, other.Secret, map[string]any{"daily_capacity": 5}, nil), http.StatusNotFound)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/locations/loc_nothing/capacity", c.Secret, nil, nil), http.StatusNotFound)
	})
}

func routingZone(t *testing.T) *time.Location {
	t.Helper()
	z, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestRouting_TestRoutesWithLiveCapacityAndTrace routes orders through POST
// /v1/routing/test: capacity used today is read live, the trace says why,
// a mixed basket takes one line now and ships another, and a draft version
// can be tried before it goes live.
func TestRouting_TestRoutesWithLiveCapacityAndTrace(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c, ids := s.routingShop(t)
		s.must(t, http.StatusOK, http.MethodPut, "/v1/locations/"+ids["HK-CWB-01"]+"/capacity", c.Secret, map[string]any{"daily_capacity": 1}, nil)
		cwb, err := id.Parse(id.Location, ids["HK-CWB-01"])
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			return sqldb.UseCapacity(ctx, tx, c.TenantID, []string{cwb}, db.Now())
		}); err != nil {
			t.Fatal(err)
		}
		quarryBay := map[string]any{"latitude": 22.288, "longitude": 114.213}
		body := map[string]any{
			"order": map[string]any{"delivery": map[string]any{"method": "ship", "country": "HK", "point": quarryBay},
				"lines": []map[string]any{{"key": "1", "sku": "TEE-M", "quantity": 1}}},
			"stock": map[string]any{"HK-CWB-01": map[string]int{"TEE-M": 5}, "HK-TST-01": map[string]int{"TEE-M": 5}, "HK-WH-01": map[string]int{"TEE-M": 5}},
		}
		p := decode[routingPlanJSON](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/test", c.Secret, body, nil))
		if len(p.Shipments) != 1 || p.Shipments[0].Location != "HK-TST-01" || p.Shipments[0].LocationID != ids["HK-TST-01"] ||
			p.RulesVersion == nil || *p.RulesVersion != 0 || len(p.Trace) != 3 {
			t.Fatalf("plan %+v", p)
		}
		if why := p.reasonFor("HK-CWB-01", "ship"); why != "skipped: daily capacity 1 reached" {
			t.Errorf("Causeway Bay: %q", why)
		}
		if why := p.reasonFor("HK-WH-01", "ship"); !strings.Contains(why, "beaten by HK-TST-01 (pick 1) on distance") {
			t.Errorf("warehouse: %q", why)
		}
		// A draft that ignores capacity ships from Causeway Bay, the nearest.
		d := s.must(t, http.StatusCreated, http.MethodPost, "/v1/routing/rules/drafts", c.Secret,
			map[string]any{"rules": routingRules(func(r map[string]any) { r["respect_capacity"] = false })}, nil)
		body["version"] = d.JSON["version"]
		if p := decode[routingPlanJSON](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/test", c.Secret, body, nil)); p.Shipments[0].Location != "HK-CWB-01" {
			t.Fatalf("draft plan %+v", p)
		}
		delete(body, "version")
		// Endless aisle at Tsim Sha Tsui: the cap now, the jacket shipped.
		body["order"] = map[string]any{"sale_location": "HK-TST-01",
			"delivery": map[string]any{"method": "ship", "country": "HK", "point": quarryBay},
			"lines":    []map[string]any{{"key": "1", "sku": "CAP", "quantity": 1, "method": "take_now"}, {"key": "2", "sku": "JKT", "quantity": 1}}}
		body["stock"] = map[string]any{"HK-TST-01": map[string]int{"CAP": 1}, "HK-WH-01": map[string]int{"JKT": 2}}
		p = decode[routingPlanJSON](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/test", c.Secret, body, nil))
		if len(p.Shipments) != 2 || p.Shipments[0].Method != "take_now" || p.Shipments[0].Location != "HK-TST-01" ||
			p.Shipments[1].Location != "HK-WH-01" || p.Shipments[1].DistanceKm == nil || len(p.Unfilled) != 0 {
			t.Fatalf("mixed basket %+v", p)
		}
		// Inline rules, and locations given in the body.
		body["rules"] = routingRules(func(r map[string]any) { r["allowed_types"].(map[string]any)["take_now"] = []string{} })
		body["locations"] = []map[string]any{{"code": "HK-TST-01", "type": "store", "country": "HK"}, {"code": "HK-WH-01", "type": "warehouse", "country": "HK"}}
		p = decode[routingPlanJSON](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/test", c.Secret, body, nil))
		if p.RulesVersion != nil || len(p.Unfilled) != 1 || p.Unfilled[0].Key != "1" || p.Shipments[0].LocationID != "" ||
			!strings.Contains(p.Unfilled[0].Reason, "type store not allowed for take_now") {
			t.Fatalf("inline rules %+v", p)
		}
	})
}

func TestRouting_TestRefusesBadBodies(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c, _ := s.routingShop(t)
		order := func(delivery map[string]any) map[string]any {
			return map[string]any{"delivery": delivery, "lines": []map[string]any{{"key": "1", "sku": "TEE", "quantity": 1}}}
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"ship without country", map[string]any{"order": order(map[string]any{"method": "ship"}), "stock": map[string]any{}}, "body.order.delivery.country"},
			{"collect at an unknown code", map[string]any{"order": order(map[string]any{"method": "click_collect", "location": "NOPE"}), "stock": map[string]any{}},
				"body.order.delivery.location"},
			{"collect with no location", map[string]any{"order": order(map[string]any{"method": "click_collect"}), "stock": map[string]any{}},
				"body.order.delivery.location"},
			{"stock at an unknown code", map[string]any{"order": order(map[string]any{"method": "ship", "country": "HK"}),
				"stock": map[string]any{"NOPE": map[string]int{"TEE": 1}}}, "body.stock.NOPE"},
			{"negative stock", map[string]any{"order": order(map[string]any{"method": "ship", "country": "HK"}),
				"stock": map[string]any{"HK-WH-01": map[string]int{"TEE": -1}}}, "body.stock.HK-WH-01.TEE"},
			{"bad inline rules", map[string]any{"order": order(map[string]any{"method": "ship", "country": "HK"}), "stock": map[string]any{},
				"rules": routingRules(func(r map[string]any) { r["strategy"] = []string{} })}, "body.rules.strategy"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				assertFieldError(t, s.do(t, http.MethodPost, "/v1/routing/test", c.Secret, tc.body, nil), tc.field)
			})
		}
		assertProblem(t, s.do(t, http.MethodPost, "/v1/routing/test", c.Secret, map[string]any{
			"order": order(map[string]any{"method": "ship", "country": "HK"}), "stock": map[string]any{}, "version": 7}, nil), http.StatusNotFound)
		noScope := s.newKey(t, c.TenantID, "catalog:read")
		assertProblem(t, s.do(t, http.MethodPost, "/v1/routing/test", noScope.Secret, map[string]any{
			"order": order(map[string]any{"method": "ship", "country": "HK"}), "stock": map[string]any{}}, nil), http.StatusForbidden)
	})
}

// TestRouting_SimulateComparesRuleSets runs a draft without splits against
// the active rules over cases on the tenant's locations and on locations in
// the body.
func TestRouting_SimulateComparesRuleSets(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c, _ := s.routingShop(t)
		ship := map[string]any{"method": "ship", "country": "HK", "point": map[string]any{"latitude": 22.288, "longitude": 114.213}}
		twoLines := []map[string]any{{"key": "1", "sku": "TEE", "quantity": 1}, {"key": "2", "sku": "CAP", "quantity": 1}}
		var cases []map[string]any
		for i := range 4 {
			stock := map[string]any{"HK-WH-01": map[string]int{"TEE": 1, "CAP": 1}}
			if i%2 == 1 { // no single location has both: a split
				stock = map[string]any{"HK-WH-01": map[string]int{"TEE": 1}, "HK-CWB-01": map[string]int{"CAP": 1}}
			}
			cases = append(cases, map[string]any{"name": fmt.Sprint("order ", i), "order": map[string]any{"delivery": ship, "lines": twoLines}, "stock": stock})
		}
		cases = append(cases, map[string]any{"name": "pop-up network", "order": map[string]any{"delivery": ship, "lines": twoLines},
			"locations": []map[string]any{{"code": "P1", "type": "store", "country": "HK"}, {"code": "P2", "type": "store", "country": "HK"}},
			"stock":     map[string]any{"P1": map[string]int{"TEE": 1}, "P2": map[string]int{"CAP": 1}}})
		r := s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/simulate", c.Secret, map[string]any{
			"draft": routingRules(func(r map[string]any) { r["allow_split"], r["max_shipments"] = false, 1 }), "cases": cases}, nil)
		cur, draft := r.JSON["current"].(map[string]any), r.JSON["draft"].(map[string]any)
		if cur["orders"].(float64) != 5 || cur["shipments"].(float64) != 8 || cur["split_orders"].(float64) != 3 || cur["unfilled_lines"].(float64) != 0 ||
			draft["shipments"].(float64) != 5 || draft["split_orders"].(float64) != 0 || draft["unfilled_lines"].(float64) != 3 {
			t.Fatalf("totals: %s", r)
		}
		if cur["distance_km"].(float64) <= draft["distance_km"].(float64) || cur["mean_distance_km"].(float64) <= 0 {
			t.Errorf("distances: %s", r)
		}
		diffs := r.JSON["cases"].([]any)
		if r.JSON["changed"].(float64) != 3 || len(diffs) != 3 || diffs[2].(map[string]any)["name"] != "pop-up network" ||
			r.JSON["current_version"].(float64) != 0 || r.JSON["draft_version"] != nil {
			t.Fatalf("changed cases: %s", r)
		}
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/routing/simulate", c.Secret, map[string]any{"cases": cases}, nil), "body.draft")
		bad := append(cases[:1:1], map[string]any{"order": map[string]any{"delivery": ship, "lines": twoLines}, "stock": map[string]any{"NOPE": map[string]int{}}})
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/routing/simulate", c.Secret, map[string]any{"draft": routingRules(nil), "cases": bad}, nil), "body.cases[1].stock.NOPE")
	})
}
