package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// FuzzRoutingBodies feeds arbitrary bodies to POST /v1/routing/test and
// /v1/routing/simulate through the whole stack (huma's decoding and
// validation, code resolution, Route and Simulate): the answer is a 2xx or a
// 4xx problem, never a 5xx or a panic.
func FuzzRoutingBodies(f *testing.F) {
	order := `{"delivery":{"method":"ship","country":"HK","point":{"latitude":22.28,"longitude":114.21}},` +
		`"lines":[{"key":"1","sku":"TEE","quantity":2},{"key":"2","sku":"CAP","quantity":1,"method":"take_now"}],"sale_location":"CWB"}`
	for _, s := range []string{
		`{"order":` + order + `,"stock":{"CWB":{"TEE":1,"CAP":1},"WH":{"TEE":5}}}`,
		`{"order":` + order + `,"stock":{},"locations":[{"code":"CWB","type":"store","country":"HK"},{"code":"X","type":"warehouse"}]}`,
		`{"order":{"delivery":{"method":"click_collect","location":"CWB"},"lines":[{"key":"a","sku":"S","quantity":1}]},"stock":{"CWB":{"S":-1}}}`,
		`{"order":{"delivery":{"method":"ship_to_store","location":"WH"},"lines":[]},"stock":null,"version":3}`,
		`{"draft":{"strategy":["rank"],"allow_split":false,"allowed_types":{"ship":["store"],"click_collect":[],"ship_to_store":[],"take_now":[]},` +
			`"stay_in_market":false,"respect_capacity":false},"cases":[{"order":` + order + `,"stock":{"WH":{"TEE":2}}}]}`,
		`{"cases":[]}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	db := sqldbtest.Open(f, sqldb.SQLite)
	tn := sqldbtest.Tenant(f, db)
	ctx := context.Background()
	for _, code := range []string{"CWB", "WH"} {
		if _, err := db.CreateLocation(ctx, location.Location{TenantID: tn.ID, Code: code, Type: location.TypeStore,
			Names: map[string]string{"en": code}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open",
			Address: location.Address{Country: "HK"}}); err != nil {
			f.Fatal(err)
		}
	}
	_, key, err := db.CreateKey(ctx, sqldb.KeyParams{TenantID: tn.ID, Kind: auth.Secret, Scopes: []string{auth.ScopeAll}})
	if err != nil {
		f.Fatal(err)
	}
	h := NewHandler(Deps{DB: db})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/routing/test", "/v1/routing/simulate"} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %q: status %d: %s", path, body, rec.Code, rec.Body.String())
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %q: error without problem JSON: %d", path, body, rec.Code)
			}
		}
	})
}
