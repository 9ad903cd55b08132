package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the driver sqldb uses, for the raw reference

	"github.com/omo-platform/omo/internal/sqldb"
)

// bulkResult is one in-process identify run.
type bulkResult struct {
	N, Errors, Created int
	Elapsed            time.Duration
	Lat                latencies
	FirstErr           error
	CPU                cpuUse
	TimedOut           bool // stopped at the time limit before the last customer
}

func (r bulkResult) perSecond() float64 { return rate(r.N-r.Errors, r.Elapsed) }

func bulkParams(tenantID string, n int, retail []retailCustomer) []sqldb.IdentifyParams {
	ps := make([]sqldb.IdentifyParams, n)
	for i := range ps {
		s := customerSpec(i, retail)
		ps[i] = sqldb.IdentifyParams{TenantID: tenantID, Identifiers: s.identifiers(false), Traits: s.traits(),
			Source: "import", Actor: sqldb.Actor{Actor: "system"}}
	}
	return ps
}

// bulkIdentify calls db.Identify once per customer from conc goroutines.
func bulkIdentify(ctx context.Context, db *sqldb.DB, ps []sqldb.IdentifyParams, conc int, limit time.Duration, probe cpuProbe) bulkResult {
	// Calls already started finish with ctx; no new one starts after limit.
	stopAt := time.Now().Add(limit)
	var next atomic.Int64
	var mu sync.Mutex
	var res bulkResult
	var all []time.Duration
	var wg sync.WaitGroup
	cpu0 := probe.read()
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, len(ps)/conc+1)
			var n, errs, created int
			var first error
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				i := int(next.Add(1) - 1)
				if i >= len(ps) {
					break
				}
				t0 := time.Now()
				r, err := db.Identify(ctx, ps[i])
				lat = append(lat, time.Since(t0))
				n++
				switch {
				case err != nil:
					errs++
					if first == nil {
						first = err
					}
				case r.Created:
					created++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			res.N += n
			res.Errors += errs
			res.Created += created
			if res.FirstErr == nil {
				res.FirstErr = first
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.TimedOut = res.N < len(ps) && ctx.Err() == nil
	res.CPU = probe.read().since(cpu0, res.Elapsed)
	res.Lat = summarize(all)
	return res
}

// identifyBatchFunc is db.IdentifyBatch as the bench calls it: per-item
// errors (nil when the method has none) and an error for the whole batch.
type identifyBatchFunc = func(context.Context, []sqldb.IdentifyParams) ([]*sqldb.IdentifyResult, []error, error)

// findIdentifyBatch returns db.IdentifyBatch when this build of sqldb has it,
// in either of the two shapes it has been proposed in. It is looked up by
// reflection so that the bench builds with or without it. found reports that
// a method of that name exists at all (perhaps with another signature).
func findIdentifyBatch(db *sqldb.DB) (f identifyBatchFunc, found bool, signature string) {
	m := reflect.ValueOf(db).MethodByName("IdentifyBatch")
	if !m.IsValid() {
		return nil, false, ""
	}
	switch g := m.Interface().(type) {
	case func(context.Context, []sqldb.IdentifyParams) ([]*sqldb.IdentifyResult, []error, error):
		return g, true, m.Type().String()
	case func(context.Context, []sqldb.IdentifyParams) ([]*sqldb.IdentifyResult, error):
		return func(ctx context.Context, ps []sqldb.IdentifyParams) ([]*sqldb.IdentifyResult, []error, error) {
			rs, err := g(ctx, ps)
			return rs, nil, err
		}, true, m.Type().String()
	}
	return nil, true, m.Type().String()
}

// batchIdentify sends ps in batches of size from conc goroutines.
func batchIdentify(ctx context.Context, f identifyBatchFunc, ps []sqldb.IdentifyParams, size, conc int, limit time.Duration, probe cpuProbe) bulkResult {
	// Calls already started finish with ctx; no new one starts after limit.
	stopAt := time.Now().Add(limit)
	var next atomic.Int64
	var mu sync.Mutex
	var res bulkResult
	var all []time.Duration
	var wg sync.WaitGroup
	cpu0 := probe.read()
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				lo := int(next.Add(1)-1) * size
				if lo >= len(ps) {
					return
				}
				hi := min(lo+size, len(ps))
				t0 := time.Now()
				rs, itemErrs, err := f(ctx, ps[lo:hi])
				took := time.Since(t0)
				mu.Lock()
				all = append(all, took)
				res.N += hi - lo
				switch {
				case err != nil:
					res.Errors += hi - lo
					if res.FirstErr == nil {
						res.FirstErr = err
					}
				case len(rs) != hi-lo:
					res.Errors += hi - lo
					if res.FirstErr == nil {
						res.FirstErr = fmt.Errorf("IdentifyBatch returned %d results for %d customers", len(rs), hi-lo)
					}
				default:
					for i, r := range rs {
						switch {
						case i < len(itemErrs) && itemErrs[i] != nil:
							res.Errors++
							if res.FirstErr == nil {
								res.FirstErr = itemErrs[i]
							}
						case r == nil:
							res.Errors++
						case r.Created:
							res.Created++
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.TimedOut = res.N < len(ps) && ctx.Err() == nil
	res.CPU = probe.read().since(cpu0, res.Elapsed)
	res.Lat = summarize(all)
	return res
}

// refResult is the raw-insert reference.
type refResult struct {
	N       int
	Elapsed time.Duration
	How     string
}

func (r refResult) perSecond() float64 { return rate(r.N, r.Elapsed) }

// rawReference inserts the same customers' (email, phone) into a plain table
// in one transaction with the engine's fastest plain path: on SQLite a
// prepared INSERT through the same modernc driver and pragmas as OMO
// (WAL, synchronous=FULL) in its own file, on PostgreSQL a pgx COPY.
func rawReference(ctx context.Context, engine sqldb.Engine, dbURL, dir string, n int, retail []retailCustomer) (refResult, error) {
	rows := make([][]any, n)
	for i := range rows {
		s := customerSpec(i, retail)
		rows[i] = []any{s.Email, s.Phone}
	}
	if engine == sqldb.Postgres {
		return pgReference(ctx, dbURL, rows)
	}
	return sqliteReference(ctx, filepath.Join(dir, "reference.db"), rows)
}

func sqliteReference(ctx context.Context, path string, rows [][]any) (refResult, error) {
	_ = os.Remove(path)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)" +
		"&_pragma=cache_size(-32000)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return refResult{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE raw_customers (email TEXT NOT NULL, phone TEXT NOT NULL)`); err != nil {
		return refResult{}, err
	}
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return refResult{}, err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, `INSERT INTO raw_customers (email, phone) VALUES (?, ?)`)
	if err != nil {
		return refResult{}, err
	}
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return refResult{}, err
		}
	}
	if err := st.Close(); err != nil {
		return refResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return refResult{}, err
	}
	res := refResult{N: len(rows), Elapsed: time.Since(start),
		How: "prepared INSERT of (email, phone) into a plain table, one transaction, modernc SQLite, WAL, synchronous=FULL"}
	var got int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM raw_customers`).Scan(&got); err != nil || got != len(rows) {
		return res, fmt.Errorf("reference table holds %d rows, want %d (%v)", got, len(rows), err)
	}
	return res, nil
}

func pgReference(ctx context.Context, dbURL string, rows [][]any) (refResult, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return refResult{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE TABLE omobench_raw_customers (email TEXT NOT NULL, phone TEXT NOT NULL)`); err != nil {
		return refResult{}, err
	}
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return refResult{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"omobench_raw_customers"}, []string{"email", "phone"}, pgx.CopyFromRows(rows))
	if err != nil {
		return refResult{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return refResult{}, err
	}
	res := refResult{N: len(rows), Elapsed: time.Since(start),
		How: "pgx COPY of (email, phone) into a plain table, one transaction"}
	if int(n) != len(rows) {
		return res, fmt.Errorf("COPY wrote %d rows, want %d", n, len(rows))
	}
	return res, nil
}

// withCPUProfile runs fn under a CPU profile written to path (when set).
func withCPUProfile(path string, fn func()) error {
	if path == "" {
		fn()
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	fn()
	pprof.StopCPUProfile()
	return errors.Join(f.Close())
}
