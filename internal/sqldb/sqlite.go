package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqldb: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqldb: create data folder: %w", err)
		}
	}
	writer, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	// One writer: SQLite allows one at a time, and the batcher owns it.
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// On any failure below, what was opened so far is closed again.
	opened := []*sql.DB{writer}
	fail := func(err error) (*DB, error) {
		for _, d := range opened {
			_ = d.Close()
		}
		return nil, err
	}
	reader, err := openReaders(path, opts.ReadConns)
	if err != nil {
		return fail(err)
	}
	opened = append(opened, reader.db)
	// Point reads get their own pool, as many connections as the process
	// has cores (see readPoint).
	point, err := openReaders(path, opts.PointReadConns)
	if err != nil {
		return fail(err)
	}
	opened = append(opened, point.db)
	if err := writer.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("sqldb: open %s: %w", path, err))
	}
	// The WAL sits beside the file SQLite opened, which is not path when
	// path is a symbolic link: ask SQLite.
	var main string
	if err := writer.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&main); err != nil {
		return fail(fmt.Errorf("sqldb: open %s: %w", path, err))
	}
	ckpt, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return fail(fmt.Errorf("sqldb: open %s: %w", path, err))
	}
	ckpt.SetMaxOpenConns(1)
	db := &DB{engine: SQLite, path: path, writer: writer, reader: reader, point: point, checkpointer: newCheckpointer(ckpt)}
	db.commitPriority = &commitPriority{nice: opts.CommitNice}
	db.batcher = newBatcher(db, writer, main+"-wal", db.commitPriority)
	return db, nil
}

// openReaders opens a pool of n read-only connections (n <= 0: one per core,
// at least 2). More connections than cores cost more: 50 callers looking
// customers up through 2 connections spent 7% less per lookup than through 4
// on 2 cores (BenchmarkLookupPointPool), and each connection holds its own
// page cache and prepared statements, about 7 MB after a load.
func openReaders(path string, n int) (readPool, error) {
	reader, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return readPool{}, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	if n <= 0 {
		n = max(2, cores)
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	reader.SetConnMaxIdleTime(0)
	return readPool{db: reader, q: sqlQuerier{d: reader, cache: newStmtCache(reader.PrepareContext)}}, nil
}

// cores is the GOMAXPROCS the process started with: the cores it may use.
// It is read once, so that the pools keep that size when omo serve later runs
// one P more than the cores (cmd/omo/procs.go, ADR 11).
var cores = runtime.GOMAXPROCS(0)

// Cores is the GOMAXPROCS the process started with, read once at start.
func Cores() int { return cores }

// readPool is a pool of SQLite reader connections and its querier, which
// prepares each statement once per connection.
type readPool struct {
	db *sql.DB
	q  sqlQuerier
}

// walBackstopPages is where the writer's own checkpoint starts (see sqliteDSN).
const walBackstopPages = 16000

// sqliteDSN sets the pragmas on every connection: WAL so readers never block
// the writer, every acknowledged write on disk because points and money must
// survive power loss (FULL, or for the writer NORMAL plus the batcher's own
// fsync before it answers: walsync.go), foreign keys on, a busy timeout, and BEGIN IMMEDIATE for the writer so
// a transaction never fails half-way on a lock upgrade.
func sqliteDSN(path string, writer bool) string {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)", "foreign_keys(ON)", "busy_timeout(10000)", "temp_store(MEMORY)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_time_format", "sqlite")
	// Page caches are per connection: a larger one for the writer, smaller
	// ones for the readers, to keep an idle process small.
	if writer {
		q.Set("_txlock", "immediate")
		// The batcher fsyncs the WAL itself before it answers a write
		// (walsync.go), so COMMIT need not: NORMAL writes the frames and
		// returns. Checkpoints still sync the WAL before and the database
		// after, and the WAL header when the WAL is reused.
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "cache_size(-16000)")
		// The checkpointer copies the WAL beside the writer (checkpoint.go).
		// The writer's own checkpoint stays as a backstop at 16,000 pages
		// (64 MB): only a checkpoint right before a write lets SQLite restart
		// the WAL from its start; under a steady stream of writes it would
		// grow without end. Once past the mark it runs after every commit
		// until the WAL restarts, copying what the checkpointer has not yet
		// and syncing the database file, a stall of several milliseconds on
		// the one writer. At 4,000 pages a sales load crossed it several
		// times a second; at 16,000 the same load sold 24% more with a p95
		// of 14 ms instead of 22 (docs/performance.md).
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages))
		// The WAL file is kept at its size when SQLite starts it over (up to
		// 256 MB): cut back to 64 MB, just under what the backstop lets it
		// reach, it was truncated and grown again every cycle, and each cut
		// (a discard on this disk) and growth stalled the next commits.
		q.Add("_pragma", "journal_size_limit(268435456)")
	} else {
		q.Add("_pragma", "synchronous(FULL)") // the checkpointer's connection writes the database file
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "cache_size(-2000)")
	}
	return "file:" + path + "?" + q.Encode()
}
