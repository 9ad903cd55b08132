package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestServe_InventoryEndToEnd runs inventory through the real binary: a
// receipt, a hold that the web shop's safety stock refuses and one it
// allows, a VIP hold, a commit, the journal and the facts, the
// reservation-expiry and facts jobs run by the server, and the stock
// invariants on the database afterwards.
//
// Not parallel: on PostgreSQL the tests of this package share one job queue.
func TestServe_InventoryEndToEnd(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			dbURL := sqldbtest.URL(t, e)
			var tenant struct {
				TenantID string `json:"tenant_id"`
				APIKey   string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(runCLI(t, "tenant", "create", "--db", dbURL, "--name", "Stock Brand")), &tenant); err != nil {
				t.Fatal(err)
			}
			base, stop := startServe(t, dbURL)
			c := client{t: t, base: base, key: tenant.APIKey}
			loc := c.mustDo("POST", "/v1/locations", 201, map[string]any{"code": "CWB", "type": "store",
				"names": map[string]string{"en": "Causeway Bay"}, "time_zone": "Asia/Hong_Kong", "currency": "HKD"})["id"].(string)
			c.mustDo("POST", "/v1/sales_channels", 201, map[string]any{"code": "web", "type": "web", "names": map[string]string{"en": "Web"}})
			c.mustDo("POST", "/v1/inventory/movements", 201, map[string]any{"kind": "receipt", "sku": "DRESS-S", "location_id": loc,
				"quantity": 3, "key": "GRN-1:1"})
			c.mustDo("PUT", "/v1/inventory/safety_stock", 200, map[string]any{"sales_channel": "web", "location_id": loc, "quantity": 1})
			line := []map[string]any{{"sku": "DRESS-S", "location_id": loc, "quantity": 3}}
			c.mustDo("POST", "/v1/inventory/reservations", 409, map[string]any{"ref": "cart-1", "sales_channel": "web", "lines": line})
			line[0]["quantity"] = 2
			c.mustDo("POST", "/v1/inventory/reservations", 201, map[string]any{"ref": "cart-1", "sales_channel": "web", "lines": line})
			line[0]["quantity"] = 1
			vip := c.mustDo("POST", "/v1/inventory/reservations", 201, map[string]any{"ref": "vip:amy", "ttl_seconds": 86400, "lines": line})
			c.mustDo("POST", "/v1/inventory/reservations/"+vip["id"].(string)+"/commit", 200, map[string]any{"reference": "R1-0042"})
			levels := c.mustDo("GET", "/v1/inventory?sku=DRESS-S", 200, nil)["data"].([]any)
			if l := levels[0].(map[string]any); l["on_hand"] != 2.0 || l["reserved"] != 2.0 || l["available"] != 0.0 {
				t.Fatalf("level %v", l)
			}
			if j := c.mustDo("GET", "/v1/inventory/movements?sku=DRESS-S", 200, nil)["data"].([]any); len(j) != 2 {
				t.Fatalf("journal %v", j)
			}
			if f := c.mustDo("GET", "/v1/inventory/facts?kind=back_in_stock", 200, nil)["data"].([]any); len(f) != 1 {
				t.Fatalf("facts %v", f)
			}
			waitForMetric(t, base, `omo_jobs_total{kind="inventory.reservation_expiry",state="completed"}`)
			waitForMetric(t, base, `omo_jobs_total{kind="inventory.facts",state="completed"}`)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			db, err := sqldb.Open(context.Background(), dbURL, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tid, err := id.Parse(id.Tenant, tenant.TenantID) // the stored form: the checker must see this tenant's rows
			if err != nil {
				t.Fatal(err)
			}
			if bad, err := db.CheckInventory(context.Background(), tid); err != nil || len(bad) > 0 {
				t.Fatalf("invariants: %v %v", bad, err)
			}
		})
	}
}
