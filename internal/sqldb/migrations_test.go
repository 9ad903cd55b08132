package sqldb_test

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
)

var (
	createTable = regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\)( WITHOUT ROWID)?;`)
	// A SQLite virtual table (FTS5) is an index the other engine keeps in
	// a table of the same name, with columns of its own.
	createVirtual = regexp.MustCompile(`CREATE VIRTUAL TABLE (\w+) USING`)
	columnName    = regexp.MustCompile(`(?m)^\s+(\w+)\s+[A-Z]`)
	// A table rebuilt under a new key (SQLite cannot change a primary key
	// in place) is created under another name, filled, and renamed.
	dropOrRename = regexp.MustCompile(`(?m)^(?:DROP TABLE (\w+);|ALTER TABLE (\w+) RENAME TO (\w+);)`)
)

// schemaOf lists table → column names of an engine's migrations.
func schemaOf(t *testing.T, e sqldb.Engine) (files []string, tables map[string][]string) {
	tables = map[string][]string{}
	fsys := sqldb.MigrationsFS(e)
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		raw, err := fs.ReadFile(fsys, n)
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(raw), "-- +goose Down")
		for _, m := range createVirtual.FindAllStringSubmatch(up, -1) {
			tables[m[1]] = []string{"(virtual)"}
		}
		for _, m := range createTable.FindAllStringSubmatch(up, -1) {
			for _, c := range columnName.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains([]string{"PRIMARY", "FOREIGN", "UNIQUE", "CHECK"}, strings.ToUpper(c[1])) {
					tables[m[1]] = append(tables[m[1]], c[1])
				}
			}
		}
		for _, m := range dropOrRename.FindAllStringSubmatch(up, -1) {
			switch {
			case m[1] != "":
				delete(tables, m[1])
			default:
				tables[m[3]] = tables[m[2]]
				delete(tables, m[2])
			}
		}
	}
	return names, tables
}

// TestMigrations_InStep checks that both engines have the same migration
// files and the same tables with the same columns in the same order.
func TestMigrations_InStep(t *testing.T) {
	t.Parallel()
	liteFiles, lite := schemaOf(t, sqldb.SQLite)
	pgFiles, pg := schemaOf(t, sqldb.Postgres)
	if !slices.Equal(liteFiles, pgFiles) {
		t.Fatalf("migration files differ:\nsqlite   %v\npostgres %v", liteFiles, pgFiles)
	}
	if len(lite) == 0 {
		t.Fatal("no tables parsed")
	}
	for table, cols := range lite {
		if slices.Equal(cols, []string{"(virtual)"}) {
			if _, ok := pg[table]; !ok {
				t.Errorf("SQLite's virtual table %s has no PostgreSQL table of the same name", table)
			}
			continue
		}
		if !slices.Equal(cols, pg[table]) {
			t.Errorf("table %s: sqlite columns %v, postgres %v", table, cols, pg[table])
		}
	}
	for table := range pg {
		if _, ok := lite[table]; !ok {
			t.Errorf("table %s exists only on postgres", table)
		}
	}
}
