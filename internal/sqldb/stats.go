package sqldb

import (
	"database/sql"
	"sync/atomic"
	"time"
)

// PoolStats describe the connections and write throughput, for metrics.
type PoolStats struct {
	Open, InUse, Idle int
	// Commits counts transactions committed; Writes counts WriteTx calls that
	// succeeded. On SQLite Writes/Commits is the group commit factor.
	Commits, Writes int64
	// CheckpointedFrames counts SQLite WAL frames copied into the database
	// file by the background checkpointer (zero on PostgreSQL).
	CheckpointedFrames int64
	// WriterWait is how long SQLite's group commit and the job queue, which
	// share the one writer connection, have waited for it in all.
	WriterWait time.Duration
}

type writeCounters struct{ commits, writes atomic.Int64 }

// PoolStats reports the current pool state.
func (db *DB) PoolStats() PoolStats {
	s := PoolStats{Commits: db.counters.commits.Load(), Writes: db.counters.writes.Load()}
	if db.engine == Postgres {
		st := db.pool.Stat()
		s.Open, s.InUse, s.Idle = int(st.TotalConns()), int(st.AcquiredConns()), int(st.IdleConns())
		return s
	}
	s.CheckpointedFrames = db.checkpointer.frames.Load()
	for _, p := range []*sql.DB{db.reader.db, db.point.db, db.writer} {
		st := p.Stats()
		s.Open, s.InUse, s.Idle = s.Open+st.OpenConnections, s.InUse+st.InUse, s.Idle+st.Idle
		if p == db.writer {
			s.WriterWait = st.WaitDuration
		}
	}
	return s
}
