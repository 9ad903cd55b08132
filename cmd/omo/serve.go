package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river/rivertype"

	"github.com/omo-platform/omo/internal/api"
	"github.com/omo-platform/omo/internal/ingest/sftp"
	"github.com/omo-platform/omo/internal/job"
	"github.com/omo-platform/omo/internal/payment"
	"github.com/omo-platform/omo/internal/sqldb"
)

type serveConfig struct {
	db, addr, role, logLevel string
	pprofAddr, sftpAddr      string
	workers                  int
	commitNice               int
	shutdownTimeout          time.Duration
	migrate                  bool
	stripe                   payment.Config
}

func serve(ctx context.Context, env environment, args []string) error {
	cfg, ok, err := serveFlags(env, args)
	if !ok {
		return err
	}
	logs := newLogWriter(env.stderr)
	defer logs.Close()
	log := newLogger(logs, cfg.logLevel)
	start := time.Now()
	// The API allocates per request, and at Go's default GC target (GOGC=100)
	// collection took about a tenth of the CPU under load; 200 halves the
	// collections for a few MB more heap (+14% identify and lookup
	// throughput in docs/performance.md). GOGC in the environment still wins.
	if env.getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	db, err := sqldb.Open(ctx, cfg.db, sqldb.Options{CommitNice: cfg.commitNice})
	if err != nil {
		return err
	}
	defer db.Close()
	useSpareProc(env.getenv, db.Engine())
	logCommitPriority(log, db)
	db.FollowSales(job.FollowsSales())
	if cfg.migrate {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerDBMetrics(reg, db)
	payments, err := payment.NewRegistry(cfg.stripe)
	if err != nil {
		return err
	}
	if err := startJobs(ctx, db, cfg, log, reg, payments); err != nil {
		return err
	}
	if cfg.pprofAddr != "" {
		if err := startProfiler(cfg.pprofAddr, log); err != nil {
			return err
		}
	}
	srv, ln, err := listen(ctx, cfg, db, log, reg, payments)
	if err != nil {
		_ = db.StopJobs(context.Background())
		return err
	}
	if cfg.sftpAddr != "" && cfg.role != "worker" {
		stop, err := startSFTP(ctx, db, cfg.sftpAddr, log)
		if err != nil {
			_ = db.StopJobs(context.Background())
			return err
		}
		defer stop()
	}
	log.Info("listening", "addr", ln.Addr().String(), "role", cfg.role, "engine", string(db.Engine()),
		"version", version, "startup", time.Since(start).String())
	_ = logs.Flush() // supervisors and tests wait for this line
	return serveUntilDone(ctx, srv, ln, db, cfg, log)
}

func serveFlags(env environment, args []string) (serveConfig, bool, error) {
	fs := env.flags("serve", "Runs OMO: the HTTP API, the job workers and the scheduler. Creates the data folder and "+
		"migrates on start. --role splits them across processes on PostgreSQL.")
	var c serveConfig
	dbURL := env.dbFlag(fs)
	fs.StringVar(&c.addr, "addr", env.envOr("OMO_ADDR", "127.0.0.1:8080"), "listen address (env OMO_ADDR)")
	fs.StringVar(&c.role, "role", env.envOr("OMO_ROLE", "all"), "api, worker or all (env OMO_ROLE)")
	fs.StringVar(&c.logLevel, "log-level", env.envOr("OMO_LOG_LEVEL", "info"), "debug, info, warn or error (env OMO_LOG_LEVEL)")
	fs.IntVar(&c.workers, "workers", 10, "concurrent jobs per worker process")
	if err := (niceFlag{&c.commitNice}).Set(env.envOr("OMO_SQLITE_COMMIT_NICE", strconv.Itoa(defaultCommitNice))); err != nil {
		return c, false, fmt.Errorf("%w: OMO_SQLITE_COMMIT_NICE: %v", errUsage, err)
	}
	fs.Var(niceFlag{&c.commitNice}, "sqlite-commit-nice", "on SQLite, the nice value (-20 to 19) of the threads of the one writer and "+
		"of the WAL syncer; negative values need root or CAP_SYS_NICE, 0 leaves them alone (env OMO_SQLITE_COMMIT_NICE)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to wait for requests and jobs on SIGTERM")
	fs.BoolVar(&c.migrate, "migrate", true, "apply migrations on start")
	fs.StringVar(&c.sftpAddr, "sftp-addr", env.envOr("OMO_SFTP_ADDR", ""),
		"run the embedded sFTP server for file drops on this address, e.g. 127.0.0.1:2022; off when empty (env OMO_SFTP_ADDR)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", env.envOr("OMO_PPROF_ADDR", ""),
		"serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; off when empty (env OMO_PPROF_ADDR)")
	fs.StringVar(&c.stripe.StripeSecretKey, "stripe-secret-key", env.envOr("OMO_STRIPE_SECRET_KEY", ""),
		"take card, Alipay and WeChat Pay payments through Stripe with this secret key; offline payments only when empty (env OMO_STRIPE_SECRET_KEY)")
	fs.StringVar(&c.stripe.StripeWebhookSecret, "stripe-webhook-secret", env.envOr("OMO_STRIPE_WEBHOOK_SECRET", ""),
		"the signing secret of Stripe's webhook endpoint /webhooks/stripe/{tenant_id} (env OMO_STRIPE_WEBHOOK_SECRET)")
	fs.StringVar(&c.stripe.StripeAPIBase, "stripe-api-base", env.envOr("OMO_STRIPE_API_BASE", ""),
		"Stripe's API address; set it to a stripe-mock for local runs (env OMO_STRIPE_API_BASE)")
	ok, err := parse(fs, args)
	c.db = *dbURL
	if ok && c.role != "api" && c.role != "worker" && c.role != "all" {
		return c, false, fmt.Errorf("%w: --role must be api, worker or all", errUsage)
	}
	return c, ok, err
}

func newLogger(out io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(api.NewLogHandler(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: l})))
}

func startJobs(ctx context.Context, db *sqldb.DB, cfg serveConfig, log *slog.Logger, reg *prometheus.Registry, payments *payment.Registry) error {
	if cfg.role == "api" {
		return db.UseJobs(sqldb.JobOptions{Logger: log})
	}
	jobs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "omo_jobs_total", Help: "Finished jobs by kind and state."},
		[]string{"kind", "state"})
	took := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "omo_job_duration_seconds", Help: "Job run time by kind."},
		[]string{"kind"})
	reg.MustRegister(jobs, took)
	err := db.UseJobs(sqldb.JobOptions{Workers: job.WorkersWith(db, job.Options{VoidPayment: api.PaymentVoider(payments, log), Refund: api.PaymentRefunder(payments)}), Periodic: job.Periodic(), MaxWorkers: cfg.workers, Logger: log,
		OnEvent: func(kind string, state rivertype.JobState, d time.Duration) {
			jobs.WithLabelValues(kind, string(state)).Inc()
			took.WithLabelValues(kind).Observe(d.Seconds())
		}})
	if err != nil {
		return err
	}
	if err := db.StartJobs(ctx); err != nil {
		return err
	}
	if n, err := db.ResumeImports(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("resuming imports", "count", n)
	}
	return nil
}

func listen(ctx context.Context, cfg serveConfig, db *sqldb.DB, log *slog.Logger, reg *prometheus.Registry, payments *payment.Registry) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, nil, err
	}
	ready := func() error {
		if cfg.role != "api" && !db.JobsRunning() {
			return errors.New("job workers are not running")
		}
		return nil
	}
	h := api.NewHandler(api.Deps{DB: db, Logger: log, Metrics: api.NewMetrics(reg), Gatherer: reg, Version: version,
		Ready: ready, OpsOnly: cfg.role == "worker", Payments: payments})
	trim := newIdleTrimmer()
	go trim.run(ctx)
	srv := &http.Server{Handler: trim.count(h), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return srv, ln, nil
}

// serveUntilDone serves until ctx ends, then shuts down in order: stop
// accepting and finish in-flight requests, finish running jobs, and (deferred
// by the caller) close the database.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, db *sqldb.DB, cfg serveConfig, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = db.StopJobs(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	herr := srv.Shutdown(sctx)
	jerr := db.StopJobs(sctx)
	log.Info("stopped", "http", errString(herr), "jobs", errString(jerr))
	return errors.Join(herr, jerr)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// startProfiler serves net/http/pprof on its own listener, never on the API
// address: profiles show internals and must stay on a private interface.
func startProfiler(addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("profiler listening", "addr", ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}

// startSFTP runs the embedded sFTP server; the returned stop ends it (before
// the database closes).
func startSFTP(ctx context.Context, db *sqldb.DB, addr string, log *slog.Logger) (func(), error) {
	s, err := sftp.New(ctx, db, log)
	if err != nil {
		return nil, err
	}
	a, err := s.Listen(addr)
	if err != nil {
		return nil, err
	}
	log.Info("sftp listening", "addr", a.String())
	go func() {
		if err := s.Serve(); err != nil {
			log.Error("sftp server stopped", "error", err.Error())
		}
	}()
	return func() { _ = s.Close() }, nil
}
