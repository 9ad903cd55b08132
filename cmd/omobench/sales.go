package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// The targets of POST /v1/transactions (issue 3 §5).
const (
	targetSales    = 2000 // purchases/s acknowledged
	targetSalesP99 = 25 * time.Millisecond
	salesCustomers = 2000 // known customers the purchases are spread over
)

// salesScenario drives POST /v1/transactions with 3-line purchases by known
// customers (customer_id) at one store from --sales-clients concurrent
// clients. Every receipt number is new; a purchase counts as acknowledged
// when it answered 201 (the group commit it joined is on disk).
func (b *bench) salesScenario(ctx context.Context) error {
	cfg, rep := b.cfg, b.rep
	p, c, customers, err := b.openShop(ctx, "sales")
	if err != nil {
		return err
	}
	defer p.kill()
	probe := cpuProbe{pid: p.cmd.Process.Pid, db: b.dbProcess()}
	b.quiet(ctx, "sales", p.cmd.Process.Pid)
	b.logf("sales: %d clients posting 3-line purchases for %s", cfg.salesClients, cfg.duration)
	sale := func(run string) func(ctx context.Context, w *worker, seq int) outcome {
		return func(ctx context.Context, w *worker, seq int) outcome {
			status, err := c.do(ctx, http.MethodPost, "/v1/transactions", salesBody(run, seq, customers[w.rng.IntN(len(customers))]), &w.buf)
			o := outcome{status: status, err: err}
			if err == nil && status != http.StatusCreated {
				o.bad = fmt.Sprintf("status %d: %.200s", status, w.buf.String())
			}
			return o
		}
	}
	r := runLoad(ctx, cfg.salesClients, cfg.duration, cfg.maxRequests, probe, sale(strconv.FormatInt(time.Now().UnixNano(), 36)))
	rate := float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
	b.logf("sales: %d purchases, %.0f/s, p99 %s, %d errors (%s) %v", r.Requests, rate, r.Lat.P99, r.Errors, r.statusSummary(), r.FirstErrs)
	s := fmt.Sprintf("POST /v1/transactions (HTTP, %d clients, 3-line purchases by known customers)", cfg.salesClients)
	rep.check(s, "purchases acknowledged durably", thousands(rate)+" req/s", ">= 2,000 req/s", rate >= targetSales)
	rep.add(s, "latency p50 / p95", ms(r.Lat.P50)+" / "+ms(r.Lat.P95))
	rep.add(s, "latency p99 at saturation (closed loop)", ms(r.Lat.P99))
	rep.check(s, "errors (non-201)", fmt.Sprintf("%d of %s (%s)", r.Errors, thousands(float64(r.Requests)), r.statusSummary()), "0", r.Errors == 0)
	rep.add(s, r.CPU.label(), r.CPU.String())
	for _, e := range r.FirstErrs {
		rep.note("sales error: %s", e)
	}
	b.quiet(ctx, "sales at the target rate", p.cmd.Process.Pid)
	b.atTargetRate(ctx, s, cfg.salesClients, targetSales, "2,000 req/s", targetSalesP99, probe, sale(strconv.FormatInt(time.Now().UnixNano(), 36)+"p"))
	_, err = p.stop(time.Minute)
	return err
}

// openShop creates a tenant, starts omo serve on it, raises its rate limit
// and creates the store, the POS sales channel and the known customers: the
// set-up of the sales and loyalty scenarios. The caller kills the server.
func (b *bench) openShop(ctx context.Context, name string) (*omoProc, *apiClient, []string, error) {
	t, err := createTenant(ctx, b.cfg.omo, b.dbURL, "omobench-"+name)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := startServe(ctx, b.cfg.omo, b.dbURL, filepath.Join(b.dir, "omo-serve-"+name+".log"))
	if err != nil {
		return nil, nil, nil, err
	}
	c := newAPIClient(p.addr, t.APIKey, b.cfg.salesClients)
	if err := c.raiseRateLimit(ctx, b.cfg.rateLimit); err != nil {
		p.kill()
		return nil, nil, nil, err
	}
	customers, err := salesSetup(ctx, c)
	if err != nil {
		p.kill()
		return nil, nil, nil, err
	}
	return p, c, customers, nil
}

// salesSetup creates the store, the POS sales channel and the known customers.
func salesSetup(ctx context.Context, c *apiClient) ([]string, error) {
	var buf bytes.Buffer
	for _, call := range []struct{ path, body string }{
		{"/v1/locations", `{"code":"CWB","type":"store","names":{"en":"Causeway Bay"},"time_zone":"Asia/Hong_Kong","currency":"HKD"}`},
		{"/v1/sales_channels", `{"code":"pos","type":"pos","names":{"en":"Store POS"}}`},
	} {
		if status, err := c.do(ctx, http.MethodPost, call.path, []byte(call.body), &buf); err != nil || status != http.StatusCreated {
			return nil, fmt.Errorf("sales setup %s: %d %v %s", call.path, status, err, buf.String())
		}
	}
	ids := make([]string, 0, salesCustomers)
	for i := range salesCustomers {
		body := fmt.Sprintf(`{"identifiers":{"external":[{"type":"pos","value":"SALES-%d"}]},"source":"pos"}`, i)
		status, err := c.do(ctx, http.MethodPost, "/v1/customers", []byte(body), &buf)
		if err != nil || status/100 != 2 {
			return nil, fmt.Errorf("sales setup customer %d: %d %v", i, status, err)
		}
		var out struct{ ID string }
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			return nil, err
		}
		ids = append(ids, out.ID)
	}
	return ids, nil
}

// salesBody is a 3-line purchase with a new receipt number.
func salesBody(run string, seq int, customerID string) []byte {
	return fmt.Appendf(nil, `{"kind":"purchase","sales_channel":"pos","location":"CWB","register":"R1","receipt_number":"%s-%d",`+
		`"occurred_at":%q,"customer_id":%q,"lines":[`+
		`{"sku":"TEE-M","name":"Linen tee","category":"tops","quantity":2,"unit_price":12900,"discount":2580},`+
		`{"sku":"CAP","name":"Cap","category":"accessories","quantity":1,"unit_price":9900},`+
		`{"sku":"SOCK-3","name":"Socks","category":"accessories","quantity":3,"unit_price":3900}],`+
		`"tenders":[{"type":"card","amount":44820}]}`, run, seq, time.Now().UTC().Format(time.RFC3339Nano), customerID)
}
