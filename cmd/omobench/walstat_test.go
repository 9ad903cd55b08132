package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWALStat_NamesTheBTreesACommitWrites writes three commits into a real
// SQLite database whose WAL is never checkpointed, and reads the WAL back.
func TestWALStat_NamesTheBTreesACommitWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "w.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE things (id INTEGER PRIMARY KEY, tag TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE INDEX things_tag ON things (tag)`); err != nil {
		t.Fatal(err)
	}
	// Restart the WAL so that only the three commits below are in it.
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.ExecContext(ctx, `INSERT INTO things (tag) VALUES (?)`, strings.Repeat("x", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	w, err := parseWAL(raw)
	if err != nil {
		t.Fatal(err)
	}
	if w.commits != 3 || w.pageSize != 4096 {
		t.Fatalf("commits %d, page size %d; want 3 and 4096", w.commits, w.pageSize)
	}
	owners, err := pageOwners(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writeWALStat(&out, w, owners)
	// Each commit writes the table's page and the index's page.
	for _, want := range []string{"6 frames of 4096 bytes in 3 commits", "| things | 3 | 1.00 |", "| things_tag | 3 | 1.00 |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if _, err := parseWAL(raw[:20]); err == nil {
		t.Error("a truncated header parsed")
	}
	if _, err := parseWAL(make([]byte, 64)); err == nil {
		t.Error("zeros parsed as a WAL")
	}
}
