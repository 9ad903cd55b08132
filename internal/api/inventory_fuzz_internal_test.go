package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// FuzzInventoryBodies feeds arbitrary bodies to the inventory writes
// (movements, transfers, reservations, safety stock) through the whole
// stack. Whatever the input, the answer is a 2xx or a 4xx problem, never a
// 5xx, and the stock invariants hold afterwards.
func FuzzInventoryBodies(f *testing.F) {
	db := sqldbtest.Open(f, sqldb.SQLite)
	tn := sqldbtest.Tenant(f, db)
	ctx := context.Background()
	var locs []string
	for _, code := range []string{"CWB", "WH"} {
		l, err := db.CreateLocation(ctx, location.Location{TenantID: tn.ID, Code: code, Type: location.TypeStore, Names: map[string]string{"en": code},
			TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open"})
		if err != nil {
			f.Fatal(err)
		}
		locs = append(locs, id.Format(id.Location, l.ID))
	}
	if _, err := db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: tn.ID, Code: "web", Type: "web", Names: map[string]string{"en": "web"}, Active: true}); err != nil {
		f.Fatal(err)
	}
	_, key, err := db.CreateKey(ctx, sqldb.KeyParams{TenantID: tn.ID, Kind: auth.Secret, Scopes: []string{auth.ScopeAll}})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ route, body string }{
		{"0", `{"kind":"receipt","sku":"TEE","location_id":"L0","quantity":5,"key":"g-1"}`},
		{"0", `{"movements":[{"kind":"count","sku":"TEE","location_id":"L0","quantity":2},{"kind":"adjustment","sku":"CAP","location_id":"L1","quantity":-1,"reason":"lost"}]}`},
		{"0", `{"kind":"sale","sku":"TEE","location_id":"L0","quantity":9223372036854775807}`},
		{"0", `{"kind":"adjustment","sku":"T\u0000","location_id":"L0","quantity":-9223372036854775808,"reason":"found"}`},
		{"1", `{"from_location_id":"L0","to_location_id":"L1","lines":[{"sku":"TEE","quantity":1}],"key":"t"}`},
		{"2", `{"ref":"cart","sales_channel":"web","ttl_seconds":60,"lines":[{"sku":"TEE","location_id":"L1","quantity":1}]}`},
		{"2", `{"ref":"c\u0000","sales_channel":"w\u0000","lines":[{"sku":"TEE","location_id":"L0","quantity":1},{"sku":"TEE","location_id":"L0","quantity":1}]}`},
		{"3", `{"sales_channel":"web","location_type":"store","quantity":1}`},
		{"3", `{"sales_channel":"web","sku":"TEE","location_id":"L1","location_type":"store","quantity":-1}`},
		{"0", `{}`}, {"2", `[]`}, {"1", `null`},
	}
	for _, s := range seeds {
		f.Add(s.route, []byte(s.body))
	}
	routes := map[string][2]string{"0": {http.MethodPost, "/v1/inventory/movements"}, "1": {http.MethodPost, "/v1/inventory/transfers"},
		"2": {http.MethodPost, "/v1/inventory/reservations"}, "3": {http.MethodPut, "/v1/inventory/safety_stock"}}
	h := NewHandler(Deps{DB: db})
	f.Fuzz(func(t *testing.T, route string, body []byte) {
		r, ok := routes[route]
		if !ok {
			return
		}
		body = []byte(strings.NewReplacer("L0", locs[0], "L1", locs[1]).Replace(string(body)))
		req := httptest.NewRequest(r[0], r[1], bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", r[0], r[1], body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%q: error without problem JSON: %d", body, rec.Code)
		}
		if bad, err := db.CheckInventory(ctx, tn.ID); err != nil || len(bad) > 0 {
			t.Fatalf("after %q: %v %v", body, bad, err)
		}
	})
}
