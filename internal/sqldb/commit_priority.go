package sqldb

import (
	"fmt"
	"runtime"
	"sync"
)

// CommitPriority is what became of Options.CommitNice: the nice value asked
// for and, when it could not be applied, why.
type CommitPriority struct {
	Nice int
	Err  error
}

// commitPriority gives the goroutines on SQLite's commit path (the batcher's
// writer and the WAL syncer) threads of their own at a higher priority.
//
// Why: every write in the process passes through the one writer, so on a
// small machine whatever takes a core from it takes throughput from every
// caller. With its thread at nice -10 the kernel runs it ahead of the
// threads serving HTTP and the load beside it; the syncer, which answers a
// batch's callers as soon as the WAL is on disk, likewise. The purchases
// accrued over HTTP rose from a median of 1,514/s to 1,849/s on 2 cores
// (docs/performance.md, session 12; ADR 12).
type commitPriority struct {
	nice int
	mu   sync.Mutex
	err  error
}

// enter locks the calling goroutine to its thread and sets that thread's
// nice value; the goroutine calls the returned leave as it ends. Once set,
// the thread is never given back (no UnlockOSThread): when the goroutine
// ends, Go ends the thread with it, so no other goroutine ever runs at the
// raised priority. The one exception is the process's main thread, which
// Go parks for good instead of ending it: leave puts its nice value back.
func (p *commitPriority) enter(who string) (leave func()) {
	if p == nil || p.nice == 0 {
		return func() {}
	}
	runtime.LockOSThread()
	before, err := threadNice()
	if err == nil {
		err = setThreadNice(p.nice)
	}
	if err != nil {
		runtime.UnlockOSThread() // a thread of its own gains nothing at the same priority
		p.mu.Lock()
		if p.err == nil {
			p.err = fmt.Errorf("sqldb: nice %d for the %s thread: %w", p.nice, who, err)
		}
		p.mu.Unlock()
		return func() {}
	}
	return func() { _ = setThreadNice(before) }
}

// run starts fn on a goroutine of its own at the priority (enter) and
// returns once that goroutine has its thread, so that Open can report the
// outcome.
func (p *commitPriority) run(who string, fn func()) {
	entered := make(chan struct{})
	go func() {
		defer p.enter(who)()
		close(entered)
		fn()
	}()
	<-entered
}

func (p *commitPriority) result() CommitPriority {
	if p == nil {
		return CommitPriority{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return CommitPriority{Nice: p.nice, Err: p.err}
}

// CommitPriority reports whether Options.CommitNice took effect (SQLite;
// always zero on PostgreSQL, whose commits run in its own processes).
func (db *DB) CommitPriority() CommitPriority { return db.commitPriority.result() }
