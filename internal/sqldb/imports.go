package sqldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
)

// Import is a batch import and its progress.
type Import struct {
	TenantID            string
	ID                  string
	Kind                string
	Status              string // queued, running, completed, failed
	Mapping             string // JSON
	MappingName         string
	Origin              string // api or sftp
	FileName            string
	FileSize            int64
	FileSHA256          string
	FileChunks          int
	Checkpoint          int64 // rows consumed and committed
	RowsRead            int64
	Accepted            int64
	Rejected            int64
	Duplicates          int64
	CustomersCreated    int64
	CustomersMatched    int64
	TransactionsCreated int64
	Error               string
	Actor               string
	CreatedAt           time.Time
	StartedAt           *time.Time
	FinishedAt          *time.Time
}

// ImportJob runs an import; it is enqueued with the import.
type ImportJob struct {
	TenantID string `json:"tenant_id"`
	ImportID string `json:"import_id"`
}

// Kind names the job.
func (ImportJob) Kind() string { return "import.run" }

// CreateImportParams describe an uploaded file to import.
type CreateImportParams struct {
	TenantID    string
	Kind        string
	Mapping     string // JSON, already validated
	MappingName string
	Origin      string
	FileName    string
	File        io.Reader
	Actor       string
}

// fileChunkSize is how much of a file one row holds.
const fileChunkSize = 1 << 20

// MaxImportFile bounds an uploaded file (compressed size as sent).
const MaxImportFile = 512 << 20

// CreateImport stores the file and the import, and enqueues the job that
// runs it: once this returns, the import will run even if the process dies
// at once. The file goes in 1 MiB rows over several transactions (so a
// large file never sits in memory); the import becomes visible and queued
// only in the last one, and a crash before it leaves only rows that
// DeleteAbandonedImportFiles removes.
func (db *DB) CreateImport(ctx context.Context, p CreateImportParams) (Import, error) {
	im := Import{TenantID: p.TenantID, ID: id.New(), Kind: p.Kind, Status: "queued", Mapping: p.Mapping, MappingName: p.MappingName,
		Origin: p.Origin, FileName: p.FileName, Actor: p.Actor, CreatedAt: db.Now()}
	if im.Origin == "" {
		im.Origin = "api"
	}
	h := sha256.New()
	buf := make([]byte, fileChunkSize)
	for {
		n, err := io.ReadFull(p.File, buf)
		if n > 0 {
			h.Write(buf[:n])
			im.FileSize += int64(n)
			if im.FileSize > MaxImportFile {
				db.deleteFileChunks(ctx, im)
				return Import{}, apperr.Field("file", fmt.Sprintf("larger than %d MiB; split it or gzip it", MaxImportFile>>20), im.FileSize)
			}
			if err := db.storeFileChunk(ctx, im, im.FileChunks, buf[:n]); err != nil {
				db.deleteFileChunks(ctx, im)
				return Import{}, err
			}
			im.FileChunks++
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			db.deleteFileChunks(ctx, im)
			return Import{}, fmt.Errorf("sqldb: read the upload: %w", err)
		}
	}
	if im.FileSize == 0 {
		return Import{}, apperr.Field("file", "the file is empty", nil)
	}
	im.FileSHA256 = hex.EncodeToString(h.Sum(nil))
	err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO imports (tenant_id, id, kind, status, mapping, mapping_name, origin, file_name, file_size,
			file_sha256, file_chunks, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			im.TenantID, im.ID, im.Kind, im.Status, im.Mapping, im.MappingName, im.Origin, im.FileName, im.FileSize, im.FileSHA256,
			im.FileChunks, im.Actor, im.CreatedAt); err != nil {
			return err
		}
		return tx.Enqueue(ctx, ImportJob{TenantID: im.TenantID, ImportID: im.ID}, nil)
	})
	if err != nil {
		db.deleteFileChunks(ctx, im)
	}
	return im, err
}

func (db *DB) storeFileChunk(ctx context.Context, im Import, seq int, data []byte) error {
	return db.writeTxAlone(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO import_file_chunks (tenant_id, import_id, seq, data) VALUES ($1, $2, $3, $4)`,
			im.TenantID, im.ID, seq, data)
		return err
	})
}

// deleteFileChunks removes the stored part of an upload that failed.
func (db *DB) deleteFileChunks(ctx context.Context, im Import) {
	_ = db.WriteTx(context.WithoutCancel(ctx), func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM import_file_chunks WHERE tenant_id = $1 AND import_id = $2`, im.TenantID, im.ID)
		return err
	})
}

// DeleteAbandonedImportFiles removes file rows of uploads that never became
// an import (the process died mid-upload) and are older than an hour.
func (db *DB) DeleteAbandonedImportFiles(ctx context.Context) (int64, error) {
	var n int64
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM import_file_chunks WHERE NOT EXISTS (SELECT 1 FROM imports i
			WHERE i.tenant_id = import_file_chunks.tenant_id AND i.id = import_file_chunks.import_id)
			AND import_id < $1`, id.Before(tx.Now().Add(-time.Hour)))
		return err
	})
	return n, err
}

const importColumns = `tenant_id, id, kind, status, mapping, mapping_name, origin, file_name, file_size, file_sha256, file_chunks,
	checkpoint, rows_read, accepted, rejected, duplicates, customers_created, customers_matched, transactions_created, error, actor,
	created_at, started_at, finished_at`

func scanImport(r Row) (Import, error) {
	var im Import
	err := r.Scan(&im.TenantID, &im.ID, &im.Kind, &im.Status, &im.Mapping, &im.MappingName, &im.Origin, &im.FileName, &im.FileSize,
		&im.FileSHA256, &im.FileChunks, &im.Checkpoint, &im.RowsRead, &im.Accepted, &im.Rejected, &im.Duplicates, &im.CustomersCreated,
		&im.CustomersMatched, &im.TransactionsCreated, &im.Error, &im.Actor, &im.CreatedAt, &im.StartedAt, &im.FinishedAt)
	return im, err
}

// FindImportByID returns an import of the tenant, or NotFound.
func (db *DB) FindImportByID(ctx context.Context, tenantID, importID string) (Import, error) {
	return findImport(ctx, db.Read(), tenantID, importID, "")
}

func findImport(ctx context.Context, q Querier, tenantID, importID, lock string) (Import, error) {
	im, err := scanImport(q.QueryRow(ctx, `SELECT `+importColumns+` FROM imports WHERE tenant_id = $1 AND id = $2`+lock, tenantID, importID))
	if errors.Is(err, ErrNoRows) {
		return im, apperr.New(apperr.NotFound, "no import with id %s", id.Format(id.Import, importID))
	}
	return im, err
}

// ImportFilter pages through a tenant's imports, newest first.
type ImportFilter struct {
	TenantID string
	Limit    int
	Before   string // the last import id of the previous page
}

// FindImports lists imports, newest first.
func (db *DB) FindImports(ctx context.Context, f ImportFilter) ([]Import, error) {
	before := f.Before
	if before == "" {
		before = "~"
	}
	var out []Import
	err := queryEach(ctx, db.Read(), `SELECT `+importColumns+` FROM imports WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
		[]any{f.TenantID, before, f.Limit}, func(r Rows) error {
			im, err := scanImport(r)
			out = append(out, im)
			return err
		})
	return out, err
}

// ImportFile streams an import's file back, one stored chunk at a time.
func (db *DB) ImportFile(ctx context.Context, im Import) io.Reader {
	return &chunkReader{ctx: ctx, db: db, im: im}
}

type chunkReader struct {
	ctx  context.Context
	db   *DB
	im   Import
	seq  int
	cur  *bytes.Reader
	done bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.cur == nil || c.cur.Len() == 0 {
		if c.seq >= c.im.FileChunks {
			return 0, io.EOF
		}
		var data []byte
		if err := c.db.Read().QueryRow(c.ctx, `SELECT data FROM import_file_chunks WHERE tenant_id = $1 AND import_id = $2 AND seq = $3`,
			c.im.TenantID, c.im.ID, c.seq).Scan(&data); err != nil {
			return 0, fmt.Errorf("sqldb: import file chunk %d: %w", c.seq, err)
		}
		c.seq++
		c.cur = bytes.NewReader(data)
	}
	return c.cur.Read(p)
}

// StartImport marks an import running (again, after a crash) and returns it.
func (db *DB) StartImport(ctx context.Context, tenantID, importID string) (Import, error) {
	var im Import
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if im, err = findImport(ctx, tx, tenantID, importID, lockFor(tx)); err != nil {
			return err
		}
		if im.Status == "completed" || im.Status == "failed" {
			return nil
		}
		now := tx.Now()
		if im.StartedAt == nil {
			im.StartedAt = &now
		}
		im.Status = "running"
		_, err = tx.Exec(ctx, `UPDATE imports SET status = 'running', started_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, importID, im.StartedAt)
		return err
	})
	return im, err
}

// FinishImport records the end of an import: completed, or failed with why.
func (db *DB) FinishImport(ctx context.Context, tenantID, importID, failure string) error {
	status := "completed"
	if failure != "" {
		status = "failed"
	}
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE imports SET status = $3, error = $4, finished_at = $5 WHERE tenant_id = $1 AND id = $2`,
			tenantID, importID, status, failure, tx.Now())
		return err
	})
}

// Rejection is a row an import did not take, and why.
type Rejection struct {
	Line   int64
	Reason string
	Raw    string
}

// EachImportRejection calls f for every rejected row of an import, by line.
func (db *DB) EachImportRejection(ctx context.Context, tenantID, importID string, f func(Rejection) error) error {
	return queryEach(ctx, db.Read(), `SELECT line, reason, raw FROM import_rejections WHERE tenant_id = $1 AND import_id = $2 ORDER BY line`,
		[]any{tenantID, importID}, func(r Rows) error {
			var rj Rejection
			if err := r.Scan(&rj.Line, &rj.Reason, &rj.Raw); err != nil {
				return err
			}
			return f(rj)
		})
}

// SaveImportMapping stores a mapping under a name, replacing one of the same name.
func (db *DB) SaveImportMapping(ctx context.Context, tenantID, name, mapping string) error {
	now := db.Now()
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO import_mappings (tenant_id, name, mapping, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (tenant_id, name) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at`,
			tenantID, name, mapping, now)
		return err
	})
}

// FindImportMapping returns a saved mapping, or NotFound.
func (db *DB) FindImportMapping(ctx context.Context, tenantID, name string) (SavedMapping, error) {
	m := SavedMapping{Name: name}
	err := db.Read().QueryRow(ctx, `SELECT mapping, updated_at FROM import_mappings WHERE tenant_id = $1 AND name = $2`,
		tenantID, name).Scan(&m.Mapping, &m.UpdatedAt)
	if errors.Is(err, ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "no saved mapping named %q", name)
	}
	return m, err
}

// SavedMapping is a mapping saved under a name.
type SavedMapping struct {
	Name      string
	Mapping   string
	UpdatedAt time.Time
}

// FindImportMappings lists a tenant's saved mappings by name.
func (db *DB) FindImportMappings(ctx context.Context, tenantID string) ([]SavedMapping, error) {
	var out []SavedMapping
	err := queryEach(ctx, db.Read(), `SELECT name, mapping, updated_at FROM import_mappings WHERE tenant_id = $1 ORDER BY name`,
		[]any{tenantID}, func(r Rows) error {
			var m SavedMapping
			err := r.Scan(&m.Name, &m.Mapping, &m.UpdatedAt)
			out = append(out, m)
			return err
		})
	return out, err
}

// ResumeImports enqueues a run of every import that is queued or running:
// after a crash, an import's job may sit as "running" until River rescues it
// much later. A second run of a live import is harmless: the chunk
// checkpoint lets only one apply each chunk. It returns how many it queued.
func (db *DB) ResumeImports(ctx context.Context) (int, error) {
	var pending []ImportJob
	err := queryEach(ctx, db.Read(), `SELECT tenant_id, id FROM imports WHERE status IN ('queued', 'running')`, nil, func(r Rows) error {
		var j ImportJob
		err := r.Scan(&j.TenantID, &j.ImportID)
		pending = append(pending, j)
		return err
	})
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	return len(pending), db.WriteTx(ctx, func(tx *Tx) error {
		for _, j := range pending {
			if err := tx.Enqueue(ctx, j, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
