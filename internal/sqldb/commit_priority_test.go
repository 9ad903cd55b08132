package sqldb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestSQLite_CommitThreadsRunAtTheirNice: with CommitNice set, the writer and
// the WAL syncer each run on a thread of their own at that nice value, writes
// go through them as before, and no thread is left at that priority once the
// database is closed (the threads end, or the main thread, which Go parks
// instead of ending, gets its nice value back). A positive nice needs no
// privilege to set, but putting it back to 0 does: the last check needs
// root. No other test asks for 7.
func TestSQLite_CommitThreadsRunAtTheirNice(t *testing.T) {
	const nice = 7
	ctx := context.Background()
	if got := sqldbtest.ThreadNices(t, os.Getpid())[nice]; got != 0 {
		t.Fatalf("%d threads at nice %d before the database opened", got, nice)
	}
	db, err := sqldb.Open(ctx, sqldbtest.URL(t, sqldb.SQLite), sqldb.Options{CommitNice: nice})
	if err != nil {
		t.Fatal(err)
	}
	if p := db.CommitPriority(); p.Nice != nice || p.Err != nil {
		t.Fatalf("CommitPriority = %+v, want nice %d and no error", p, nice)
	}
	if got := sqldbtest.ThreadNices(t, os.Getpid())[nice]; got != 2 {
		t.Fatalf("%d threads at nice %d, want 2 (the writer and the WAL syncer)", got, nice)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tn := sqldbtest.Tenant(t, db).ID
	if _, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn, Identifiers: customer.IdentifierInput{Email: "nice@mail.hk"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if os.Geteuid() != 0 {
		t.Log("not root: a main thread that ran the writer may keep nice 7; not checked")
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for sqldbtest.ThreadNices(t, os.Getpid())[nice] != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("threads at nice %d outlived the database", nice)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCommitPriority_ZeroAndPostgresLeaveThreadsAlone: without CommitNice
// nothing is locked or changed, and PostgreSQL ignores it.
func TestCommitPriority_ZeroAndPostgresLeaveThreadsAlone(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			nice := 0
			if e == sqldb.Postgres {
				nice = 5
			}
			db, err := sqldb.Open(context.Background(), sqldbtest.URL(t, e), sqldb.Options{CommitNice: nice})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if p := db.CommitPriority(); p != (sqldb.CommitPriority{}) {
				t.Fatalf("CommitPriority = %+v, want none", p)
			}
		})
	}
}
