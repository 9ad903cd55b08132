package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The targets of the loyalty engine (issue 4 §6).
const (
	targetAccrual    = 2000 // purchases/s accrued end to end
	targetAccrualP99 = 25 * time.Millisecond
	targetQuote      = 5000
	targetQuoteP99   = 10 * time.Millisecond
	targetPGBench    = 0.8 // accrual/s as a share of pgbench TPC-B tps, same clients
	loyaltyRules     = 50
)

// loyaltyScenario drives the loyalty engine through HTTP with a program of
// 50 active rules: purchases by known customers (POST /v1/transactions,
// points in the response), then quotes of the same baskets (POST
// /v1/loyalty/quote). On PostgreSQL, pgbench's TPC-B runs against the same
// server with the same number of clients in the same run, as the reference.
func (b *bench) loyaltyScenario(ctx context.Context) error {
	cfg, rep := b.cfg, b.rep
	p, c, customers, err := b.openShop(ctx, "loyalty")
	if err != nil {
		return err
	}
	defer p.kill()
	if err := programSetup(ctx, c); err != nil {
		return err
	}
	probe := cpuProbe{pid: p.cmd.Process.Pid, db: b.dbProcess()}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)

	b.quiet(ctx, "loyalty accrual", p.cmd.Process.Pid)
	b.logf("loyalty: %d clients posting purchases that earn, %d rules", cfg.salesClients, loyaltyRules)
	accrue := func(run string) func(ctx context.Context, w *worker, seq int) outcome {
		return func(ctx context.Context, w *worker, seq int) outcome {
			status, err := c.do(ctx, http.MethodPost, "/v1/transactions", salesBody(run, seq, customers[w.rng.IntN(len(customers))]), &w.buf)
			o := outcome{status: status, err: err}
			if err == nil && (status != http.StatusCreated || !strings.Contains(w.buf.String(), `"loyalty":{`)) {
				o.bad = fmt.Sprintf("status %d: %.200s", status, w.buf.String())
			}
			return o
		}
	}
	r := runLoad(ctx, cfg.salesClients, cfg.duration, cfg.maxRequests, probe, accrue(run))
	accrual := float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
	s := fmt.Sprintf("loyalty accrual: POST /v1/transactions with points in the response (%d clients, %d active rules)", cfg.salesClients, loyaltyRules)
	rep.check(s, "purchases accrued", thousands(accrual)+" req/s", ">= 2,000 req/s", accrual >= targetAccrual)
	rep.add(s, "latency p50 / p95", ms(r.Lat.P50)+" / "+ms(r.Lat.P95))
	rep.add(s, "latency p99 at saturation (closed loop)", ms(r.Lat.P99))
	rep.check(s, "errors", fmt.Sprintf("%d of %s (%s)", r.Errors, thousands(float64(r.Requests)), r.statusSummary()), "0", r.Errors == 0)
	rep.add(s, r.CPU.label(), r.CPU.String())
	for _, e := range r.FirstErrs {
		rep.note("loyalty error: %s", e)
	}
	b.quiet(ctx, "loyalty accrual at the target rate", p.cmd.Process.Pid)
	b.atTargetRate(ctx, s, cfg.salesClients, targetAccrual, "2,000 req/s", targetAccrualP99, probe, accrue(run+"p"))
	if b.cfg.engine == "postgres" {
		// The whole machine quiet first, omo included: a server still
		// working off the open-loop run's backlog would slow pgbench and
		// flatter the ratio.
		b.quiet(ctx, "pgbench reference", 0)
		b.pgbenchReference(ctx, s, accrual)
	}

	b.quiet(ctx, "loyalty quote", p.cmd.Process.Pid)
	b.logf("loyalty: %d clients quoting", cfg.salesClients)
	quote := func(ctx context.Context, w *worker, seq int) outcome {
		status, err := c.do(ctx, http.MethodPost, "/v1/loyalty/quote", quoteBody(customers[w.rng.IntN(len(customers))]), &w.buf)
		o := outcome{status: status, err: err}
		if err == nil && status != http.StatusOK {
			o.bad = fmt.Sprintf("status %d: %.200s", status, w.buf.String())
		}
		return o
	}
	q := runLoad(ctx, cfg.salesClients, cfg.duration, cfg.maxRequests, probe, quote)
	quotes := float64(q.Requests-q.Errors) / q.Elapsed.Seconds()
	qs := fmt.Sprintf("loyalty quote: POST /v1/loyalty/quote (%d clients, %d active rules)", cfg.salesClients, loyaltyRules)
	rep.check(qs, "quotes", thousands(quotes)+" req/s", ">= 5,000 req/s", quotes >= targetQuote)
	rep.add(qs, "latency p50 / p95", ms(q.Lat.P50)+" / "+ms(q.Lat.P95))
	rep.add(qs, "latency p99 at saturation (closed loop)", ms(q.Lat.P99))
	rep.check(qs, "errors", fmt.Sprintf("%d of %s", q.Errors, thousands(float64(q.Requests))), "0", q.Errors == 0)
	rep.add(qs, q.CPU.label(), q.CPU.String())
	b.quiet(ctx, "loyalty quote at the target rate", p.cmd.Process.Pid)
	b.atTargetRate(ctx, qs, cfg.salesClients, targetQuote, "5,000 req/s", targetQuoteP99, probe, quote)
	_, err = p.stop(time.Minute)
	return err
}

// programSetup creates the program, three tiers and 50 active rules: a few
// that the bench's baskets meet (a category multiplier, a per-item bonus, a
// minimum spend bonus with a daily limit) and many that they do not (other
// locations, SKUs, hours, tiers), as a brand's live program has.
func programSetup(ctx context.Context, c *apiClient) error {
	calls := []struct{ method, path, body string }{
		{http.MethodPut, "/v1/loyalty/program", `{"point_name":"Stars","earn_rates":[{"currency":"HKD","points":1,"amount":1000}],` +
			`"point_values":[{"currency":"HKD","points":100,"amount":1000}],"expiry":{"kind":"rolling_months","months":24},` +
			`"tiering":{"basis":"spend","currency":"HKD","window":"rolling_12_months"}}`},
		{http.MethodPost, "/v1/loyalty/tiers", `{"code":"member","name":"Member","rank":0,"threshold":0,"multiplier":1000}`},
		{http.MethodPost, "/v1/loyalty/tiers", `{"code":"silver","name":"Silver","rank":1,"threshold":500000,"multiplier":1250}`},
		{http.MethodPost, "/v1/loyalty/tiers", `{"code":"gold","name":"Gold","rank":2,"threshold":2000000,"multiplier":1500}`},
		{http.MethodPost, "/v1/loyalty/rules", `{"name":"Tops x2","trigger":"purchase","condition":{"categories":["tops"]},"effect":{"kind":"multiplier","multiplier":2000}}`},
		{http.MethodPost, "/v1/loyalty/rules", `{"name":"Caps +5","trigger":"purchase","condition":{"skus":["CAP"]},"effect":{"kind":"points_per_item","points":5}}`},
		{http.MethodPost, "/v1/loyalty/rules", `{"name":"Big basket","trigger":"purchase","condition":{"min_spend":40000,"currency":"HKD"},` +
			`"effect":{"kind":"fixed_points","points":20},"limits":{"per_member_per_day":1}}`},
	}
	for i := len(calls) - 4; i < loyaltyRules; i++ {
		calls = append(calls, struct{ method, path, body string }{http.MethodPost, "/v1/loyalty/rules",
			fmt.Sprintf(`{"name":"Campaign %d","trigger":"purchase","condition":{"locations":["MK-%d"],"skus":["SKU-%d"],"hour_from":%d,"hour_to":%d,`+
				`"tiers":["gold"],"currency":"HKD"},"effect":{"kind":"points_per_amount","points":%d,"amount":10000}}`, i, i, i, i%20, i%20+4, 1+i%5)})
	}
	var buf bytes.Buffer
	for _, call := range calls {
		status, err := c.do(ctx, call.method, call.path, []byte(call.body), &buf)
		if err != nil || status/100 != 2 {
			return fmt.Errorf("loyalty setup %s %s: %d %v %s", call.method, call.path, status, err, buf.String())
		}
	}
	return nil
}

// quoteBody is the bench's 3-line basket, quoted for a member.
func quoteBody(customerID string) []byte {
	return fmt.Appendf(nil, `{"customer_id":%q,"sales_channel":"pos","location":"CWB","lines":[`+
		`{"sku":"TEE-M","category":"tops","quantity":2,"unit_price":12900,"discount":2580},`+
		`{"sku":"CAP","category":"accessories","quantity":1,"unit_price":9900},`+
		`{"sku":"SOCK-3","category":"accessories","quantity":3,"unit_price":3900}],`+
		`"tenders":[{"type":"card","amount":44820}]}`, customerID)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchReference runs pgbench's TPC-B (scale 1, the same clients, the
// same duration) against the same server and reports accrual/s as a share.
func (b *bench) pgbenchReference(ctx context.Context, scenario string, accrual float64) {
	ref, drop, err := createPGDatabase(ctx, b.cfg.postgresURL, "omobench_pgbench")
	if err != nil {
		b.rep.note("pgbench reference not run: %v", err)
		return
	}
	defer drop()
	if out, err := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", "1", ref).CombinedOutput(); err != nil {
		b.rep.note("pgbench -i failed: %v %s", err, out)
		return
	}
	secs := strconv.Itoa(max(5, int(b.cfg.duration.Seconds())))
	out, err := exec.CommandContext(ctx, "pgbench", "-c", strconv.Itoa(b.cfg.salesClients), "-j", "2", "-T", secs, ref).CombinedOutput()
	m := tpsLine.FindSubmatch(out)
	if err != nil || m == nil {
		b.rep.note("pgbench failed: %v %s", err, out)
		return
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	ratio := accrual / tps
	b.rep.add(scenario, "pgbench TPC-B, same server and clients (reference)", thousands(tps)+" tps")
	b.rep.check(scenario, "accrual / pgbench TPC-B", fmt.Sprintf("%.2f", ratio), ">= 0.80", ratio >= targetPGBench)
}
