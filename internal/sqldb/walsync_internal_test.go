package sqldb

import (
	"errors"
	"fmt"
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
	s := newWALSyncer(db+"-wal", nil)
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

func TestWALSyncerFailsEveryWriteOnceTheWALCannotBeSynced(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "omo.db")
	s := newWALSyncer(db+"-wal", nil) // no such file: the batch's durability is unknown
	defer s.stop()
	b := syncerBatch(2)
	s.committed(b)
	for _, r := range b {
		if err := answer(t, r); err == nil {
			t.Fatal("a write was acknowledged although its WAL could not be synced")
		}
	}
	if s.err() == nil {
		t.Fatal("the failure must stop later writes")
	}
	// Even once the file is there, nothing is acknowledged any more.
	if err := os.WriteFile(db+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b = syncerBatch(1)
	s.committed(b)
	if err := answer(t, b[0]); err == nil {
		t.Fatal("a write was acknowledged after a failed sync")
	}
}

func TestWALSyncerFollowsAReplacedWAL(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "omo.db")
	if err := os.WriteFile(db+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newWALSyncer(db+"-wal", nil)
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
	if s.wal == first { // the loop answered after its sync: ordered by the channel
		t.Fatal("the syncer kept syncing the WAL file SQLite had replaced")
	}
}

// A database opened through a symbolic link keeps its WAL beside the file
// the link names; the syncer must sync that one, or every write would fail
// (or, with a stale file beside the link, be acknowledged unsynced).
func TestWALSyncerSyncsTheWALOfALinkedDatabase(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "omo.db")
	if err := os.Symlink(filepath.Join(dir, "data", "omo.db"), link); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, "sqlite:"+link, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := db.WriteTx(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, pepper, created_at) VALUES ($1, $2, $3, $4)`,
				fmt.Sprint("t", i), "Linked", []byte("p"), tx.Now())
			return err
		}); err != nil {
			t.Fatalf("write %d through a linked database: %v", i, err)
		}
	}
	real, err := filepath.EvalSymlinks(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(real, "omo.db-wal"); db.batcher.syncer.path != want {
		t.Fatalf("syncs %s, want %s", db.batcher.syncer.path, want)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
