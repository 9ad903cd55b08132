package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// The targets of checkout (issue 5 §5).
const (
	targetCheckouts   = 300 // complete checkouts/s from 32 shoppers
	targetCompleteP95 = 50 * time.Millisecond
	checkoutSKUs      = 200
	hotUnits          = 10
)

// checkoutScenario runs the full storefront flow from --sales-clients
// shoppers: open a cart, add two lines, choose delivery to a Hong Kong
// address, quote (totals, routing, points), complete paying cash on
// delivery. Then a hot SKU with 10 units meets every shopper at once.
func (b *bench) checkoutScenario(ctx context.Context) error {
	cfg, rep := b.cfg, b.rep
	t, err := createTenant(ctx, cfg.omo, b.dbURL, "omobench-checkout")
	if err != nil {
		return err
	}
	tenantID, err := id.Parse(id.Tenant, t.TenantID)
	if err != nil {
		return err
	}
	if err := seedCatalog(ctx, b.dbURL, tenantID); err != nil {
		return err
	}
	p, err := startServe(ctx, cfg.omo, b.dbURL, filepath.Join(b.dir, "omo-serve-checkout.log"))
	if err != nil {
		return err
	}
	defer p.kill()
	c := newAPIClient(p.addr, t.APIKey, cfg.salesClients)
	if err := c.raiseRateLimit(ctx, cfg.rateLimit); err != nil {
		return err
	}
	if err := checkoutSetup(ctx, c); err != nil {
		return err
	}
	probe := cpuProbe{pid: p.cmd.Process.Pid, db: b.dbProcess()}
	b.quiet(ctx, "checkout", p.cmd.Process.Pid)
	b.logf("checkout: %d shoppers running the full flow for %s", cfg.salesClients, cfg.duration)
	var mu sync.Mutex
	var completes []time.Duration
	r := runLoad(ctx, cfg.salesClients, cfg.duration, cfg.maxRequests, probe, func(ctx context.Context, w *worker, seq int) outcome {
		d, o := shop(ctx, c, w, fmt.Sprintf("SKU-%03d", w.rng.IntN(checkoutSKUs)), fmt.Sprintf("SKU-%03d", w.rng.IntN(checkoutSKUs)))
		if o.err == nil && o.bad == "" {
			mu.Lock()
			completes = append(completes, d)
			mu.Unlock()
		}
		return o
	})
	rate := float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
	slices.Sort(completes)
	p95 := percentile(completes, 0.95)
	b.logf("checkout: %d checkouts, %.0f/s, completion p95 %s, %d errors (%s) %v", r.Requests, rate, p95, r.Errors, r.statusSummary(), r.FirstErrs)
	s := fmt.Sprintf("checkout flow (HTTP, %d shoppers: cart, 2 lines, delivery, quote, complete)", cfg.salesClients)
	rep.check(s, "complete checkouts", thousands(rate)+" /s", ">= 300 /s", rate >= targetCheckouts)
	rep.add(s, "whole flow p50 / p95 / p99", ms(r.Lat.P50)+" / "+ms(r.Lat.P95)+" / "+ms(r.Lat.P99))
	rep.check(s, "completion call p95", ms(p95), "< 50 ms", p95 < targetCompleteP95)
	rep.check(s, "errors", fmt.Sprintf("%d of %s (%s)", r.Errors, thousands(float64(r.Requests)), r.statusSummary()), "0", r.Errors == 0)
	rep.add(s, r.CPU.label(), r.CPU.String())
	for _, e := range r.FirstErrs {
		rep.note("checkout error: %s", e)
	}
	orders, err := hotSKU(ctx, c, cfg.salesClients)
	if err != nil {
		return err
	}
	rep.check(s, fmt.Sprintf("hot SKU: %d units, %d shoppers at once", hotUnits, cfg.salesClients*4), fmt.Sprintf("%d orders", orders),
		fmt.Sprintf("exactly %d", hotUnits), orders == hotUnits)
	_, err = p.stop(time.Minute)
	return err
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*q))]
}

// seedCatalog writes the products and the price list straight into the
// database before the server starts (the catalog's own API and imports are
// measured elsewhere): SKU-000…SKU-199 and HOT, HK$100–299.
func seedCatalog(ctx context.Context, dbURL, tenantID string) error {
	db, err := sqldb.Open(ctx, dbURL, sqldb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.CreateCategory(ctx, catalog.Category{TenantID: tenantID, Code: "tops", Names: map[string]string{"en": "Tops"}}); err != nil {
		return err
	}
	pl, err := db.CreatePriceList(ctx, catalog.PriceList{TenantID: tenantID, Code: "web-hkd", Name: "Web HKD", Currency: "HKD", Status: catalog.StatusActive})
	if err != nil {
		return err
	}
	var prices []catalog.Price
	for i := range checkoutSKUs + 1 {
		sku := fmt.Sprintf("SKU-%03d", i)
		if i == checkoutSKUs {
			sku = "HOT"
		}
		if _, err := db.CreateProduct(ctx, catalog.Product{TenantID: tenantID, Status: catalog.StatusActive, Names: map[string]string{"en": "Tee " + sku},
			Categories: []string{"tops"}, Variants: []catalog.Variant{{SKU: sku, Status: catalog.StatusActive}}}); err != nil {
			return err
		}
		prices = append(prices, catalog.Price{SKU: sku, Amount: int64(10000 + 100*i)})
	}
	_, err = db.SetPrices(ctx, tenantID, pl.ID, prices)
	return err
}

// checkoutSetup creates the web channel and a Hong Kong warehouse holding
// plenty of every SKU, and 10 of HOT.
func checkoutSetup(ctx context.Context, c *apiClient) error {
	var buf bytes.Buffer
	call := func(path, body string) (map[string]any, error) {
		status, err := c.do(ctx, http.MethodPost, path, []byte(body), &buf)
		if err != nil || status/100 != 2 {
			return nil, fmt.Errorf("checkout setup %s: %d %v %s", path, status, err, buf.String())
		}
		var out map[string]any
		return out, json.Unmarshal(buf.Bytes(), &out)
	}
	if _, err := call("/v1/sales_channels", `{"code":"web","type":"web","names":{"en":"Web shop"}}`); err != nil {
		return err
	}
	loc, err := call("/v1/locations", `{"code":"HK-WH","type":"warehouse","names":{"en":"Kwai Chung"},"time_zone":"Asia/Hong_Kong","currency":"HKD",`+
		`"address":{"country":"HK"},"coordinates":{"latitude":22.36,"longitude":114.12}}`)
	if err != nil {
		return err
	}
	for i := range checkoutSKUs + 1 {
		sku, n := fmt.Sprintf("SKU-%03d", i), 1_000_000
		if i == checkoutSKUs {
			sku, n = "HOT", hotUnits
		}
		if _, err := call("/v1/inventory/movements", fmt.Sprintf(`{"kind":"receipt","sku":%q,"location_id":%q,"quantity":%d}`, sku, loc["id"], n)); err != nil {
			return err
		}
	}
	return nil
}

// shop runs one shopper's flow and returns how long the completion took.
func shop(ctx context.Context, c *apiClient, w *worker, sku1, sku2 string) (time.Duration, outcome) {
	step := func(method, path, body string, want int) (map[string]any, outcome) {
		status, err := c.do(ctx, method, path, []byte(body), &w.buf)
		o := outcome{status: status, err: err}
		if err == nil && status != want {
			o.bad = fmt.Sprintf("%s %s: status %d: %.300s", method, path, status, w.buf.String())
			return nil, o
		}
		var out map[string]any
		if err == nil {
			_ = json.Unmarshal(w.buf.Bytes(), &out)
		}
		return out, o
	}
	cart, o := step(http.MethodPost, "/v1/carts", `{"sales_channel":"web","currency":"HKD","email":"shopper@omo-bench.hk"}`, http.StatusCreated)
	if o.err != nil || o.bad != "" {
		return 0, o
	}
	path := "/v1/carts/" + cart["id"].(string)
	for _, sku := range []string{sku1, sku2} {
		if _, o = step(http.MethodPost, path+"/lines", fmt.Sprintf(`{"sku":%q,"quantity":1}`, sku), http.StatusOK); o.err != nil || o.bad != "" {
			return 0, o
		}
	}
	if _, o = step(http.MethodPut, path+"/delivery", `{"method":"ship","address":{"country":"HK","city":"Hong Kong","lines":["1 Queen's Road"],`+
		`"point":{"lat":22.28,"lon":114.16}}}`, http.StatusOK); o.err != nil || o.bad != "" {
		return 0, o
	}
	if _, o = step(http.MethodPost, path+"/quote", "", http.StatusOK); o.err != nil || o.bad != "" {
		return 0, o
	}
	start := time.Now()
	_, o = step(http.MethodPost, path+"/complete", `{"payment":{"method":"cash_on_delivery"}}`, http.StatusCreated)
	return time.Since(start), o
}

// hotSKU sends shoppers*4 shoppers at the 10 units of HOT at once and
// counts the orders.
func hotSKU(ctx context.Context, c *apiClient, shoppers int) (int, error) {
	n := shoppers * 4
	carts := make([]string, n)
	var buf bytes.Buffer
	for i := range carts {
		status, err := c.do(ctx, http.MethodPost, "/v1/carts", []byte(`{"sales_channel":"web","currency":"HKD","lines":[{"sku":"HOT","quantity":1}]}`), &buf)
		if err != nil || status != http.StatusCreated {
			return 0, fmt.Errorf("hot cart: %d %v %s", status, err, buf.String())
		}
		var out struct{ ID string }
		_ = json.Unmarshal(buf.Bytes(), &out)
		carts[i] = out.ID
		status, err = c.do(ctx, http.MethodPut, "/v1/carts/"+out.ID+"/delivery", []byte(`{"method":"ship","address":{"country":"HK"}}`), &buf)
		if err != nil || status != http.StatusOK {
			return 0, fmt.Errorf("hot delivery: %d %v %s", status, err, buf.String())
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	orders, other := 0, 0
	for _, id := range carts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b bytes.Buffer
			status, err := c.do(ctx, http.MethodPost, "/v1/carts/"+id+"/complete", []byte(`{"payment":{"method":"cash_on_delivery"}}`), &b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && status == http.StatusCreated:
				orders++
			case err == nil && status == http.StatusConflict:
			default:
				other++
			}
		}()
	}
	wg.Wait()
	if other > 0 {
		return orders, fmt.Errorf("hot SKU: %d completions failed with neither 201 nor 409", other)
	}
	return orders, nil
}
