// Command omobench measures OMO end to end and prints the figures as a
// Markdown table (docs/performance.md explains the method).
//
// It builds nothing: it drives an omo binary built beforehand. Over HTTP it
// starts `omo serve` as a subprocess on a free loopback port and measures the
// time to the first /readyz 200, identify throughput and latency with 50
// clients (half returning customers, half new), lookups by email and phone,
// and the idle resident memory of the server. In process it identifies
// 100,000 customers through sqldb directly and compares the rate with a raw
// insert of the same rows on the same engine. It talks only to 127.0.0.1,
// and every phase is bounded in time and in count.
//
//	go build -o bin/omo ./cmd/omo
//	go run ./cmd/omobench --omo bin/omo --db sqlite
//	go run ./cmd/omobench --omo bin/omo --db postgres --postgres-url postgres://postgres@127.0.0.1:5432/postgres
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
)

// The targets of the performance issue.
const (
	targetIdentifyRPS = 3000
	targetIdentifyP99 = 25 * time.Millisecond
	targetBulkRate    = 30000
	targetLookupRPS   = 10000
	targetReady       = time.Second
	targetIdleRSS     = 100_000_000 // bytes (decimal MB)
)

type config struct {
	omo, engine, postgresURL string
	scenarios                map[string]bool
	preload, clients         int
	duration, idle           time.Duration
	maxRequests, restarts    int
	bulkN                    int
	bulkConc                 []int
	batchSize, batchConc     int
	rateLimit                int
	retail, out, cpuprofile  string
	sourceNote               string
	workDir                  string
	keep                     bool
	timeout, quietWait       time.Duration
	analyzeEvery, bulkLimit  time.Duration
	preloadLimit             time.Duration
	quietCores               float64
	segmentClients           int
	salesClients             int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "walstat" {
		if err := walstat(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "omobench walstat:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "omobench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	err = run(ctx, cfg, os.Stdout, os.Stderr)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "omobench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("omobench", flag.ContinueOnError)
	var c config
	var scenarios, bulkConc string
	fs.StringVar(&c.omo, "omo", "", "path to an omo binary (go build -o bin/omo ./cmd/omo) (required)")
	fs.StringVar(&c.engine, "db", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.postgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"an existing PostgreSQL database on loopback; the bench creates omo_bench_<unix> next to it and drops it afterwards")
	fs.StringVar(&scenarios, "scenarios", "identify,lookup,bulk", "comma-separated: identify, lookup, bulk, batch (the tracking API's /v1/batch), sales (POST /v1/transactions), loyalty (accrual and quotes with 50 rules; pgbench reference on PostgreSQL), checkout (the storefront flow from --sales-clients shoppers and a hot SKU)")
	fs.IntVar(&c.segmentClients, "segment-clients", 16, "concurrent clients of the batch scenario")
	fs.IntVar(&c.salesClients, "sales-clients", 32, "concurrent clients of the sales scenario (POST /v1/transactions)")
	fs.IntVar(&c.preload, "preload", 20000, "customers created over HTTP before the identify and lookup runs")
	fs.DurationVar(&c.preloadLimit, "preload-time-limit", 3*time.Minute, "stop the preload after this long and go on with the customers created")
	fs.IntVar(&c.clients, "clients", 50, "concurrent HTTP clients")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "length of each HTTP load run")
	fs.IntVar(&c.maxRequests, "max-requests", 2_000_000, "cap on requests per HTTP load run")
	fs.DurationVar(&c.idle, "idle", 5*time.Second, "idle time after the load before reading the server's RSS")
	fs.IntVar(&c.restarts, "restarts", 3, "starts of omo serve on the existing database after the load, for the ready time")
	fs.IntVar(&c.bulkN, "bulk", 100000, "customers identified in process per bulk run")
	fs.DurationVar(&c.bulkLimit, "bulk-time-limit", 4*time.Minute, "stop each in-process run after this long (the rate is then over the customers done)")
	fs.StringVar(&bulkConc, "bulk-concurrency", "64", "comma-separated goroutine counts for the in-process Identify runs")
	fs.IntVar(&c.batchSize, "batch-size", 1000, "customers per IdentifyBatch call (when sqldb has it)")
	fs.IntVar(&c.batchConc, "batch-concurrency", 2*runtime.GOMAXPROCS(0), "goroutines calling IdentifyBatch")
	fs.IntVar(&c.rateLimit, "rate-limit", 1_000_000, "per-key rate limit set on the bench tenant (the default, 1,000/s, would cap the run)")
	fs.StringVar(&c.retail, "retail", "/work/shared/data/online_retail.csv.gz", "Online Retail CSV (gzip) whose CustomerIDs seed the first customers' pos ids; skipped when absent")
	fs.StringVar(&c.sourceNote, "source", "", "describe the code measured (default: the commit of the working directory, from git)")
	fs.StringVar(&c.out, "out", "", "append the Markdown results to this file too")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the in-process bulk runs to this file")
	fs.StringVar(&c.workDir, "work-dir", "", "folder for the SQLite files and the server log (default: a new temporary folder)")
	fs.BoolVar(&c.keep, "keep", false, "keep the SQLite files / PostgreSQL database afterwards")
	fs.DurationVar(&c.timeout, "timeout", 15*time.Minute, "give up after this long")
	fs.DurationVar(&c.analyzeEvery, "pg-analyze-every", -1, "on PostgreSQL, run ANALYZE on the bench database this often "+
		"(0: never; default: every 10 s when the server's autovacuum is off, else never)")
	fs.DurationVar(&c.quietWait, "quiet-wait", time.Minute, "before each measured phase, wait up to this long for the rest of the machine to go quiet (0: don't)")
	fs.Float64Var(&c.quietCores, "quiet-cores", 0.25, "the machine counts as quiet when other processes (PostgreSQL serving"+
		" other databases included) use fewer cores than this")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if c.omo == "" {
		return c, errors.New("--omo is required (build it with: go build -o bin/omo ./cmd/omo)")
	}
	if c.engine != "sqlite" && c.engine != "postgres" {
		return c, errors.New("--db must be sqlite or postgres")
	}
	c.scenarios = map[string]bool{}
	for _, s := range strings.Split(scenarios, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "identify", "lookup", "bulk", "batch", "sales", "loyalty", "checkout":
			c.scenarios[s] = true
		case "":
		default:
			return c, fmt.Errorf("unknown scenario %q", s)
		}
	}
	for _, s := range strings.Split(bulkConc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return c, fmt.Errorf("--bulk-concurrency: %q is not a positive number", s)
		}
		c.bulkConc = append(c.bulkConc, n)
	}
	if c.preload < 1 || c.clients < 1 || c.bulkN < 1 || c.batchSize < 1 || c.batchConc < 1 || c.maxRequests < 1 {
		return c, errors.New("counts must be positive")
	}
	if c.preload+c.maxRequests/2 > maxCustomers || c.bulkN > maxCustomers {
		return c, fmt.Errorf("at most %d customers per tenant", maxCustomers)
	}
	if c.engine == "postgres" {
		if err := checkLoopbackPostgres(c.postgresURL); err != nil {
			return c, err
		}
	}
	abs, err := filepath.Abs(c.omo)
	if err != nil {
		return c, err
	}
	c.omo = abs
	return c, nil
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	if _, err := os.Stat(cfg.omo); err != nil {
		return fmt.Errorf("--omo: %w", err)
	}
	dir := cfg.workDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "omobench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if !cfg.keep && cfg.workDir == "" {
		defer os.RemoveAll(dir)
	}
	var dbURL, pgName string
	if cfg.engine == "postgres" {
		name := fmt.Sprintf("omo_bench_%d", time.Now().Unix())
		url, drop, err := createPGDatabase(ctx, cfg.postgresURL, name)
		if err != nil {
			return err
		}
		logf("created PostgreSQL database %s", name)
		if !cfg.keep {
			defer func() {
				if derr := drop(); derr != nil {
					err = errors.Join(err, fmt.Errorf("drop database %s: %w", name, derr))
				} else {
					logf("dropped PostgreSQL database %s", name)
				}
			}()
		}
		dbURL, pgName = url, name
	} else {
		dbURL = "sqlite:" + filepath.Join(dir, "omo.db")
	}
	retail, err := loadRetail(cfg.retail)
	if err != nil {
		return err
	}
	logf("%d customer ids from the retail data set seed the first customers' pos ids", len(retail))

	rep := &report{engine: cfg.engine}
	b := &bench{cfg: cfg, dbURL: dbURL, dir: dir, retail: retail, rep: rep, logf: logf, pgName: pgName}
	if cfg.engine == "postgres" {
		on, err := autovacuumOn(ctx, dbURL)
		if err != nil {
			return err
		}
		every := cfg.analyzeEvery
		if every < 0 { // auto: only when the server's autovacuum is off
			every = 0
			if !on {
				every = 10 * time.Second
			}
		}
		if every > 0 {
			stopAnalyzer := startAnalyzer(ctx, dbURL, every, logf)
			defer func() { logf("analyzer ran ANALYZE %d times", stopAnalyzer()) }()
			b.analyzeAfterPreload = true
			rep.note("This PostgreSQL server runs with autovacuum %s. The bench runs ANALYZE on its database every %s "+
				"(as autovacuum's analyze would), and once after the HTTP preload; its CPU counts as the bench database's backends. "+
				"Without it the planner keeps the plans it made for the empty tables.", onOff(on), every)
		} else {
			rep.note("PostgreSQL autovacuum %s; the bench runs no ANALYZE of its own.", onOff(on))
		}
	}
	if cfg.scenarios["identify"] || cfg.scenarios["lookup"] {
		if err := b.httpScenarios(ctx); err != nil {
			b.write(stdout)
			return err
		}
	}
	if cfg.scenarios["batch"] {
		if err := b.batchScenario(ctx); err != nil {
			b.write(stdout)
			return err
		}
	}
	if cfg.scenarios["sales"] {
		if err := b.salesScenario(ctx); err != nil {
			b.write(stdout)
			return err
		}
	}
	if cfg.scenarios["loyalty"] {
		if err := b.loyaltyScenario(ctx); err != nil {
			b.write(stdout)
			return err
		}
	}
	if cfg.scenarios["checkout"] {
		if err := b.checkoutScenario(ctx); err != nil {
			b.write(stdout)
			return err
		}
	}
	if cfg.scenarios["bulk"] {
		if err := b.bulkScenarios(ctx); err != nil {
			b.write(stdout)
			return err
		}
	}
	return b.write(stdout)
}

type bench struct {
	cfg    config
	dbURL  string
	dir    string
	retail []retailCustomer
	rep    *report
	logf   func(string, ...any)
	pgName string // the bench's PostgreSQL database, when on PostgreSQL

	analyzeAfterPreload bool
}

func (b *bench) httpScenarios(ctx context.Context) error {
	cfg, rep := b.cfg, b.rep
	b.logf("omo tenant create")
	t, err := createTenant(ctx, cfg.omo, b.dbURL, "omobench")
	if err != nil {
		return err
	}
	logPath := filepath.Join(b.dir, "omo-serve.log")
	p, err := startServe(ctx, cfg.omo, b.dbURL, logPath)
	if err != nil {
		return err
	}
	defer p.kill()
	b.logf("omo serve on %s ready after %s (pid %d)", p.addr, p.ready, p.cmd.Process.Pid)
	rep.add("startup", "first start: process start to /readyz 200 (schema just migrated by tenant create, no customers)",
		ms(p.ready))
	pid := p.cmd.Process.Pid
	probe := cpuProbe{pid: pid, db: b.dbProcess()}
	c := newAPIClient(p.addr, t.APIKey, cfg.clients)
	if err := c.raiseRateLimit(ctx, cfg.rateLimit); err != nil {
		return err
	}
	rep.note("The bench tenant's rate_limit_per_second is raised to %s with PATCH /v1/tenant first: the default "+
		"(1,000 requests/s per key, burst 2,000) would cap every HTTP figure below.", thousands(float64(cfg.rateLimit)))

	b.logf("preloading %d customers over HTTP with %d clients", cfg.preload, cfg.clients)
	pre := preload(ctx, c, cfg.preload, cfg.clients, cfg.preloadLimit, b.retail, probe)
	if pre.Errors > 0 || pre.Requests == 0 {
		return fmt.Errorf("preload: %d of %d requests, %d errors (%s): %v", pre.Requests, cfg.preload, pre.Errors,
			pre.statusSummary(), pre.FirstErrs)
	}
	preloaded := pre.Requests // customers 0..preloaded-1 exist
	figure := fmt.Sprintf("identify, all new (201), %d clients, %s customers", cfg.clients, thousands(float64(preloaded)))
	if preloaded < cfg.preload {
		figure = fmt.Sprintf("identify, all new (201), %d clients: stopped at the %s time limit after %s of %s customers",
			cfg.clients, cfg.preloadLimit, thousands(float64(preloaded)), thousands(float64(cfg.preload)))
		rep.note("The preload stopped at its time limit: identify and lookup ran against %s preloaded customers, not %s.",
			thousands(float64(preloaded)), thousands(float64(cfg.preload)))
	}
	rep.add("preload", figure, fmt.Sprintf("%s req/s, p50 %s, p99 %s", thousands(pre.perSecond()), ms(pre.Lat.P50), ms(pre.Lat.P99)))
	customers := preloaded
	if b.analyzeAfterPreload {
		if err := analyze(ctx, b.dbURL); err != nil {
			return err
		}
	}

	if cfg.scenarios["identify"] {
		b.quiet(ctx, "identify", pid)
		b.logf("identify: %d clients for %s", cfg.clients, cfg.duration)
		r := identifyLoad(ctx, c, preloaded, preloaded, cfg.clients, cfg.duration, cfg.maxRequests, b.retail, probe)
		customers += (r.Requests + 1) / 2
		b.logf("identify: %d requests, %.0f/s, p99 %s, %d errors (%s) %v", r.Requests, r.perSecond(), r.Lat.P99, r.Errors,
			r.statusSummary(), r.FirstErrs)
		s := fmt.Sprintf("identify (HTTP, %d clients, half matching)", cfg.clients)
		rep.check(s, "throughput", thousands(r.perSecond())+" req/s", ">= 3,000 req/s", r.perSecond() >= targetIdentifyRPS)
		rep.add(s, "latency p50 / p95", ms(r.Lat.P50)+" / "+ms(r.Lat.P95))
		rep.add(s, "latency p99 at saturation (closed loop)", ms(r.Lat.P99))
		rep.check(s, "errors (non-2xx or wrong match)", fmt.Sprintf("%d of %s (%s)", r.Errors, thousands(float64(r.Requests)),
			r.statusSummary()), "0", r.Errors == 0)
		rep.add(s, r.CPU.label(), r.CPU.String())
		for _, e := range r.FirstErrs {
			rep.note("identify error: %s", e)
		}
		b.quiet(ctx, "identify at the target rate", pid)
		firstNew := customers
		paced := b.atTargetRate(ctx, s, cfg.clients, targetIdentifyRPS, thousands(targetIdentifyRPS)+" req/s", targetIdentifyP99, probe,
			func(ctx context.Context, w *worker, seq int) outcome {
				return identifyCall(ctx, c, preloaded, firstNew, w, seq, b.retail)
			})
		customers += (paced.Requests + 1) / 2
	}
	if cfg.scenarios["lookup"] {
		b.quiet(ctx, "lookup", pid)
		b.logf("lookup: %d clients for %s", cfg.clients, cfg.duration)
		r := lookupLoad(ctx, c, preloaded, cfg.clients, cfg.duration, cfg.maxRequests, probe)
		b.logf("lookup: %d requests, %.0f/s, p99 %s, %d errors (%s) %v", r.Requests, r.perSecond(), r.Lat.P99, r.Errors,
			r.statusSummary(), r.FirstErrs)
		s := fmt.Sprintf("lookup (HTTP, %d clients, email / phone alternately)", cfg.clients)
		rep.check(s, "throughput", thousands(r.perSecond())+" req/s", ">= 10,000 req/s", r.perSecond() >= targetLookupRPS)
		rep.add(s, "latency p50 / p99", ms(r.Lat.P50)+" / "+ms(r.Lat.P99))
		rep.check(s, "errors (non-2xx or not exactly one customer)", fmt.Sprintf("%d of %s (%s)", r.Errors,
			thousands(float64(r.Requests)), r.statusSummary()), "0", r.Errors == 0)
		rep.add(s, r.CPU.label(), r.CPU.String())
		for _, e := range r.FirstErrs {
			rep.note("lookup error: %s", e)
		}
	}
	c.closeIdle()

	b.logf("idle for %s", cfg.idle)
	select {
	case <-time.After(cfg.idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	rss, err := procStatus(pid, "VmRSS")
	if err != nil {
		return err
	}
	hwm, _ := procStatus(pid, "VmHWM")
	rep.check("memory", fmt.Sprintf("server RSS after %s idle (VmRSS)", cfg.idle), mb(rss), "< 100 MB", rss < targetIdleRSS)
	rep.add("memory", "server peak RSS during the run (VmHWM)", mb(hwm))
	if heap, sys, err := goMemory(ctx, p.addr); err == nil {
		rep.add("memory", "of the idle RSS: Go heap in use / all memory the Go runtime holds (from /metrics)",
			mb(int64(heap))+" / "+mb(int64(sys)))
	} else {
		rep.note("could not read /metrics: %v", err)
	}
	took, err := p.stop(time.Minute)
	if err != nil {
		return err
	}
	rep.add("shutdown", "SIGTERM to exit", ms(took))

	var worst time.Duration
	var readies []string
	for i := range cfg.restarts {
		b.quiet(ctx, fmt.Sprintf("restart %d", i+1), 0)
		p, err := startServe(ctx, cfg.omo, b.dbURL, logPath)
		if err != nil {
			return err
		}
		b.logf("restart %d: ready after %s (omo logged startup %s)", i+1, p.ready, p.logged)
		worst = max(worst, p.ready)
		readies = append(readies, ms(p.ready))
		if _, err := p.stop(time.Minute); err != nil {
			return err
		}
	}
	if cfg.restarts > 0 {
		rep.check("startup", fmt.Sprintf("restart on the existing database (%s customers): process start to /readyz 200, "+
			"worst of %d (%s)", thousands(float64(customers)), cfg.restarts, strings.Join(readies, ", ")), ms(worst),
			"< 1 s", worst < targetReady)
	}
	return nil
}

func (b *bench) bulkScenarios(ctx context.Context) error {
	cfg, rep := b.cfg, b.rep
	// The commit threads at the priority omo serve gives them (ADR 12): the
	// importer that this path stands for runs inside omo serve.
	db, err := sqldb.Open(ctx, b.dbURL, sqldb.Options{CommitNice: -10})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := db.UseJobs(sqldb.JobOptions{}); err != nil {
		return err
	}
	var rates []struct {
		label string
		rate  float64
	}
	for _, conc := range cfg.bulkConc {
		t, err := db.CreateTenant(ctx, fmt.Sprintf("omobench bulk %d", conc))
		if err != nil {
			return err
		}
		ps := bulkParams(t.ID, cfg.bulkN, b.retail)
		b.quiet(ctx, fmt.Sprintf("bulk, %d goroutines", conc), 0)
		b.logf("bulk: identifying %d customers in process with %d goroutines", cfg.bulkN, conc)
		var r bulkResult
		prof := cfg.cpuprofile
		if prof != "" && len(cfg.bulkConc) > 1 {
			prof = fmt.Sprintf("%s.c%d", prof, conc)
		}
		if err := withCPUProfile(prof, func() { r = bulkIdentify(ctx, db, ps, conc, cfg.bulkLimit, cpuProbe{db: b.dbProcess()}) }); err != nil {
			return err
		}
		b.logf("bulk: %d in %s = %.0f/s, %d errors (%v), %d created", r.N, r.Elapsed, r.perSecond(), r.Errors, r.FirstErr, r.Created)
		if r.Errors > 0 || r.Created != r.N || (r.N != cfg.bulkN && !r.TimedOut) {
			return fmt.Errorf("bulk: %d of %d identified, %d errors, %d created: %v", r.N, cfg.bulkN, r.Errors, r.Created, r.FirstErr)
		}
		s := fmt.Sprintf("bulk (in process, db.Identify, %d goroutines)", conc)
		rep.check(s, b.bulkFigure(r), thousands(r.perSecond())+" customers/s", ">= 30,000 customers/s", r.perSecond() >= targetBulkRate)
		rep.add(s, "per-call latency p50 / p99", ms(r.Lat.P50)+" / "+ms(r.Lat.P99))
		rep.add(s, r.CPU.label(), r.CPU.String())
		rates = append(rates, struct {
			label string
			rate  float64
		}{fmt.Sprintf("db.Identify, %d goroutines", conc), r.perSecond()})
	}
	f, found, signature := findIdentifyBatch(db)
	switch {
	case found && f == nil:
		rep.note("db.IdentifyBatch exists with a signature the bench does not know (%s); it was not measured.", signature)
	case !found:
		rep.note("db.IdentifyBatch does not exist in this build of internal/sqldb; only db.Identify was measured.")
	default:
		t, err := db.CreateTenant(ctx, "omobench batch")
		if err != nil {
			return err
		}
		ps := bulkParams(t.ID, cfg.bulkN, b.retail)
		b.quiet(ctx, "IdentifyBatch", 0)
		b.logf("batch: identifying %d customers with IdentifyBatch, batches of %d, %d goroutines", cfg.bulkN, cfg.batchSize, cfg.batchConc)
		var r bulkResult
		prof := ""
		if cfg.cpuprofile != "" {
			prof = cfg.cpuprofile + ".batch"
		}
		if err := withCPUProfile(prof, func() {
			r = batchIdentify(ctx, f, ps, cfg.batchSize, cfg.batchConc, cfg.bulkLimit, cpuProbe{db: b.dbProcess()})
		}); err != nil {
			return err
		}
		b.logf("batch: %d in %s = %.0f/s, %d errors (%v), %d created", r.N, r.Elapsed, r.perSecond(), r.Errors, r.FirstErr, r.Created)
		s := fmt.Sprintf("bulk (in process, db.IdentifyBatch, batches of %s, %d goroutines)", thousands(float64(cfg.batchSize)), cfg.batchConc)
		rep.check(s, b.bulkFigure(r), thousands(r.perSecond())+" customers/s", ">= 30,000 customers/s",
			r.perSecond() >= targetBulkRate && r.Errors == 0)
		rep.add(s, r.CPU.label(), r.CPU.String())
		rep.check(s, "errors", fmt.Sprintf("%d (created %s)", r.Errors, thousands(float64(r.Created))), "0",
			r.Errors == 0 && r.Created == r.N)
		if r.FirstErr != nil {
			rep.note("IdentifyBatch error: %v", r.FirstErr)
		}
		rates = append(rates, struct {
			label string
			rate  float64
		}{fmt.Sprintf("db.IdentifyBatch ×%d", cfg.batchSize), r.perSecond()})
	}
	b.quiet(ctx, "reference", 0)
	b.logf("reference: raw insert of %d rows", cfg.bulkN)
	ref, err := rawReference(ctx, db.Engine(), b.dbURL, b.dir, cfg.bulkN, b.retail)
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	b.logf("reference: %d rows in %s = %.0f/s", ref.N, ref.Elapsed, ref.perSecond())
	rep.add("reference", ref.How, thousands(ref.perSecond())+" rows/s")
	for _, r := range rates {
		rep.add("reference", "OMO "+r.label+" as a share of the raw insert rate",
			fmt.Sprintf("%.4f× (%.2f%%)", r.rate/ref.perSecond(), 100*r.rate/ref.perSecond()))
	}
	return nil
}

// bulkFigure names a bulk run: how many customers, and whether the time
// limit stopped it early (the rate is then over the customers it did).
func (b *bench) bulkFigure(r bulkResult) string {
	if r.TimedOut {
		return fmt.Sprintf("new customers: stopped at the %s time limit after %s of %s", b.cfg.bulkLimit,
			thousands(float64(r.N)), thousands(float64(b.cfg.bulkN)))
	}
	return fmt.Sprintf("%s new customers", thousands(float64(r.N)))
}

// dbProcess is the name of the PostgreSQL database whose backends' CPU the
// bench reports apart ("" for embedded SQLite).
func (b *bench) dbProcess() string { return b.pgName }

// quiet waits (bounded by --quiet-wait) for other processes to leave the
// machine alone before a measured phase, and notes when they did not.
func (b *bench) quiet(ctx context.Context, phase string, pid int) {
	if b.cfg.quietWait <= 0 {
		return
	}
	waited, other := waitQuiet(ctx, pid, b.cfg.quietCores, b.cfg.quietWait)
	if other >= b.cfg.quietCores {
		b.logf("%s: machine still busy after %s (%.2f cores used by other processes); measuring anyway", phase, waited.Truncate(time.Second), other)
		b.rep.note("%s started while other processes used %.2f cores (waited %s for them).", phase, other, waited.Truncate(time.Second))
	} else if waited > 2*time.Second {
		b.logf("%s: waited %s for the machine to go quiet", phase, waited.Truncate(time.Second))
	}
}

// write prints the table and appends it to --out.
func (b *bench) write(stdout io.Writer) error {
	header := fmt.Sprintf("omobench, %s, %s", b.cfg.engine, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	src := source()
	if b.cfg.sourceNote != "" {
		src = "Source: " + b.cfg.sourceNote + "."
	}
	b.rep.notes = append([]string{machine(b.cfg.omo), src, "Command: `" + commandLine() + "`"}, b.rep.notes...)
	b.rep.markdown(stdout, header)
	if b.cfg.out == "" {
		return nil
	}
	f, err := os.OpenFile(b.cfg.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	b.rep.markdown(f, header)
	return f.Close()
}

// mb shows bytes as decimal megabytes (and MiB), truncated, never rounded up.
func mb(n int64) string {
	return fmt.Sprintf("%.1f MB (%.1f MiB)", float64(n/100_000)/10, float64(n*10/(1<<20))/10)
}

// source names the commit of the working directory (the omo binary is meant
// to be built from it), and whether the code under test had local changes.
func source() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "Source: not a git checkout."
	}
	commit := strings.TrimSpace(string(out))
	dirty, _ := exec.Command("git", "status", "--porcelain", "--", "internal", "cmd/omo", "go.mod", "go.sum").Output()
	if len(strings.TrimSpace(string(dirty))) > 0 {
		return "Source: commit " + commit + " with uncommitted changes under internal/ or cmd/omo."
	}
	return "Source: commit " + commit + "."
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func commandLine() string {
	return strings.Join(os.Args, " ")
}

// machine describes where the figures came from.
func machine(omo string) string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
		f.Close()
	}
	ver := "?"
	if out, err := exec.Command(omo, "version").Output(); err == nil {
		ver = strings.TrimSpace(string(out))
	}
	load := "?"
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("Machine: %d CPUs (%s), GOMAXPROCS %d, %s %s/%s; %s; load generator on the same machine; "+
		"load average at the end %s.", runtime.NumCPU(), model, runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS,
		runtime.GOARCH, ver, load)
}
