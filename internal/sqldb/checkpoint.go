package sqldb

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointEvery is the longest a committed write waits in the WAL before it
// is copied into the database file.
const checkpointEvery = 200 * time.Millisecond

// While the WAL is large it is copied every checkpointBusyEvery, so that the
// writer's backstop checkpoint finds little left to copy.
const (
	walBusyFrames       = 2000
	checkpointBusyEvery = 10 * time.Millisecond
)

// checkpointer copies the SQLite write-ahead log into the database file on a
// connection of its own. SQLite's automatic checkpoint runs inside the commit
// that crosses the threshold, on the single writer, so every writer waits for
// it; a PASSIVE checkpoint elsewhere runs beside the writer instead, on the
// other core. The writer keeps a late automatic checkpoint as a backstop
// (see sqliteDSN), which then finds little left to copy.
type checkpointer struct {
	conn *sql.DB
	// frames counts the WAL frames copied into the database file.
	frames  atomic.Int64
	kick    chan struct{}
	quit    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

func newCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), quit: make(chan struct{})}
	c.stopped.Add(1)
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer c.stopped.Done()
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		wait := checkpointEvery
		if c.checkpoint() >= walBusyFrames {
			wait = checkpointBusyEvery
		}
		select {
		case <-time.After(wait):
		case <-c.quit:
			return
		}
	}
}

// checkpoint copies what it can; what it cannot (a reader still needs the
// old pages, or the database is busy) is left for the next round.
func (c *checkpointer) checkpoint() (logFrames int64) {
	var busy, copied int64
	err := c.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
	if err == nil && copied > 0 {
		c.frames.Add(copied)
	}
	return logFrames
}

// stop ends the loop and runs a last full checkpoint, so a cleanly stopped
// process leaves an empty WAL.
func (c *checkpointer) stop() error {
	c.once.Do(func() { close(c.quit) })
	c.stopped.Wait()
	_, _ = c.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	return c.conn.Close()
}
