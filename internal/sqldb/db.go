// Package sqldb stores OMO's data in SQLite (embedded, one process) or
// PostgreSQL (many processes), with the same visible SQL on both where the
// dialects agree and named dialect methods where they do not.
//
// Writes go through WriteTx. On SQLite a single writer connection runs them;
// concurrent WriteTx calls are coalesced into one transaction (group commit),
// each call inside its own savepoint, so one fsync acknowledges many writes and
// a failing call rolls back alone. On PostgreSQL each call is its own
// transaction, retried on serialization failures and deadlocks.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Engine names a database engine.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// ErrNoRows is returned by Row.Scan when a query found nothing, on both engines.
var ErrNoRows = sql.ErrNoRows

// Querier is what both engines' pools and transactions offer.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set; Close it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface{ Scan(dest ...any) error }

// Options tune Open.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ReadConns caps the SQLite reader pool (one per core, at least 2, when
	// zero; point reads have a pool of their own) or the PostgreSQL pool.
	ReadConns int
	// PointReadConns sizes the SQLite pool of point reads (readPoint): one
	// connection per core, at least 2, when zero.
	PointReadConns int
	// CommitNice, when not zero, runs SQLite's writer and WAL syncer each on
	// a thread of its own with this nice value (Linux; -10 in omo serve).
	// Whether it took effect: DB.CommitPriority. Ignored on PostgreSQL.
	CommitNice int
}

// DB is an open database of either engine.
type DB struct {
	engine Engine
	now    func() time.Time

	// SQLite
	path           string
	writer         *sql.DB
	reader         readPool
	point          readPool // point reads (readPoint), apart from the others
	batcher        *batcher
	checkpointer   *checkpointer
	commitPriority *commitPriority

	// PostgreSQL
	pool *pgxpool.Pool

	jobs           *jobs
	tenants        tenantCache
	loyaltyConfigs loyaltyConfigCache
	places         placeCache
	commerce       settingsCache
	catalogSearch  searchCache
	routing        routingCache
	counters       writeCounters
	// salesFollowed: some module reacts to recorded transactions through
	// the transaction.recorded job (FollowSales).
	salesFollowed atomic.Bool
}

// FollowSales turns the transaction.recorded job on or off. The job hands
// recorded sales and returns to the modules that react to them later; while
// no module does (loyalty earns inside the sale's own transaction), queueing
// it would only cost every group commit a job to insert, fetch and complete
// on the one SQLite writer (a fifth of the sales throughput and most of its
// p99). The process turns it on at start when a module registered a reaction
// (job.FollowsSales); from then on every recorded transaction gets its job,
// in the transaction that records it.
func (db *DB) FollowSales(on bool) { db.salesFollowed.Store(on) }

// Open connects to url: "sqlite:PATH" (or a bare path) or "postgres://…".
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = openPostgres(ctx, url, opts)
	default:
		db, err = openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "sqlite:"), opts)
	}
	if err != nil {
		return nil, err
	}
	db.now = opts.Now
	return db, nil
}

// Engine reports which engine this is.
func (db *DB) Engine() Engine { return db.engine }

// Now is the database's clock, truncated to microseconds so that both engines
// store the same value.
func (db *DB) Now() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// Read returns the querier for reads outside a transaction.
func (db *DB) Read() Querier {
	if db.engine == Postgres {
		return pgxQuerier{db.pool}
	}
	return db.reader.q
}

// readPoint is Read for statements bounded by a few index seeks (a customer
// by identifier, a member's quote state). They run without the request's
// cancellation: on a cancellable context both drivers start a goroutine per
// statement to interrupt it (modernc also installs a progress handler), which
// costs more than the statement itself and buys nothing for one that ends in
// microseconds anyway.
//
// On SQLite they have a pool of their own, one connection per core: a report
// or an export reading through Read cannot hold up a lookup at the till.
func (db *DB) readPoint() Querier {
	if db.engine == Postgres {
		return uncancelled{db.Read()}
	}
	return uncancelled{db.point.q}
}

type uncancelled struct{ q Querier }

// A request that has ended already does not start another statement (nor
// wait for a pooled connection for it).
func (u uncancelled) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return u.q.Exec(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelled) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return u.q.Query(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelled) QueryRow(ctx context.Context, query string, args ...any) Row {
	if err := ctx.Err(); err != nil {
		return errRow{err}
	}
	return u.q.QueryRow(context.WithoutCancel(ctx), query, args...)
}

// errRow is a Row that failed before its statement ran.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.engine == SQLite {
		if err := db.batcher.syncer.err(); err != nil {
			return err // writes fail until a restart: not ready
		}
	}
	var one int
	return db.Read().QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Close stops the job client (if still running) and closes the connections.
func (db *DB) Close() error {
	if db.engine == Postgres {
		db.pool.Close()
		return nil
	}
	db.batcher.stop()
	return errors.Join(db.checkpointer.stop(), db.point.db.Close(), db.reader.db.Close(), db.writer.Close())
}

// Tx is a write transaction (on SQLite, a savepoint inside a group commit).
type Tx struct {
	Querier
	db          *DB
	sqlTx       *sql.Tx
	pgxTx       pgx.Tx
	afterCommit []func()
	jobs        []river.InsertManyParams // enqueued, inserted before the commit
	// lineRows, when set, collects transaction lines for one multi-row
	// insert at the end (an import chunk: nothing in it reads lines back).
	lineRows *[][]any
}

// AfterCommit runs f once the transaction has committed (on SQLite right
// after the group commit, when readers see it, possibly a moment before its
// fsync; the caller of WriteTx hears back only after that: ADR 8).
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// Enqueue inserts a job in this transaction: it runs only if the transaction
// commits, and it cannot be lost once it does.
func (tx *Tx) Enqueue(_ context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if tx.db.jobs == nil {
		return errors.New("sqldb: Enqueue before UseJobs")
	}
	tx.jobs = append(tx.jobs, river.InsertManyParams{Args: args, InsertOpts: opts})
	return nil
}

// insertJobs inserts the jobs of the given calls' transactions into the
// database transaction that is about to commit.
func (db *DB) insertJobs(ctx context.Context, sqlTx *sql.Tx, pgxTx pgx.Tx, txs ...*Tx) error {
	var params []river.InsertManyParams
	for _, t := range txs {
		for _, p := range t.jobs {
			params = appendMerged(params, p)
		}
	}
	if len(params) == 0 {
		return nil
	}
	return db.jobs.insertMany(ctx, sqlTx, pgxTx, params)
}

// mergeableJob is job args that can absorb the next job of its kind
// (transaction.RecordedJob): a group commit then queues one job, not dozens.
type mergeableJob interface {
	Merge(next any) (any, bool)
}

func appendMerged(params []river.InsertManyParams, p river.InsertManyParams) []river.InsertManyParams {
	if n := len(params); n > 0 && p.InsertOpts == nil && params[n-1].InsertOpts == nil {
		if m, ok := params[n-1].Args.(mergeableJob); ok {
			if merged, ok := m.Merge(p.Args); ok {
				params[n-1].Args = merged.(river.JobArgs)
				return params
			}
		}
	}
	return append(params, p)
}

// Now is the transaction's clock.
func (tx *Tx) Now() time.Time { return tx.db.Now() }

// Engine reports the engine, for the few dialect branches.
func (tx *Tx) Engine() Engine { return tx.db.engine }

// WriteTx runs fn in a write transaction and returns once it is durable. fn
// may run more than once on PostgreSQL (after a serialization failure), so it
// must not have effects outside the transaction except through AfterCommit.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.engine == Postgres {
		return db.pgWriteTx(ctx, fn)
	}
	return db.batcher.do(ctx, fn)
}

// writeTxAlone is WriteTx for a large write: on SQLite it gets a transaction
// of its own instead of joining a group commit.
func (db *DB) writeTxAlone(ctx context.Context, fn func(tx *Tx) error) error {
	if db.engine == Postgres {
		return db.pgWriteTx(ctx, fn)
	}
	return db.batcher.submit(&writeReq{alone: true, ctx: ctx, fn: fn, done: make(chan error, 1)})
}

func (db *DB) pgWriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.pgWriteOnce(ctx, fn)
		if err == nil || attempt >= 8 || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 2 * time.Millisecond)
	}
}

func (db *DB) pgWriteOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("sqldb: begin: %w", err)
	}
	// Released after the rollback below: a connection still inside a
	// transaction (a rollback that failed) is closed by the pool, not reused.
	defer conn.Release()
	q := newPGTx(conn.Conn())
	defer func() {
		if err != nil {
			q.rollback(ctx)
		}
	}()
	tx := &Tx{Querier: q, db: db, pgxTx: pgConnTx{conn.Conn()}}
	if err := callSafely(fn, tx); err != nil {
		return err
	}
	if len(tx.jobs) > 0 {
		// River inserts through the connection: what is queued goes first.
		if err := q.flush(ctx); err != nil {
			return err
		}
		if err := db.insertJobs(ctx, nil, tx.pgxTx, tx); err != nil {
			return err
		}
	}
	if err := q.commit(ctx); err != nil {
		return fmt.Errorf("sqldb: commit: %w", err)
	}
	db.counters.commits.Add(1)
	db.counters.writes.Add(1)
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func callSafely(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqldb: panic in transaction: %v", r)
		}
	}()
	return fn(tx)
}

// retryable reports PostgreSQL serialization failures and deadlocks.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// IsUniqueViolation reports a unique-constraint failure on either engine.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
