package architecture

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/omo-platform/omo/"

// domains are the business packages: plain Go over values, no storage or transport.
var domains = []string{"apperr", "id", "tenant", "auth", "customer", "money", "location", "transaction", "event", "loyalty", "coupon", "catalog", "inventory", "routing", "order"}

// forbidden lists, per package, the import path prefixes it must not use.
func forbidden(pkg string) []string {
	adapters := []string{module + "internal/sqldb", module + "internal/api", module + "internal/web", module + "internal/job", module + "internal/ingest",
		module + "cmd/", "database/sql", "github.com/jackc/", "modernc.org/", "github.com/riverqueue/", "net/http",
		"github.com/danielgtaylor/"}
	for _, d := range domains {
		if pkg == "internal/"+d {
			return adapters
		}
	}
	switch {
	case strings.HasPrefix(pkg, "internal/sqldb"):
		return []string{module + "internal/api", module + "internal/job", module + "internal/web", module + "internal/ingest", module + "cmd/"}
	case strings.HasPrefix(pkg, "internal/ingest"):
		return []string{module + "internal/api", module + "internal/job", module + "internal/web", module + "cmd/"}
	case pkg == "internal/api":
		return []string{module + "internal/job", module + "cmd/"}
	case pkg == "internal/job":
		return []string{module + "internal/api", module + "cmd/"}
	case strings.HasPrefix(pkg, "internal/"):
		return []string{module + "cmd/"}
	}
	return nil
}

// TestImportRules fails when a package imports something its layer must not.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden(filepath.ToSlash(rel)) {
				if p == bad || strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s, which its layer must not (see docs/architecture.md)", rel, p)
				}
			}
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files; is the walk rooted right?", checked)
	}
}
