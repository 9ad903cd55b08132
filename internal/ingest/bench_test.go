package ingest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// BenchmarkImportOnlineRetail imports the whole Online Retail file (541,909
// rows) end to end: file stored as an import, read, mapped, loaded, counted.
// It reports the seconds per import and, when the sqlite3 shell is
// installed, the seconds `sqlite3 .import` takes to load the same CSV into
// one plain table on the same machine, measured in the same run, and the
// ratio of the two. Run: go test ./internal/ingest -run X -bench ImportOnlineRetail -benchtime 1x
func BenchmarkImportOnlineRetail(b *testing.B) {
	raw, err := os.ReadFile(sharedData("online_retail.csv.gz"))
	if err != nil {
		b.Skip("../shared/data/online_retail.csv.gz is absent")
	}
	mapping, err := os.ReadFile("../../docs/examples/online-retail.mapping.json")
	if err != nil {
		b.Fatal(err)
	}
	ref := sqliteImportSeconds(b, raw)
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := sqldbtest.Open(b, e)
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				im := importFile(b, db, string(mapping), raw)
				total += time.Since(start)
				if im.Accepted != 540567 {
					b.Fatalf("accepted %d", im.Accepted)
				}
			}
			secs := total.Seconds() / float64(b.N)
			b.ReportMetric(secs, "s/import")
			b.ReportMetric(541909/secs, "rows/s")
			if ref > 0 {
				b.ReportMetric(ref, "s/sqlite3-.import")
				b.ReportMetric(secs/ref, "x-sqlite3-.import")
			}
		})
	}
}

// sqliteImportSeconds times the sqlite3 shell's .import of the decompressed
// CSV into a new table of a new database (0 when sqlite3 is not installed).
func sqliteImportSeconds(b *testing.B, gz []byte) float64 {
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Log("sqlite3 is not installed: no reference run (apt-get install sqlite3)")
		return 0
	}
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "online_retail.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, zr); err != nil {
		b.Fatal(err)
	}
	f.Close()
	start := time.Now()
	cmd := exec.Command(shell, filepath.Join(dir, "ref.db"), "PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;",
		".mode csv", ".import "+csvPath+" retail")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("sqlite3 .import: %v %s", err, out)
	}
	return time.Since(start).Seconds()
}
