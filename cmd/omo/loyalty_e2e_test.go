package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestServe_LoyaltyEndToEnd runs the loyalty engine through the real
// binary: a program, a purchase that earns in its own response, a return
// that claws back, the balance endpoint, the periodic jobs, and `omo loyalty
// check` on the database afterwards.
//
// Not parallel: on PostgreSQL the tests of this package share one database,
// and so one job queue, and another test's server counts its own jobs.
func TestServe_LoyaltyEndToEnd(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			dbURL := sqldbtest.URL(t, e)
			var tenant struct {
				TenantID string `json:"tenant_id"`
				APIKey   string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(runCLI(t, "tenant", "create", "--db", dbURL, "--name", "Loyal Brand")), &tenant); err != nil {
				t.Fatal(err)
			}
			base, stop := startServe(t, dbURL)
			c := client{t: t, base: base, key: tenant.APIKey}
			c.mustDo("PUT", "/v1/loyalty/program", 200, map[string]any{"point_name": "Stars",
				"earn_rates": []map[string]any{{"currency": "HKD", "points": 1, "amount": 1000}},
				"expiry":     map[string]any{"kind": "end_of_year", "years": 1, "time_zone": "Asia/Hong_Kong"},
				"tiering":    map[string]any{"basis": "spend", "currency": "HKD", "window": "calendar_year"}})
			c.mustDo("POST", "/v1/loyalty/tiers", 201, map[string]any{"code": "member", "name": "Member", "rank": 0, "threshold": 0, "multiplier": 1000})
			c.mustDo("POST", "/v1/locations", 201, map[string]any{"code": "CWB", "type": "store",
				"names": map[string]string{"en": "Causeway Bay"}, "time_zone": "Asia/Hong_Kong", "currency": "HKD"})
			c.mustDo("POST", "/v1/sales_channels", 201, map[string]any{"code": "pos", "type": "pos", "names": map[string]string{"en": "POS"}})
			sale := c.mustDo("POST", "/v1/transactions", 201, map[string]any{"kind": "purchase", "sales_channel": "pos", "location": "CWB",
				"register": "1", "receipt_number": "L-1", "occurred_at": "2026-11-20T15:00:00+08:00",
				"customer": map[string]any{"identifiers": map[string]any{"phone": "91234567"}},
				"lines":    []map[string]any{{"sku": "TEE", "quantity": 2, "unit_price": 12900}}})
			if lo, _ := sale["loyalty"].(map[string]any); lo == nil || lo["points"] != 25.0 {
				t.Fatalf("purchase loyalty: %v", sale["loyalty"])
			}
			c.mustDo("POST", "/v1/transactions", 201, map[string]any{"kind": "return", "sales_channel": "pos", "location": "CWB",
				"register": "1", "receipt_number": "R-1", "occurred_at": "2026-11-21T11:00:00+08:00",
				"original": map[string]any{"transaction_id": sale["id"]},
				"lines":    []map[string]any{{"sku": "TEE", "quantity": 1, "unit_price": 12900}}})
			acct := c.mustDo("GET", "/v1/customers/"+sale["customer_id"].(string)+"/loyalty", 200, nil)
			if b := acct["balances"].(map[string]any); b["available"] != 13.0 {
				t.Fatalf("after the return: %v", acct)
			}
			waitForMetric(t, base, `omo_jobs_total{kind="loyalty.maturity",state="completed"}`)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if out := runCLI(t, "loyalty", "check", "--db", dbURL, "--tenant", tenant.TenantID); !strings.Contains(out, "sound") {
				t.Fatalf("loyalty check: %s", out)
			}
		})
	}
}
