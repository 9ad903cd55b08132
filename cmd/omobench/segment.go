package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// The targets of the tracking API (issue 3 §3).
const (
	targetBatchEvents = 50000 // events/s acknowledged
	targetBatchP99    = 50 * time.Millisecond
	batchEvents       = 100
	batchVisitors     = 10 // per batch: 10 visitors × 10 events
)

// batchScenario drives POST /v1/batch with 100-event batches from
// --segment-clients concurrent clients, as Segment's libraries send them
// (write key as the Basic-auth user name). Each batch carries 10 visitors
// of 10 events: 5 new anonymous visitors (new customers), 5 returning ones,
// and one of them identifies with a user id and an email (a merge of
// identifiers, applied one by one). A batch is acknowledged when it
// answered 200 with all 100 events accepted.
func (b *bench) batchScenario(ctx context.Context) error {
	cfg, rep := b.cfg, b.rep
	t, err := createTenant(ctx, cfg.omo, b.dbURL, "omobench-segment")
	if err != nil {
		return err
	}
	p, err := startServe(ctx, cfg.omo, b.dbURL, filepath.Join(b.dir, "omo-serve-segment.log"))
	if err != nil {
		return err
	}
	defer p.kill()
	c := newAPIClient(p.addr, t.APIKey, cfg.segmentClients)
	if err := c.raiseRateLimit(ctx, cfg.rateLimit); err != nil {
		return err
	}
	c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(t.APIKey+":"))
	probe := cpuProbe{pid: p.cmd.Process.Pid, db: b.dbProcess()}
	b.quiet(ctx, "batch", p.cmd.Process.Pid)
	b.logf("batch: %d clients × %d-event batches for %s", cfg.segmentClients, batchEvents, cfg.duration)
	post := func(run int64) func(ctx context.Context, w *worker, seq int) outcome {
		return func(ctx context.Context, w *worker, seq int) outcome {
			status, err := c.do(ctx, http.MethodPost, "/v1/batch", segmentBatch(run, seq), &w.buf)
			o := outcome{status: status, err: err}
			if err == nil && status == http.StatusOK && !bytes.Contains(w.buf.Bytes(), []byte(`"accepted":100,`)) {
				o.bad = "not all 100 events accepted"
			}
			return o
		}
	}
	r := runLoad(ctx, cfg.segmentClients, cfg.duration, cfg.maxRequests, probe, post(time.Now().UnixNano()))
	events := float64(r.Requests-r.Errors) * batchEvents / r.Elapsed.Seconds()
	b.logf("batch: %d batches, %.0f events/s, p99 %s, %d errors (%s) %v", r.Requests, events, r.Lat.P99, r.Errors, r.statusSummary(), r.FirstErrs)
	s := fmt.Sprintf("/v1/batch (HTTP, %d clients, %d events per batch)", cfg.segmentClients, batchEvents)
	rep.check(s, "events acknowledged durably", thousands(events)+" events/s", ">= 50,000 events/s", events >= targetBatchEvents)
	rep.add(s, "batches", fmt.Sprintf("%s in %s", thousands(float64(r.Requests)), r.Elapsed.Truncate(time.Millisecond)))
	rep.add(s, "latency per batch p50 / p95", ms(r.Lat.P50)+" / "+ms(r.Lat.P95))
	rep.add(s, "latency per batch p99 at saturation (closed loop)", ms(r.Lat.P99))
	rep.check(s, "errors (non-200 or not all accepted)", fmt.Sprintf("%d of %s (%s)", r.Errors, thousands(float64(r.Requests)), r.statusSummary()), "0", r.Errors == 0)
	rep.add(s, r.CPU.label(), r.CPU.String())
	for _, e := range r.FirstErrs {
		rep.note("batch error: %s", e)
	}
	b.quiet(ctx, "batch at the target rate", p.cmd.Process.Pid)
	b.atTargetRate(ctx, s, cfg.segmentClients, targetBatchEvents/batchEvents, "500 batches/s (50,000 events/s)", targetBatchP99, probe, post(time.Now().UnixNano()))
	_, err = p.stop(time.Minute)
	return err
}

// segmentBatch is the body of batch seq: 10 visitors of 10 events each,
// with context as analytics.js sends it. Visitors 0–4 are new, 5–9 came in
// an earlier batch of the run; visitor 0 identifies.
func segmentBatch(run int64, seq int) []byte {
	var b bytes.Buffer
	b.Grow(64 << 10)
	b.WriteString(`{"batch":[`)
	ts := time.Unix(0, run).UTC().Add(time.Duration(seq) * time.Millisecond).Format(time.RFC3339Nano)
	for v := range batchVisitors {
		visitor := seq*batchVisitors + v
		if v >= batchVisitors/2 && seq > 0 {
			visitor = (seq-1)*batchVisitors + v - batchVisitors/2 // a new visitor of the previous batch comes back
		}
		anon := "anon-" + strconv.FormatInt(run, 36) + "-" + strconv.Itoa(visitor)
		for e := range batchEvents / batchVisitors {
			if v > 0 || e > 0 {
				b.WriteByte(',')
			}
			mid := strconv.FormatInt(run, 36) + "-" + strconv.Itoa(seq) + "-" + strconv.Itoa(v) + "-" + strconv.Itoa(e)
			switch {
			case v == 0 && e == 9:
				// The user id and email carry the run too: a second run in the
				// same tenant (the target-rate run) identifies new people, not
				// the first run's visitors again (which would merge customers).
				fmt.Fprintf(&b, `{"type":"identify","messageId":%q,"anonymousId":%q,"userId":"user-%s-%d","timestamp":%q,`+
					`"traits":{"email":"visitor%d-%s@bench.omo.hk","firstName":"Mei"},%s}`, mid, anon, strconv.FormatInt(run, 36), visitor, ts,
					visitor, strconv.FormatInt(run, 36), benchContext)
			case e == 0:
				fmt.Fprintf(&b, `{"type":"page","messageId":%q,"anonymousId":%q,"timestamp":%q,"name":"Home",`+
					`"properties":{"path":"/","url":"https://shop.example.hk/","title":"OMO Shop"},%s}`, mid, anon, ts, benchContext)
			default:
				fmt.Fprintf(&b, `{"type":"track","messageId":%q,"anonymousId":%q,"timestamp":%q,"event":"Product Viewed",`+
					`"properties":{"product_id":"P-%d","sku":"SKU-%d","name":"Linen shirt","category":"tops","price":129.9,"currency":"HKD"},%s}`,
					mid, anon, ts, e, e, benchContext)
			}
		}
	}
	fmt.Fprintf(&b, `],"sentAt":%q}`, ts)
	return b.Bytes()
}

const benchContext = `"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},"locale":"zh-HK",` +
	`"page":{"path":"/","referrer":"https://www.google.com/","url":"https://shop.example.hk/"},` +
	`"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",` +
	`"ip":"203.0.113.7"},"integrations":{"All":true}`
