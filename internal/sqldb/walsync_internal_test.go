package sqldb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func syncerBatch(n int) []*writeReq {
	b := make([]*writeReq, n)
	for i := range b {
		b[i] = &writeReq{done: make(chan error, 1)}
	}
	return b
}

func answer(t *testing.T, r *writeReq) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("a committed write was never answered")
		return nil
	}
}

func TestWALSyncerAnswersEveryCallerAfterTheFsync(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "omo.db")
	if err := os.WriteFile(db+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newWALSyncer(db)
	failed := errors.New("this call failed in its savepoint")
	var all []*writeReq
	for i := range 50 {
		b := syncerBatch(1 + i%5)
		b[0].err = map[bool]error{true: failed}[i%7 == 0]
		all = append(all, b...)
		s.committed(b)
	}
	for i, r := range all {
		err := answer(t, r)
		if r.err != nil && !errors.Is(err, failed) || r.err == nil && err != nil {
			t.Fatalf("caller %d: got %v, want its own outcome %v", i, err, r.err)
		}
	}
	s.stop()
}

func TestWALSyncerFailsWritesWhileTheWALCannotBeOpenedAndRecovers(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "omo.db")
	s := newWALSyncer(db)
	defer s.stop()
	b := syncerBatch(2)
	s.committed(b)
	for _, r := range b {
		if err := answer(t, r); err == nil {
			t.Fatal("a write was acknowledged although its WAL could not be synced")
		}
	}
	if err := s.err(); err != nil {
		t.Fatalf("an open failure must not stop later writes: %v", err)
	}
	if err := os.WriteFile(db+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b = syncerBatch(1)
	s.committed(b)
	if err := answer(t, b[0]); err != nil {
		t.Fatalf("after the WAL appeared: %v", err)
	}
}

func TestWALSyncerFollowsAReplacedWAL(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "omo.db")
	if err := os.WriteFile(db+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newWALSyncer(db)
	defer s.stop()
	b := syncerBatch(1)
	s.committed(b)
	if err := answer(t, b[0]); err != nil {
		t.Fatal(err)
	}
	first := s.wal
	if err := os.Remove(db + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b = syncerBatch(1)
	s.committed(b)
	if err := answer(t, b[0]); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wal == first {
		t.Fatal("the syncer kept syncing the WAL file SQLite had replaced")
	}
}
