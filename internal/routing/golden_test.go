package routing

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want member of testdata/golden/*.json from what Route answers now")

// goldenCase is one file of testdata/golden: a rule set (absent: the
// default), an order, the locations and stock, and the plan Route must
// answer, trace included.
type goldenCase struct {
	Description string          `json:"description"`
	Rules       json.RawMessage `json:"rules,omitempty"`
	Order       Order           `json:"order"`
	Locations   []Location      `json:"locations"`
	Stock       Stock           `json:"stock"`
	Want        *Plan           `json:"want"`
}

// TestRoute_Golden routes every golden case and compares the whole plan.
// Review a rewritten file by reading its trace: each reason must be true.
func TestRoute_Golden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("%d golden cases, want at least 12", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var gc goldenCase
			if err := json.Unmarshal(raw, &gc); err != nil {
				t.Fatal(err)
			}
			if gc.Description == "" {
				t.Error("the case has no description")
			}
			rs := DefaultRuleSet()
			if len(gc.Rules) > 0 {
				if rs, err = ParseRuleSet(gc.Rules, "rules"); err != nil {
					t.Fatalf("rules: %v", err)
				}
			}
			if err := gc.Order.Validate("order"); err != nil {
				t.Fatalf("order: %v", err)
			}
			got := Route(rs, gc.Order, gc.Locations, gc.Stock)
			checkPlan(t, rs, gc.Order, gc.Locations, gc.Stock, got)
			if *update {
				gc.Want = &got
				writeGolden(t, f, gc)
				return
			}
			if gc.Want == nil {
				t.Fatal("no want member; run go test -run TestRoute_Golden -update and review the file")
			}
			if a, b := indent(t, got), indent(t, *gc.Want); !bytes.Equal(a, b) {
				t.Errorf("plan differs from %s\ngot:\n%s\nwant:\n%s", f, a, b)
			}
		})
	}
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func writeGolden(t *testing.T, path string, gc goldenCase) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(gc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
