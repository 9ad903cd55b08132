package sqldb

import (
	"fmt"
	"os"
	"sync/atomic"
)

// walSyncer makes group commits durable off the writer's path.
//
// With synchronous=FULL SQLite fsyncs the WAL inside every COMMIT, and the
// one writer connection sits idle for that fsync (about half a millisecond
// here) while every other write waits behind it. The writer connection runs
// with synchronous=NORMAL instead: COMMIT writes the WAL frames and returns.
// The batcher hands each committed batch to this goroutine, which fsyncs the
// WAL file and only then answers the batch's callers, while the writer is
// already running the next batch. One fsync covers every batch committed
// before it started, so under load several batches share one.
//
// An acknowledged write is therefore exactly as durable as under FULL: its
// frames were on disk before its caller heard "committed". A crash before the
// fsync loses only unacknowledged batches, and always a suffix of them: WAL
// frames carry cumulative checksums, so recovery stops at the first frame
// that did not reach the disk and never applies a later batch without an
// earlier one. What differs is visibility: readers (and job workers) may see a
// batch up to one fsync before it is durable. ADR 8 weighs this.
//
// A WAL that cannot be opened or synced leaves committed batches of unknown
// durability (PostgreSQL stops on a failed fsync for the same reason): the
// syncer fails that batch and every later write with the error, and the
// database stops being ready (DB.Ping), until the process restarts.
type walSyncer struct {
	path    string // the WAL file: SQLite's own database path + "-wal"
	batches chan []*writeReq
	done    chan struct{}
	failed  atomic.Pointer[error] // read by the batcher without waiting for an fsync
	wal     *os.File              // the loop goroutine's alone
}

// newWALSyncer starts the syncer at the priority asked for (nil: as is).
func newWALSyncer(walPath string, prio *commitPriority) *walSyncer {
	s := &walSyncer{path: walPath, batches: make(chan []*writeReq, 64), done: make(chan struct{})}
	prio.run("WAL syncer", s.loop)
	return s
}

// committed hands over a committed batch; its callers are answered once the
// WAL is on disk.
func (s *walSyncer) committed(batch []*writeReq) { s.batches <- batch }

// err is the sticky failure, if any.
func (s *walSyncer) err() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// stop answers what was handed over and ends the goroutine.
func (s *walSyncer) stop() {
	close(s.batches)
	<-s.done
}

func (s *walSyncer) loop() {
	defer close(s.done)
	defer func() {
		if s.wal != nil {
			_ = s.wal.Close()
		}
	}()
	for batch := range s.batches {
		waiting := [][]*writeReq{batch}
	drain: // every batch committed by now shares this fsync
		for {
			select {
			case b, ok := <-s.batches:
				if !ok {
					break drain
				}
				waiting = append(waiting, b)
			default:
				break drain
			}
		}
		err := s.sync()
		for _, b := range waiting {
			for _, r := range b {
				if r.err == nil && err != nil {
					r.err = err
				}
				r.done <- r.err
			}
		}
	}
}

// sync fsyncs the WAL file, reopening it if SQLite replaced it.
func (s *walSyncer) sync() error {
	if err := s.err(); err != nil {
		return err
	}
	err := s.open()
	if err == nil {
		err = dataSync(s.wal)
	}
	if err != nil {
		err = fmt.Errorf("sqldb: syncing %s failed; writes since the last good fsync may be lost, restart the process: %w", s.path, err)
		s.failed.Store(&err)
	}
	return err
}

func (s *walSyncer) open() error {
	if s.wal != nil {
		cur, err1 := os.Stat(s.path)
		mine, err2 := s.wal.Stat()
		if err1 == nil && err2 == nil && os.SameFile(cur, mine) {
			return nil
		}
		_ = s.wal.Close()
		s.wal = nil
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	s.wal = f
	return nil
}
