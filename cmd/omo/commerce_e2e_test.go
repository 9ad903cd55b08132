package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestServe_CommerceEndToEnd sells through the real binary: a catalog with
// names in three languages and a price list, stock in a warehouse, a web
// cart shipped to Hong Kong (with a shipping charge the threshold waives),
// quote, checkout (twice: one order), the shipment through its states with
// a tracking number, a return by post restocked, the order's history, and
// the stock and loyalty invariants on the database afterwards.
//
// Not parallel: on PostgreSQL the tests of this package share one job queue.
func TestServe_CommerceEndToEnd(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			dbURL := sqldbtest.URL(t, e)
			var tenant struct {
				TenantID string `json:"tenant_id"`
				APIKey   string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(runCLI(t, "tenant", "create", "--db", dbURL, "--name", "Linen & Co")), &tenant); err != nil {
				t.Fatal(err)
			}
			base, stop := startServe(t, dbURL)
			c := client{t: t, base: base, key: tenant.APIKey}
			wh := c.mustDo("POST", "/v1/locations", 201, map[string]any{"code": "KC-WH", "type": "warehouse", "names": map[string]string{"en": "Kwai Chung"},
				"time_zone": "Asia/Hong_Kong", "currency": "HKD", "address": map[string]any{"country": "HK"},
				"coordinates": map[string]float64{"latitude": 22.36, "longitude": 114.12}})["id"].(string)
			c.mustDo("POST", "/v1/sales_channels", 201, map[string]any{"code": "web", "type": "web", "names": map[string]string{"en": "Web"}})
			c.mustDo("PUT", "/v1/commerce/settings", 200, map[string]any{"shipping": []map[string]any{{"method": "ship", "currency": "HKD", "amount": 3000}},
				"free_shipping": []map[string]any{{"currency": "HKD", "amount": 100000}}})
			c.mustDo("POST", "/v1/products", 201, map[string]any{"names": map[string]string{"en": "Linen tee", "zh-Hant": "麻質T恤", "zh-Hans": "麻质T恤"},
				"options": []string{"size"}, "variants": []map[string]any{{"sku": "TEE-M", "options": map[string]string{"size": "M"}},
					{"sku": "TEE-L", "options": map[string]string{"size": "L"}}}})
			pl := c.mustDo("POST", "/v1/price_lists", 201, map[string]any{"code": "web-hkd", "name": "Web HKD", "currency": "HKD"})["id"].(string)
			c.mustDo("POST", "/v1/price_lists/"+pl+"/prices", 200, map[string]any{"prices": []map[string]any{{"sku": "TEE-M", "amount": 29900},
				{"sku": "TEE-L", "amount": 29900, "compare_at": 39900}}})
			for sku, n := range map[string]int{"TEE-M": 5, "TEE-L": 1} {
				c.mustDo("POST", "/v1/inventory/movements", 201, map[string]any{"kind": "receipt", "sku": sku, "location_id": wh, "quantity": n})
			}
			cart := c.mustDo("POST", "/v1/carts", 201, map[string]any{"sales_channel": "web", "currency": "HKD", "email": "mei@linen.hk",
				"lines": []map[string]any{{"sku": "TEE-M", "quantity": 2}}})["id"].(string)
			c.mustDo("POST", "/v1/carts/"+cart+"/lines", 200, map[string]any{"sku": "TEE-L", "quantity": 1})
			got := c.mustDo("PUT", "/v1/carts/"+cart+"/delivery", 200, map[string]any{"method": "ship",
				"address": map[string]any{"country": "HK", "city": "Hong Kong", "point": map[string]float64{"lat": 22.28, "lon": 114.16}}})
			if tot := got["totals"].(map[string]any); tot["total"] != 92700.0 || tot["shipping_discount"] != 0.0 {
				t.Fatalf("totals below the free-shipping threshold: %v", tot)
			}
			c.mustDo("PATCH", "/v1/carts/"+cart+"/lines/"+got["lines"].([]any)[0].(map[string]any)["id"].(string), 200, map[string]any{"quantity": 3})
			q := c.mustDo("POST", "/v1/carts/"+cart+"/quote", 200, nil)
			if tot := q["totals"].(map[string]any); tot["total"] != 119600.0 || tot["shipping_discount"] != 3000.0 {
				t.Fatalf("quote: %v", q)
			}
			o := c.mustDo("POST", "/v1/carts/"+cart+"/complete", 201, map[string]any{"payment": map[string]any{"method": "cash_on_delivery"},
				"expected_total": 119600})
			if again := c.mustDo("POST", "/v1/carts/"+cart+"/complete", 200, map[string]any{"payment": map[string]any{"method": "cash_on_delivery"}}); again["id"] != o["id"] {
				t.Fatalf("a second order: %v", again["id"])
			}
			ship := o["shipments"].([]any)[0].(map[string]any)["id"].(string)
			for _, st := range []string{"picking", "packed", "shipped", "delivered"} {
				c.mustDo("POST", "/v1/shipments/"+ship+"/status", 200, map[string]any{"status": st, "carrier": "SF Express", "tracking_number": "SF1234567890"})
			}
			c.mustDo("POST", "/v1/shipments/"+ship+"/status", 409, map[string]any{"status": "cancelled"})
			oid := o["id"].(string)
			ret := c.mustDo("POST", "/v1/orders/"+oid+"/returns", 201, map[string]any{"lines": []map[string]any{{"line_no": 1, "quantity": 1, "restock": true}}})
			if ret["refund_total"] != 29900.0 {
				t.Fatalf("return: %v", ret)
			}
			c.mustDo("POST", "/v1/orders/"+oid+"/returns", 400, map[string]any{"lines": []map[string]any{{"line_no": 2, "quantity": 2}}})
			if evs := c.mustDo("GET", "/v1/orders/"+oid+"/events", 200, nil)["data"].([]any); len(evs) != 6 {
				t.Fatalf("history: %v", evs)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			db, err := sqldb.Open(context.Background(), dbURL, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tid, err := id.Parse(id.Tenant, tenant.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			for name, check := range map[string]func(context.Context, string) ([]string, error){"inventory": db.CheckInventory, "loyalty": db.CheckLoyalty} {
				bad, err := check(context.Background(), tid)
				if err != nil || len(bad) > 0 {
					t.Fatalf("%s invariants: %v %v", name, bad, err)
				}
			}
		})
	}
}
