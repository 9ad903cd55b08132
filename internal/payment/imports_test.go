package payment_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports_AdapterOnly keeps package payment (and paymenttest) an adapter
// that the order flow calls: it stores nothing and serves nothing, so it must
// not reach into storage, the API, jobs or commands. (internal/architecture's
// table could hold this rule; it sits here so the payment branch merges
// without touching that shared file.)
func TestImports_AdapterOnly(t *testing.T) {
	t.Parallel()
	const module = "github.com/omo-platform/omo/"
	banned := []string{module + "internal/sqldb", module + "internal/api", module + "internal/job",
		module + "internal/web", module + "internal/ingest", module + "cmd/", "database/sql"}
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("paymenttest/*.go")
	checked := 0
	for _, path := range append(files, more...) {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if p == b || strings.HasPrefix(p, b+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(p, b)) {
					t.Errorf("%s imports %s, which an adapter package must not", path, p)
				}
			}
		}
	}
	if checked < 6 {
		t.Fatalf("checked only %d files", checked)
	}
}
