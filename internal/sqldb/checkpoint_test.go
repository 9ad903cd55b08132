package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
)

// TestCheckpointer shows that with SQLite's automatic checkpoint off, the
// background checkpointer still copies committed writes into the database
// file, and that a clean Close leaves no WAL behind.
func TestCheckpointer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "omo.db")
	db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tn, err := db.CreateTenant(ctx, "Checkpoint Brand")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.PoolStats().CheckpointedFrames == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no WAL frame was checkpointed within 10 s of a commit")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("WAL holds %d bytes after a clean close, want none", fi.Size())
	}
	db, err = sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.FindTenantByID(ctx, tn.ID); err != nil {
		t.Fatalf("tenant written before the close: %v", err)
	}
}
