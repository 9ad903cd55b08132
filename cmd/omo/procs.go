package main

import (
	"runtime"

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
// cores), kept so that a second serve in one process (the end-to-end tests)
// does not add another P.
var defaultProcs = runtime.GOMAXPROCS(0)

// useSpareProc applies procsForSQLite. sqldb sizes its pools by the cores
// the process started with, before or after this change.
func useSpareProc(getenv func(string) string, engine sqldb.Engine) {
	if n, ok := procsForSQLite(getenv, engine, defaultProcs); ok {
		runtime.GOMAXPROCS(n)
	}
}
