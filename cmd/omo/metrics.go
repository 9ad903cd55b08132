package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/omo-platform/omo/internal/sqldb"
)

// registerDBMetrics exposes the connection pool as gauges read at scrape time.
func registerDBMetrics(reg *prometheus.Registry, db *sqldb.DB) {
	for _, g := range []struct {
		name, help string
		read       func(sqldb.PoolStats) int
	}{
		{"omo_db_connections_open", "Open database connections (readers and writer).", func(s sqldb.PoolStats) int { return s.Open }},
		{"omo_db_connections_in_use", "Database connections in use.", func(s sqldb.PoolStats) int { return s.InUse }},
		{"omo_db_connections_idle", "Idle database connections.", func(s sqldb.PoolStats) int { return s.Idle }},
	} {
		read := g.read
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help},
			func() float64 { return float64(read(db.PoolStats())) }))
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "omo_db_group_commits_total",
		Help: "SQLite group commits (transactions that carried one or more writes)."},
		func() float64 { return float64(db.PoolStats().Commits) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "omo_db_writes_total",
		Help: "Write transactions committed (on SQLite, several share one group commit)."},
		func() float64 { return float64(db.PoolStats().Writes) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "omo_db_writer_wait_seconds_total",
		Help: "Time spent waiting for SQLite's one writer connection (group commits and the job queue share it)."},
		func() float64 { return db.PoolStats().WriterWait.Seconds() }))
}
