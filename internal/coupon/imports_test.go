package coupon

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports_PureDomain keeps the package pure domain: no storage, no
// transport (docs/architecture.md; internal/architecture checks the
// listed domains, this checks coupon itself).
func TestImports_PureDomain(t *testing.T) {
	t.Parallel()
	forbidden := []string{"github.com/omo-platform/omo/internal/sqldb", "github.com/omo-platform/omo/internal/api",
		"github.com/omo-platform/omo/internal/web", "github.com/omo-platform/omo/internal/job",
		"github.com/omo-platform/omo/internal/ingest", "github.com/omo-platform/omo/cmd/",
		"database/sql", "net/http", "github.com/jackc/", "modernc.org/", "github.com/riverqueue/", "github.com/danielgtaylor/"}
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s, which a domain package must not", name, p)
				}
			}
		}
	}
}
