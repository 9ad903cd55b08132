package main

import (
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"

	"github.com/omo-platform/omo/internal/sqldb"
)

// procsForSQLite is the GOMAXPROCS omo serve runs with on SQLite: one more
// than the default (the usable cores), unless GOMAXPROCS is set in the
// environment, which always wins. ok is false when nothing should change.
//
// Why: the WAL syncer and the checkpointer (internal/sqldb) spend much of
// their time in fdatasync, a system call that sleeps on the disk. Go keeps a
// goroutine's P while it is in a system call and lets sysmon take it back
// only when it sees other work waiting; with an empty local queue and a
// spinning thread it waits up to 10 ms. A trace of identify under load on 2
// cores showed the syncer in fdatasync for a third of the time, returning to
// its own P in 3,599 of 3,641 calls: a third of one of the two Ps stood idle
// while requests queued. One spare P keeps both cores working through it.
// Identify over HTTP did 25-40% more (docs/performance.md, session 11).
//
// PostgreSQL does its fsyncs in its own processes, so there is nothing to
// cover there.
func procsForSQLite(getenv func(string) string, engine sqldb.Engine, current int) (n int, ok bool) {
	if engine != sqldb.SQLite || getenv("GOMAXPROCS") != "" {
		return current, false
	}
	return current + 1, true
}

// defaultProcs is the GOMAXPROCS the process started with (the usable
// cores, as sqldb read it), so that a second serve in one process (the
// end-to-end tests) does not add another P.
var defaultProcs = sqldb.Cores()

// useSpareProc applies procsForSQLite. sqldb sizes its pools by the cores
// the process started with, before or after this change.
func useSpareProc(getenv func(string) string, engine sqldb.Engine) {
	if n, ok := procsForSQLite(getenv, engine, defaultProcs); ok {
		runtime.GOMAXPROCS(n)
	}
}

// defaultCommitNice is the nice value of SQLite's writer and WAL syncer
// threads (sqldb.Options.CommitNice, ADR 12): every write of the process
// waits on these two, so they run ahead of the threads serving requests.
const defaultCommitNice = -10

// niceFlag is a nice value: an integer from -20 to 19.
type niceFlag struct{ v *int }

func (f niceFlag) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.Itoa(*f.v)
}

func (f niceFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < -20 || n > 19 {
		return fmt.Errorf("%q is not a nice value (an integer from -20 to 19)", s)
	}
	*f.v = n
	return nil
}

// logCommitPriority says whether the commit threads got their priority; a
// process without the right to raise it runs on, slower under load.
func logCommitPriority(log *slog.Logger, db *sqldb.DB) {
	p := db.CommitPriority()
	switch {
	case p.Nice == 0: // not asked for, or PostgreSQL
	case p.Err != nil:
		log.Warn("commit threads run at normal priority: grant CAP_SYS_NICE (or a LimitNICE/RLIMIT_NICE that allows it), "+
			"or set --sqlite-commit-nice 0 to silence this", "nice", p.Nice, "err", p.Err.Error())
	default:
		log.Info("commit threads prioritised", "nice", p.Nice)
	}
}
