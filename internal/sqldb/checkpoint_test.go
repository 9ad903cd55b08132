package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestCheckpointer_WALStaysBounded writes without pause three times as many
// pages as the writer's backstop checkpoint lets the WAL hold, and checks that
// the WAL file is restarted rather than growing with them:
// a checkpoint beside a busy writer never finds the WAL fully copied, so the
// writer's own late checkpoint must let SQLite start it over.
func TestCheckpointer_WALStaysBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "omo.db")
	db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("x", 200_000) // about 50 pages a commit
	const pageSize = 4096
	commits := 3 * sqldb.WALBackstopPages / 50
	var largest int64
	for i := range commits {
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, pepper, created_at) VALUES ($1, $2, $3, $4)`,
				fmt.Sprint("t", i), name, []byte("p"), tx.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	// The backstop runs once the WAL holds its pages, after the commit that
	// crossed the mark, and restarts the WAL only when the checkpointer is not
	// reading it at that moment: allow a quarter more (a WAL that grew with
	// the writes would reach three times the mark).
	limit := int64(sqldb.WALBackstopPages) * 5 / 4 * (pageSize + 24)
	if largest > limit {
		t.Errorf("the WAL grew to %d MB while %d MB were written; want at most %d MB",
			largest>>20, commits*len(name)>>20, limit>>20)
	}
}
