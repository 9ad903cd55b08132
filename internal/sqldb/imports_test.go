package sqldb_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestCreateImport_StoresLargeFilesInChunks stores a file of several chunks
// and reads it back byte for byte; a failed upload leaves nothing behind.
func TestCreateImport_StoresLargeFilesInChunks(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		file := bytes.Repeat([]byte("email\nann@omo-shop.hk\n"), 150_000) // 3.3 MB: four chunks
		im, err := db.CreateImport(ctx, sqldb.CreateImportParams{TenantID: tn.ID, Kind: "customers", Mapping: "{}", File: bytes.NewReader(file)})
		if err != nil {
			t.Fatal(err)
		}
		if im.FileChunks != 4 || im.FileSize != int64(len(file)) {
			t.Errorf("chunks %d size %d", im.FileChunks, im.FileSize)
		}
		back, err := io.ReadAll(db.ImportFile(ctx, im))
		if err != nil || !bytes.Equal(back, file) {
			t.Fatalf("read back %d bytes (%v), want %d", len(back), err, len(file))
		}
		_, err = db.CreateImport(ctx, sqldb.CreateImportParams{TenantID: tn.ID, Kind: "customers", Mapping: "{}",
			File: io.MultiReader(bytes.NewReader(file[:2<<20]), failingReader{})})
		if err == nil {
			t.Fatal("an upload that failed half-way was taken")
		}
		if n, err := db.DeleteAbandonedImportFiles(ctx); err != nil || n != 0 {
			t.Errorf("abandoned rows right after a failed upload: %d %v (the failed upload cleans up itself)", n, err)
		}
	})
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestBefore(t *testing.T) {
	t.Parallel()
	now := time.Now()
	if a, b := id.New(), id.Before(now.Add(time.Second)); a >= b {
		t.Errorf("id %s made now is not below Before(now+1s) %s", a, b)
	}
	if a, b := id.Before(now.Add(-time.Second)), id.New(); a >= b {
		t.Errorf("Before(now-1s) %s is not below an id made now %s", a, b)
	}
}
