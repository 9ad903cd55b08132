package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omo-platform/omo/internal/customer"
)

// apiClient talks to one `omo serve` on loopback with one API key, over
// the lean HTTP/1.1 connections of rawhttp.go.
type apiClient struct {
	auth  string
	conns *connPool
}

func newAPIClient(addr, key string, _ int) *apiClient {
	return &apiClient{auth: "Bearer " + key, conns: &connPool{addr: addr}}
}

// do sends one request and reads the whole answer into buf (reset first).
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, buf *bytes.Buffer) (int, error) {
	return c.conns.roundTrip(ctx, method, path, c.auth, body, buf)
}

// closeIdle closes the client's idle connections.
func (c *apiClient) closeIdle() { c.conns.closeIdle() }

// raiseRateLimit sets the tenant's per-key rate limit (default 1,000/s) so
// that the limiter does not cap the throughput being measured.
func (c *apiClient) raiseRateLimit(ctx context.Context, perSecond int) error {
	var buf bytes.Buffer
	status, err := c.do(ctx, http.MethodGet, "/v1/tenant", nil, &buf)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("GET /v1/tenant: %d %v %s", status, err, buf.String())
	}
	var t struct {
		Settings map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &t); err != nil {
		return err
	}
	t.Settings["rate_limit_per_second"] = perSecond
	body, _ := json.Marshal(map[string]any{"settings": t.Settings})
	status, err = c.do(ctx, http.MethodPatch, "/v1/tenant", body, &buf)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("PATCH /v1/tenant: %d %v %s", status, err, buf.String())
	}
	return nil
}

// identifyBody is POST /v1/customers for a spec.
func identifyBody(s spec, emailOnly bool) []byte {
	b, err := json.Marshal(struct {
		Identifiers customer.IdentifierInput `json:"identifiers"`
		Traits      customer.Traits          `json:"traits"`
		Source      string                   `json:"source"`
	}{s.identifiers(emailOnly), s.traits(), "pos"})
	if err != nil {
		panic(err)
	}
	return b
}

// worker is one client goroutine's state.
type worker struct {
	rng *rand.Rand
	buf bytes.Buffer
}

// outcome is what one request did.
type outcome struct {
	status int
	err    error
	// bad marks a 2xx answer that is still wrong (a lookup that found nobody,
	// an identify that created when it should have matched); it counts as an error.
	bad string
}

// loadResult is a finished load phase.
type loadResult struct {
	Requests  int
	Errors    int
	Elapsed   time.Duration
	Lat       latencies
	Statuses  map[int]int
	FirstErrs []string
	CPU       cpuUse
}

func (r loadResult) perSecond() float64 { return rate(r.Requests, r.Elapsed) }

func (r loadResult) statusSummary() string {
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "transport error"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", name, thousands(float64(r.Statuses[c]))))
	}
	return strings.Join(parts, ", ")
}

// runLoad runs clients goroutines that call fn with consecutive sequence
// numbers until duration has passed or max calls were made, whichever is
// first, and times each call. serverPID, when non-zero, is sampled for CPU.
func runLoad(ctx context.Context, clients int, duration time.Duration, maxCalls int, probe cpuProbe,
	fn func(ctx context.Context, w *worker, seq int) outcome) loadResult {
	return runLoadAt(ctx, clients, duration, maxCalls, 0, probe, fn)
}

// runLoadAt is runLoad at a fixed offered rate when perSecond > 0 (open
// loop, as wrk2 runs): call n is due at start + n/perSecond; a free client
// takes the next call, waits until it is due and times it from then, not
// from when it was sent, so a server that falls behind cannot hide the
// queue it builds (no coordinated omission). perSecond 0 is a closed loop:
// each client sends its next call as soon as the last one answered.
func runLoadAt(ctx context.Context, clients int, duration time.Duration, maxCalls int, perSecond float64, probe cpuProbe,
	fn func(ctx context.Context, w *worker, seq int) outcome) loadResult {
	ctx, cancel := context.WithTimeout(ctx, duration+time.Minute) // a stuck request cannot hold the bench
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{Statuses: map[int]int{}}
	var all []time.Duration
	var wg sync.WaitGroup
	cpu0 := probe.read()
	start := time.Now()
	end := start.Add(duration)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{rng: rand.New(rand.NewPCG(uint64(i)+1, uint64(start.UnixNano())))}
			lat := make([]time.Duration, 0, 4096)
			statuses := map[int]int{}
			errs, n := 0, 0
			var first []string
			// At a fixed rate every call due before the end is made, however
			// late: dropping the late ones would hide the queue.
			for ctx.Err() == nil && (perSecond > 0 || time.Now().Before(end)) {
				seq := int(next.Add(1) - 1)
				if seq >= maxCalls {
					break
				}
				t0 := time.Now()
				if perSecond > 0 {
					due := start.Add(time.Duration(float64(seq) / perSecond * float64(time.Second)))
					// A server far slower than the rate would keep the run
					// going for long: past twice its length the calls still
					// due are left, and the rate was not kept up.
					if !due.Before(end) || time.Now().After(end.Add(duration)) {
						break
					}
					time.Sleep(time.Until(due))
					t0 = due
				}
				o := fn(ctx, w, seq)
				lat = append(lat, time.Since(t0))
				n++
				statuses[o.status]++
				if o.err != nil || o.status < 200 || o.status > 299 || o.bad != "" {
					errs++
					if len(first) < 3 {
						first = append(first, fmt.Sprintf("status %d err %v %s %.200s", o.status, o.err, o.bad, w.buf.String()))
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			res.Requests += n
			res.Errors += errs
			for c, k := range statuses {
				res.Statuses[c] += k
			}
			if len(res.FirstErrs) < 5 {
				res.FirstErrs = append(res.FirstErrs, first...)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.CPU = probe.read().since(cpu0, res.Elapsed)
	res.Lat = summarize(all)
	return res
}

// preload creates customers 0..n-1 over HTTP (each request new: 201).
func preload(ctx context.Context, c *apiClient, n, clients int, limit time.Duration, retail []retailCustomer, probe cpuProbe) loadResult {
	return runLoad(ctx, clients, limit, n, probe, func(ctx context.Context, w *worker, seq int) outcome {
		status, err := c.do(ctx, http.MethodPost, "/v1/customers", identifyBody(customerSpec(seq, retail), false), &w.buf)
		o := outcome{status: status, err: err}
		if status == http.StatusOK {
			o.bad = "identify of a new customer matched an existing one"
		}
		return o
	})
}

// identifyLoad alternates: even sequence numbers identify a preloaded customer
// by its email (expect 200), odd ones a new customer with a fresh email and
// phone (expect 201). New customers are numbered from firstNew upwards.
func identifyLoad(ctx context.Context, c *apiClient, preloaded, firstNew, clients int, d time.Duration, maxCalls int,
	retail []retailCustomer, probe cpuProbe) loadResult {
	return runLoad(ctx, clients, d, maxCalls, probe, func(ctx context.Context, w *worker, seq int) outcome {
		return identifyCall(ctx, c, preloaded, firstNew, w, seq, retail)
	})
}

// identifyCall is call seq of identifyLoad.
func identifyCall(ctx context.Context, c *apiClient, preloaded, firstNew int, w *worker, seq int, retail []retailCustomer) outcome {
	var body []byte
	want := http.StatusOK
	if seq%2 == 0 {
		body = identifyBody(customerSpec(w.rng.IntN(preloaded), retail), true)
	} else {
		body = identifyBody(customerSpec(firstNew+seq/2, retail), false)
		want = http.StatusCreated
	}
	status, err := c.do(ctx, http.MethodPost, "/v1/customers", body, &w.buf)
	o := outcome{status: status, err: err}
	if err == nil && status >= 200 && status < 300 && status != want {
		o.bad = fmt.Sprintf("wanted %d", want)
	}
	return o
}

// lookupLoad alternates GET /v1/customers?email= and ?phone= of preloaded
// customers; an answer without exactly one customer is an error.
func lookupLoad(ctx context.Context, c *apiClient, preloaded, clients int, d time.Duration, maxCalls int, probe cpuProbe) loadResult {
	needle := []byte(`"id":"cus_`)
	return runLoad(ctx, clients, d, maxCalls, probe, func(ctx context.Context, w *worker, seq int) outcome {
		idx := w.rng.IntN(preloaded)
		q := "email=" + url.QueryEscape(email(idx))
		if seq%2 == 1 {
			q = "phone=" + url.QueryEscape(phone(idx))
		}
		status, err := c.do(ctx, http.MethodGet, "/v1/customers?"+q, nil, &w.buf)
		o := outcome{status: status, err: err}
		if err == nil && status == http.StatusOK {
			if k := bytes.Count(w.buf.Bytes(), needle); k != 1 {
				o.bad = fmt.Sprintf("found %d customers for %s", k, q)
			}
		}
		return o
	})
}

// atTargetRate runs fn again at the scenario's target rate (runLoadAt, open
// loop) and reports the latency target's verdict from it. A closed loop at
// saturation measures how long clients queue, which Little's law fixes at
// clients ÷ throughput (32 clients at 2,000/s wait 16 ms on average however
// the server behaves), so a latency target set beside a throughput target is
// judged at that throughput; the closed loop's p99 is reported beside it.
// The verdict also needs every call answered well and the rate kept up.
func (b *bench) atTargetRate(ctx context.Context, s string, clients int, perSecond float64, label string, target time.Duration,
	probe cpuProbe, fn func(ctx context.Context, w *worker, seq int) outcome) loadResult {
	b.logf("%s: %s offered for %s (open loop)", s, label, b.cfg.duration)
	r := runLoadAt(ctx, clients, b.cfg.duration, b.cfg.maxRequests, perSecond, probe, fn)
	answered := float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
	keptUp := answered >= 0.98*perSecond
	b.logf("%s at %s: %.0f/s answered, p99 %s, %d errors (%s) %v", s, label, answered, r.Lat.P99, r.Errors, r.statusSummary(), r.FirstErrs)
	b.rep.check(s, "latency p99 at the target rate ("+label+" offered, open loop, from each call's due time)", ms(r.Lat.P99),
		"< "+ms(target), r.Lat.P99 < target && keptUp && r.Errors == 0)
	b.rep.add(s, "at the target rate: answered / p50 / p95 / errors", fmt.Sprintf("%s/s / %s / %s / %d", thousands(answered),
		ms(r.Lat.P50), ms(r.Lat.P95), r.Errors))
	for _, e := range r.FirstErrs {
		b.rep.note("%s error at the target rate: %s", s, e)
	}
	return r
}
