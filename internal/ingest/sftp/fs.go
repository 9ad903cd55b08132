package sftp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	sftplib "github.com/pkg/sftp"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/ingest"
	"github.com/omo-platform/omo/internal/sqldb"
)

// kinds are the inbox folders.
var kinds = []string{ingest.KindCustomers, ingest.KindTransactions, ingest.KindEvents, ingest.KindProducts, ingest.KindPrices}

// mappingFile is the name of a folder's mapping.
const mappingFile = ".mapping.json"

// FolderMapping is the saved mapping an inbox folder imports with.
func FolderMapping(kind string) string { return "sftp-" + kind }

// tenantFS is one tenant's view: inbox folders, archive and outbox.
type tenantFS struct {
	db       *sqldb.DB
	tenantID string
	actor    string
}

func (f *tenantFS) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

// Filewrite takes a file dropped into an inbox folder.
func (f *tenantFS) Filewrite(r *sftplib.Request) (io.WriterAt, error) {
	dir, name := path.Split(path.Clean(r.Filepath))
	kind := strings.TrimSuffix(strings.TrimPrefix(dir, "/inbox/"), "/")
	if !strings.HasPrefix(dir, "/inbox/") || !slices.Contains(kinds, kind) || name == "" {
		return nil, sftplib.ErrSSHFxPermissionDenied
	}
	if name == mappingFile {
		return &mappingWriter{fs: f, kind: kind}, nil
	}
	tmp, err := os.CreateTemp("", "omo-sftp-*")
	if err != nil {
		return nil, err
	}
	return &uploadWriter{fs: f, kind: kind, name: name, file: tmp}, nil
}

// uploadWriter spools an upload to a temporary file; closing it stores the
// file as an import.
type uploadWriter struct {
	fs         *tenantFS
	kind, name string
	file       *os.File
}

func (u *uploadWriter) WriteAt(p []byte, off int64) (int, error) { return u.file.WriteAt(p, off) }

func (u *uploadWriter) Close() error {
	defer os.Remove(u.file.Name())
	defer u.file.Close()
	if _, err := u.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	ctx, cancel := u.fs.ctx()
	defer cancel()
	saved, err := u.fs.db.FindImportMapping(ctx, u.fs.tenantID, FolderMapping(u.kind))
	if apperr.Is(err, apperr.NotFound) {
		return fmt.Errorf("/inbox/%s has no mapping: upload %s there first, or save the mapping %s with PUT /v1/import_mappings",
			u.kind, mappingFile, FolderMapping(u.kind))
	}
	if err != nil {
		return err
	}
	_, err = u.fs.db.CreateImport(ctx, sqldb.CreateImportParams{TenantID: u.fs.tenantID, Kind: u.kind, Mapping: saved.Mapping,
		MappingName: saved.Name, Origin: "sftp", FileName: u.name, File: u.file, Actor: u.fs.actor})
	return err
}

// mappingWriter takes a folder's .mapping.json; closing it validates and saves it.
type mappingWriter struct {
	fs   *tenantFS
	kind string
	buf  []byte
}

func (m *mappingWriter) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > 1<<20 {
		return 0, errors.New("a mapping is at most 1 MiB")
	}
	if need := int(off) + len(p); need > len(m.buf) {
		m.buf = append(m.buf, make([]byte, need-len(m.buf))...)
	}
	return copy(m.buf[off:], p), nil
}

func (m *mappingWriter) Close() error {
	var mp ingest.Mapping
	if err := json.Unmarshal(m.buf, &mp); err != nil {
		return fmt.Errorf("%s is not JSON: %v", mappingFile, err)
	}
	if mp.Kind == "" {
		mp.Kind = m.kind
	}
	if mp.Kind != m.kind {
		return fmt.Errorf("%s says kind %q but the folder is /inbox/%s", mappingFile, mp.Kind, m.kind)
	}
	if err := mp.Validate(); err != nil {
		return errors.New(apperr.Summary(err))
	}
	raw, _ := json.Marshal(mp)
	ctx, cancel := m.fs.ctx()
	defer cancel()
	return m.fs.db.SaveImportMapping(ctx, m.fs.tenantID, FolderMapping(m.kind), string(raw))
}

// Fileread serves the archive (files as dropped) and the outbox (results).
func (f *tenantFS) Fileread(r *sftplib.Request) (io.ReaderAt, error) {
	dir, name := path.Split(path.Clean(r.Filepath))
	ctx, cancel := f.ctx()
	defer cancel()
	if strings.HasPrefix(dir, "/inbox/") && name == mappingFile {
		kind := strings.Trim(strings.TrimPrefix(dir, "/inbox/"), "/")
		saved, err := f.db.FindImportMapping(ctx, f.tenantID, FolderMapping(kind))
		if err != nil {
			return nil, os.ErrNotExist
		}
		return strings.NewReader(saved.Mapping), nil
	}
	switch dir {
	case "/archive/":
		im, err := f.importNamed(ctx, name, "")
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(f.db.ImportFile(ctx, im))
		return bytes.NewReader(raw), err
	case "/outbox/":
		for _, suffix := range []string{".result.json", ".rejections.csv"} {
			if strings.HasSuffix(name, suffix) {
				im, err := f.importNamed(ctx, strings.TrimSuffix(name, suffix), suffix)
				if err != nil {
					return nil, err
				}
				return f.outboxFile(ctx, im, suffix)
			}
		}
	}
	return nil, os.ErrNotExist
}

// importNamed finds the import an archive or outbox name stands for:
// "<imp_id>_<file name>".
func (f *tenantFS) importNamed(ctx context.Context, name, suffix string) (sqldb.Import, error) {
	rest, ok := strings.CutPrefix(name, id.Import+"_")
	hex, file, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 {
		return sqldb.Import{}, os.ErrNotExist
	}
	iid, err := id.Parse(id.Import, id.Import+"_"+hex)
	if err != nil {
		return sqldb.Import{}, os.ErrNotExist
	}
	im, err := f.db.FindImportByID(ctx, f.tenantID, iid)
	if err != nil || im.Origin != "sftp" || im.FileName != file {
		return sqldb.Import{}, os.ErrNotExist
	}
	if suffix == ".rejections.csv" && im.Status != "completed" {
		return sqldb.Import{}, os.ErrNotExist
	}
	return im, nil
}

func entryName(im sqldb.Import) string { return id.Format(id.Import, im.ID) + "_" + im.FileName }

func (f *tenantFS) outboxFile(ctx context.Context, im sqldb.Import, suffix string) (io.ReaderAt, error) {
	if suffix == ".result.json" {
		return bytes.NewReader(resultJSON(im)), nil
	}
	var buf bytes.Buffer
	err := ingest.WriteRejections(ctx, f.db, im, &buf)
	return bytes.NewReader(buf.Bytes()), err
}

// result is an import's summary in the outbox.
type result struct {
	ImportID   string           `json:"import_id"`
	File       string           `json:"file"`
	SHA256     string           `json:"sha256"`
	Status     string           `json:"status"`
	Error      string           `json:"error,omitempty"`
	Counts     map[string]int64 `json:"counts"`
	CreatedAt  time.Time        `json:"created_at"`
	FinishedAt *time.Time       `json:"finished_at,omitempty"`
}

// resultJSON is an import's result file.
func resultJSON(im sqldb.Import) []byte {
	raw, _ := json.MarshalIndent(resultOf(im), "", "  ")
	return append(raw, '\n')
}

// resultSize is the size a listing shows for the result file. (A
// rejections file shows 0: its size is known only by reading every row.)
func resultSize(im sqldb.Import) int64 { return int64(len(resultJSON(im))) }

func resultOf(im sqldb.Import) result {
	return result{ImportID: id.Format(id.Import, im.ID), File: im.FileName, SHA256: im.FileSHA256, Status: im.Status, Error: im.Error,
		Counts: map[string]int64{"rows_read": im.RowsRead, "accepted": im.Accepted, "rejected": im.Rejected, "duplicates": im.Duplicates,
			"customers_created": im.CustomersCreated, "customers_matched": im.CustomersMatched, "transactions_created": im.TransactionsCreated},
		CreatedAt: im.CreatedAt, FinishedAt: im.FinishedAt}
}

// Filecmd allows what clients send around uploads (setting times) and
// creating the folders that exist; nothing can be removed or renamed.
func (f *tenantFS) Filecmd(r *sftplib.Request) error {
	switch r.Method {
	case "Setstat":
		return nil
	case "Mkdir":
		if _, ok := f.dir(path.Clean(r.Filepath)); ok {
			return nil
		}
	}
	return sftplib.ErrSSHFxPermissionDenied
}

// dir lists the entries of a folder, if it is one.
func (f *tenantFS) dir(p string) ([]string, bool) {
	switch p {
	case "/":
		return []string{"inbox", "archive", "outbox"}, true
	case "/inbox":
		return kinds, true
	case "/archive", "/outbox":
		return nil, true
	}
	kind := strings.TrimPrefix(p, "/inbox/")
	return nil, strings.HasPrefix(p, "/inbox/") && slices.Contains(kinds, kind)
}
