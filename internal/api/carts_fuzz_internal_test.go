package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// cartEdits are the cart routes the fuzz target edits with: method, path
// after /v1/carts/{id}.
var cartEdits = map[string][2]string{"lines": {http.MethodPost, "/lines"}, "delivery": {http.MethodPut, "/delivery"},
	"coupons": {http.MethodPost, "/coupons"}, "points": {http.MethodPut, "/points"}, "patch": {http.MethodPatch, ""},
	"complete": {http.MethodPost, "/complete"}, "exchange": {http.MethodPut, "/exchange"}}

// FuzzCartBodies feeds arbitrary bodies to cart creation, every cart edit
// and checkout through the whole stack. Whatever the input, the answer is a
// 2xx or a 4xx problem, never a 5xx, and the stock and loyalty invariants
// hold afterwards.
func FuzzCartBodies(f *testing.F) {
	db := sqldbtest.Open(f, sqldb.SQLite)
	tn := sqldbtest.Tenant(f, db)
	ctx := context.Background()
	store, err := db.CreateLocation(ctx, location.Location{TenantID: tn.ID, Code: "CWB", Type: location.TypeStore, Names: map[string]string{"en": "CWB"},
		TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open", Address: location.Address{Country: "HK"}})
	if err != nil {
		f.Fatal(err)
	}
	loc := id.Format(id.Location, store.ID)
	for _, code := range []string{"web", "pos"} {
		if _, err := db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: tn.ID, Code: code, Type: code, Names: map[string]string{"en": code}, Active: true}); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := db.CreateCategory(ctx, catalog.Category{TenantID: tn.ID, Code: "tops", Names: map[string]string{"en": "Tops"}}); err != nil {
		f.Fatal(err)
	}
	if _, err := db.CreateProduct(ctx, catalog.Product{TenantID: tn.ID, Status: catalog.StatusActive, Names: map[string]string{"en": "Tee"},
		Categories: []string{"tops"}, Variants: []catalog.Variant{{SKU: "TEE", Status: catalog.StatusActive}}}); err != nil {
		f.Fatal(err)
	}
	pl, err := db.CreatePriceList(ctx, catalog.PriceList{TenantID: tn.ID, Code: "hkd", Name: "HKD", Currency: "HKD", Status: catalog.StatusActive})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := db.SetPrices(ctx, tn.ID, pl.ID, []catalog.Price{{SKU: "TEE", Amount: 19900}}); err != nil {
		f.Fatal(err)
	}
	_, key, err := db.CreateKey(ctx, sqldb.KeyParams{TenantID: tn.ID, Kind: auth.Secret, Scopes: []string{auth.ScopeAll}})
	if err != nil {
		f.Fatal(err)
	}
	h := NewHandler(Deps{DB: db})
	send := func(method, path string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send(http.MethodPost, "/v1/inventory/movements", []byte(`{"kind":"receipt","sku":"TEE","location_id":"`+loc+`","quantity":1000}`)); rec.Code != http.StatusCreated {
		f.Fatal(rec.Body.String())
	}
	sale := send(http.MethodPost, "/v1/carts", []byte(`{"sales_channel":"pos","location_id":"`+loc+`","lines":[{"sku":"TEE","quantity":3,"fulfilment":"take_now"}]}`))
	var saleCart struct{ ID string }
	if err := json.Unmarshal(sale.Body.Bytes(), &saleCart); err != nil {
		f.Fatal(sale.Body.String())
	}
	sold := send(http.MethodPost, "/v1/carts/"+saleCart.ID+"/complete", []byte(`{"payment":{"method":"paid_at_pos","payment_method":"R1-1"}}`))
	var saleOrder struct{ ID string }
	if err := json.Unmarshal(sold.Body.Bytes(), &saleOrder); err != nil || saleOrder.ID == "" {
		f.Fatal(sold.Body.String())
	}
	seeds := []struct{ route, body string }{
		{"exchange", `{"order_id":"O0","lines":[{"line_no":1,"quantity":1,"restock":true}]}`},
		{"exchange", `{"order_id":"O0","lines":[{"line_no":1,"quantity":4}],"location_id":"L0"}`},
		{"exchange", `{"order_id":"ord_nope","lines":[]}`},
		{"create", `{"sales_channel":"pos","location_id":"L0","lines":[{"sku":"TEE","quantity":2,"fulfilment":"take_now"}]}`},
		{"create", `{"sales_channel":"web","currency":"HKD","customer_id":"cus_x","lines":[{"sku":"","quantity":-1}]}`},
		{"lines", `{"sku":"TEE","quantity":999}`}, {"lines", `{"sku":"TEE","quantity":1000}`}, {"lines", `{"sku":"NOPE\u0000","quantity":1}`},
		{"delivery", `{"method":"ship","address":{"country":"HK","point":{"lat":95,"lon":0}}}`},
		{"delivery", `{"method":"click_collect","location_id":"L0"}`}, {"delivery", `{"method":"teleport"}`},
		{"coupons", `{"code":"ABCD-EFGH-J"}`}, {"points", `{"points":9223372036854775807}`}, {"patch", `{"customer_id":"cus_nope","email":null}`},
		{"complete", `{"payment":{"method":"pay_in_store"}}`}, {"complete", `{"payment":{"method":"card"},"expected_total":-1}`},
		{"complete", `{}`}, {"lines", `[]`}, {"create", `null`},
	}
	for _, s := range seeds {
		f.Add(s.route, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route string, body []byte) {
		body = []byte(strings.NewReplacer("L0", loc, "O0", saleOrder.ID).Replace(string(body)))
		check := func(rec *httptest.ResponseRecorder) {
			if rec.Code >= 500 {
				t.Fatalf("%s %q: status %d: %s", route, body, rec.Code, rec.Body.String())
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%q: error without problem JSON: %d", body, rec.Code)
			}
		}
		if route == "create" {
			check(send(http.MethodPost, "/v1/carts", body))
			return
		}
		rec := send(http.MethodPost, "/v1/carts", []byte(`{"sales_channel":"pos","location_id":"`+loc+`","lines":[{"sku":"TEE","quantity":1}]}`))
		var cart struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &cart); err != nil || cart.ID == "" {
			t.Fatalf("cart: %s", rec.Body.String())
		}
		r, ok := cartEdits[route]
		if !ok {
			return
		}
		check(send(r[0], "/v1/carts/"+cart.ID+r[1], body))
		check(send(http.MethodPost, "/v1/carts/"+cart.ID+"/complete", []byte(`{"payment":{"method":"pay_in_store"}}`)))
		if bad, err := db.CheckInventory(ctx, tn.ID); err != nil || len(bad) > 0 {
			t.Fatalf("after %q: %v %v", body, bad, err)
		}
	})
}
