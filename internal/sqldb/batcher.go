package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// maxBatch bounds how many WriteTx calls share one commit, so one slow batch
// cannot hold many callers.
const maxBatch = 128

// A group smaller than gatherTarget waits up to gatherWindow for more calls
// while writes keep coming (see loop).
const (
	gatherWindow = time.Millisecond
	gatherTarget = 8
)

// batcher is SQLite's group commit: one goroutine owns the writer connection,
// takes every waiting WriteTx call, runs each in a savepoint of one
// transaction, commits once, and only then answers each caller.
type batcher struct {
	db      *DB
	writer  *sql.DB
	stmts   *writerStmts
	reqs    chan *writeReq
	syncer  *walSyncer
	quit    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

type writeReq struct {
	// alone asks for a transaction of its own: a large write (an import batch)
	// gains nothing from sharing a commit and would pay for a savepoint.
	alone bool
	ctx   context.Context
	fn    func(*Tx) error
	done  chan error
	tx    *Tx
	err   error
}

// newBatcher starts the writer and its WAL syncer and returns once both run
// at the priority asked for (commit_priority.go).
func newBatcher(db *DB, writer *sql.DB, walPath string, prio *commitPriority) *batcher {
	b := &batcher{db: db, writer: writer, stmts: newWriterStmts(writer), reqs: make(chan *writeReq),
		syncer: newWALSyncer(walPath, prio), quit: make(chan struct{})}
	b.stopped.Add(1)
	prio.run("SQLite writer", b.loop)
	return b
}

func (b *batcher) do(ctx context.Context, fn func(*Tx) error) error {
	return b.submit(&writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

func (b *batcher) submit(r *writeReq) error {
	ctx := r.ctx
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.quit:
		return fmt.Errorf("sqldb: database is closed")
	}
	// Once handed over, the write will be decided; wait for the verdict even if
	// ctx ends, so a caller never reports failure for a write that committed.
	return <-r.done
}

func (b *batcher) stop() {
	b.once.Do(func() { close(b.quit) })
	b.stopped.Wait()
}

func (b *batcher) loop() {
	defer b.stopped.Done()
	defer b.syncer.stop() // after the last batch: answers its callers
	defer b.stmts.close()
	var pending *writeReq // an alone request met while draining
	var lastDone time.Time
	var load writerLoad
	gatherTimer := time.NewTimer(time.Hour)
	gatherTimer.Stop()
	for {
		first := pending
		pending = nil
		if first == nil {
			select {
			case first = <-b.reqs:
			case <-b.quit:
				return
			}
		}
		batch := []*writeReq{first}
		// In a stream of writes (the last group ended within the window) a
		// small group waits up to gatherWindow for more calls: each commit
		// writes every page it touched to the WAL again, so at a moderate
		// rate many small commits wrote several times the bytes of a few
		// larger ones, and the fsyncs slowed with the disk. A write that
		// comes alone after a pause goes at once.
		var gather <-chan time.Time
		if time.Since(lastDone) < gatherWindow && load.spare() {
			gatherTimer.Reset(gatherWindow)
			gather = gatherTimer.C
		}
		for !first.alone && len(batch) < maxBatch {
			// Take what is waiting; while gathering, wait for more until the
			// group is large enough or the window closes.
			var r *writeReq
			if gather == nil || len(batch) >= gatherTarget {
				select {
				case r = <-b.reqs:
				default:
				}
			} else {
				select {
				case r = <-b.reqs:
				case <-gather:
					gather = nil
					continue
				}
			}
			if r == nil {
				break
			}
			if r.alone {
				pending = r
				break
			}
			batch = append(batch, r)
		}
		gatherTimer.Stop() // since Go 1.23 no stale tick is left to drain
		started := time.Now()
		b.run(batch)
		lastDone = time.Now()
		load.add(started, lastDone)
		b.stmts.prepareWanted(context.Background())
	}
}

func (b *batcher) run(batch []*writeReq) {
	ctx := context.Background()
	if err := b.syncer.err(); err != nil {
		finish(batch, err)
		return
	}
	stx, err := b.writer.BeginTx(ctx, nil)
	if err != nil {
		finish(batch, fmt.Errorf("sqldb: begin: %w", err))
		return
	}
	q := sqlQuerier{d: stx, cache: b.stmts.forTx(stx)}
	if len(batch) == 1 {
		// Alone in its transaction, a call needs no savepoint (which would copy
		// every page it touches): on failure the transaction rolls back.
		if r := batch[0]; !b.runAlone(stx, q, r) {
			return
		}
	} else {
		for _, r := range batch {
			r.err = b.runOne(stx, q, r)
		}
	}
	var done []*Tx
	for _, r := range batch {
		if r.err == nil {
			done = append(done, r.tx)
		}
	}
	if err := b.db.insertJobs(ctx, stx, nil, done...); err != nil {
		_ = stx.Rollback()
		finish(batch, err)
		return
	}
	if err := stx.Commit(); err != nil {
		_ = stx.Rollback()
		finish(batch, fmt.Errorf("sqldb: commit: %w", err))
		return
	}
	b.db.counters.commits.Add(1)
	b.db.checkpointer.committed()
	// Caches follow the database at once (readers already see the commit);
	// callers hear back once the WAL is on disk (walsync.go).
	for _, r := range batch {
		if r.err == nil {
			b.db.counters.writes.Add(1)
			for _, f := range r.tx.afterCommit {
				f()
			}
		}
	}
	b.syncer.committed(batch)
}

// runAlone runs the only call of a batch; it reports whether to commit.
func (b *batcher) runAlone(stx *sql.Tx, q sqlQuerier, r *writeReq) bool {
	if r.err = r.ctx.Err(); r.err == nil {
		r.tx = &Tx{Querier: uncancelled{q}, db: b.db, sqlTx: stx}
		r.err = callSafely(r.fn, r.tx)
	}
	if r.err != nil {
		_ = stx.Rollback()
		r.done <- r.err
		return false
	}
	return true
}

// runOne runs one call inside a savepoint; on error only its own work is undone.
func (b *batcher) runOne(stx *sql.Tx, q sqlQuerier, r *writeReq) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	// Queries must not be interrupted mid-statement by the caller's context;
	// the batch decides as a whole. The call's own statements run
	// uncancelled too (a caller that has gone stops at its next statement):
	// a cancellable context costs the driver a goroutine per statement, and
	// on the writer those waited for the CPU more than the statements ran.
	// The savepoint statements go through the writer's prepared statements:
	// unprepared, each of the three is compiled anew for every call.
	ctx := context.WithoutCancel(r.ctx)
	if _, err := q.Exec(ctx, "SAVEPOINT w"); err != nil {
		return fmt.Errorf("sqldb: savepoint: %w", err)
	}
	r.tx = &Tx{Querier: uncancelled{q}, db: b.db, sqlTx: stx}
	err := callSafely(r.fn, r.tx)
	if err != nil {
		_, _ = q.Exec(ctx, "ROLLBACK TO w")
	}
	if _, rerr := q.Exec(ctx, "RELEASE w"); rerr != nil && err == nil {
		err = fmt.Errorf("sqldb: release: %w", rerr)
	}
	return err
}

func finish(batch []*writeReq, err error) {
	for _, r := range batch {
		r.done <- err
	}
}

// writerLoad measures how busy the writer was over the last period: only a
// writer with time to spare makes a small group wait for more (a busy one
// would lose capacity to the wait).
type writerLoad struct {
	from       time.Time
	busy, last time.Duration
	period     time.Duration
}

const writerLoadPeriod = 100 * time.Millisecond

func (l *writerLoad) add(start, end time.Time) {
	if l.from.IsZero() {
		l.from = start
	}
	l.busy += end.Sub(start)
	if p := end.Sub(l.from); p >= writerLoadPeriod {
		l.last, l.period = l.busy, p
		l.from, l.busy = end, 0
	}
}

// spare reports whether the writer was busy less than half the last period.
func (l *writerLoad) spare() bool { return l.period > 0 && l.last < l.period/2 }
