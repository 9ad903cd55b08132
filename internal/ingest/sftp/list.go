package sftp

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	sftplib "github.com/pkg/sftp"

	"github.com/omo-platform/omo/internal/sqldb"
)

// Filelist answers List and Stat.
func (f *tenantFS) Filelist(r *sftplib.Request) (sftplib.ListerAt, error) {
	p := path.Clean(r.Filepath)
	ctx, cancel := f.ctx()
	defer cancel()
	switch r.Method {
	case "List":
		entries, err := f.list(ctx, p)
		return listing(entries), err
	case "Stat":
		if _, ok := f.dir(p); ok {
			return listing{dirInfo(path.Base(p))}, nil
		}
		dir := path.Dir(p)
		entries, err := f.list(ctx, dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Name() == path.Base(p) {
				return listing{e}, nil
			}
		}
		return nil, os.ErrNotExist
	}
	return nil, sftplib.ErrSSHFxOpUnsupported
}

// list shows a folder's entries.
func (f *tenantFS) list(ctx context.Context, p string) ([]os.FileInfo, error) {
	names, ok := f.dir(p)
	if !ok {
		return nil, os.ErrNotExist
	}
	var out []os.FileInfo
	for _, n := range names {
		out = append(out, dirInfo(n))
	}
	switch {
	case strings.HasPrefix(p, "/inbox/"):
		kind := strings.TrimPrefix(p, "/inbox/")
		if saved, err := f.db.FindImportMapping(ctx, f.tenantID, FolderMapping(kind)); err == nil {
			out = append(out, fileInfo{name: mappingFile, size: int64(len(saved.Mapping)), at: saved.UpdatedAt})
		}
	case p == "/archive" || p == "/outbox":
		ims, err := f.sftpImports(ctx)
		if err != nil {
			return nil, err
		}
		for _, im := range ims {
			at := im.CreatedAt
			if p == "/archive" {
				out = append(out, fileInfo{name: entryName(im), size: im.FileSize, at: at})
				continue
			}
			if im.FinishedAt != nil {
				at = *im.FinishedAt
			}
			out = append(out, fileInfo{name: entryName(im) + ".result.json", size: resultSize(im), at: at})
			if im.Status == "completed" {
				out = append(out, fileInfo{name: entryName(im) + ".rejections.csv", size: 0, at: at})
			}
		}
	}
	return out, nil
}

// sftpImports are the tenant's last 1,000 imports that came over sFTP.
func (f *tenantFS) sftpImports(ctx context.Context) ([]sqldb.Import, error) {
	ims, err := f.db.FindImports(ctx, sqldb.ImportFilter{TenantID: f.tenantID, Limit: 1000})
	var out []sqldb.Import
	for _, im := range ims {
		if im.Origin == "sftp" {
			out = append(out, im)
		}
	}
	return out, err
}

type listing []os.FileInfo

func (l listing) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if int(off)+n == len(l) {
		return n, io.EOF
	}
	return n, nil
}

type fileInfo struct {
	name string
	size int64
	at   time.Time
	dir  bool
}

func dirInfo(name string) fileInfo { return fileInfo{name: name, dir: true, at: time.Unix(0, 0)} }

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return i.at }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
