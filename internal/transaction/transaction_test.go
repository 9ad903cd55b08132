package transaction

import (
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		t.Fatalf("want an invalid error, got %v", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func TestCompute(t *testing.T) {
	t.Parallel()
	lines := []Line{
		{SKU: "TEE-M", Quantity: 2, UnitPrice: 12900, Discount: 2580, Tax: 0},
		{SKU: "CAP", Quantity: 1, UnitPrice: 9900, Tax: 990},
	}
	inc, err := Compute(lines, true, "body.lines")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Totals{Subtotal: 35700, Discount: 2580, Tax: 990, Total: 33120}); inc != want {
		t.Errorf("tax inclusive: %+v, want %+v", inc, want)
	}
	if lines[0].Total != 23220 || lines[1].Total != 9900 {
		t.Errorf("line totals %d, %d", lines[0].Total, lines[1].Total)
	}
	exc, err := Compute(lines, false, "body.lines")
	if err != nil {
		t.Fatal(err)
	}
	if exc.Total != 34110 || lines[1].Total != 10890 {
		t.Errorf("tax exclusive: total %d, line %d", exc.Total, lines[1].Total)
	}
}

func TestCompute_Rejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		line  Line
		field string
	}{
		{"no sku", Line{Quantity: 1, UnitPrice: 1}, "body.lines[0].sku"},
		{"zero quantity", Line{SKU: "A", Quantity: 0, UnitPrice: 1}, "body.lines[0].quantity"},
		{"negative quantity", Line{SKU: "A", Quantity: -1, UnitPrice: 1}, "body.lines[0].quantity"},
		{"negative price", Line{SKU: "A", Quantity: 1, UnitPrice: -5}, "body.lines[0].unit_price"},
		{"huge price", Line{SKU: "A", Quantity: 1, UnitPrice: 1 << 60}, "body.lines[0].unit_price"},
		{"discount above gross", Line{SKU: "A", Quantity: 2, UnitPrice: 100, Discount: 201}, "body.lines[0].discount"},
		{"negative tax", Line{SKU: "A", Quantity: 1, UnitPrice: 100, Tax: -1}, "body.lines[0].tax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compute([]Line{tc.line}, true, "body.lines")
			if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field {
				t.Errorf("fields %v, want [%s]", got, tc.field)
			}
		})
	}
	// Many lines at the largest price cannot overflow: the sum is bounded.
	big := make([]Line, MaxLines)
	for i := range big {
		big[i] = Line{SKU: "GOLD", Quantity: MaxQuantity, UnitPrice: 1_000_000_000}
	}
	if got := fieldsOf(t, func() error { _, err := Compute(big, true, "body.lines"); return err }()); len(got) != 1 || got[0] != "body.lines" {
		t.Errorf("overflowing sum: fields %v", got)
	}
}

func TestCheckClaimedAndTenders(t *testing.T) {
	t.Parallel()
	tot := Totals{Subtotal: 1000, Discount: 100, Tax: 0, Total: 900}
	n := func(v int64) *int64 { return &v }
	if err := CheckClaimed(ClaimedTotals{Total: n(900), Subtotal: n(1000)}, tot, "body.totals"); err != nil {
		t.Errorf("matching claim: %v", err)
	}
	if got := fieldsOf(t, CheckClaimed(ClaimedTotals{Total: n(1000)}, tot, "body.totals")); got[0] != "body.totals.total" {
		t.Errorf("fields %v", got)
	}
	if err := CheckTenders([]Tender{{Type: "card", Amount: 600}, {Type: "points", Amount: 300}}, 900, "body.tenders"); err != nil {
		t.Errorf("balanced tenders: %v", err)
	}
	if err := CheckTenders(nil, 900, "body.tenders"); err != nil {
		t.Errorf("no tenders: %v", err)
	}
	if got := fieldsOf(t, CheckTenders([]Tender{{Type: "card", Amount: 800}}, 900, "body.tenders")); got[0] != "body.tenders" {
		t.Errorf("short tenders: %v", got)
	}
	if got := fieldsOf(t, CheckTenders([]Tender{{Type: "iou", Amount: 900}}, 900, "body.tenders")); got[0] != "body.tenders[0].type" {
		t.Errorf("unknown tender: %v", got)
	}
}

func TestMatchReturn(t *testing.T) {
	t.Parallel()
	original := []Line{
		{Number: 1, SKU: "TEE-M", Quantity: 3, Returned: 1},
		{Number: 2, SKU: "CAP", Quantity: 1},
		{Number: 3, SKU: "TEE-M", Quantity: 2},
	}
	for _, tc := range []struct {
		name  string
		ret   []Line
		take  map[int]int64
		field string
	}{
		{"partial by SKU", []Line{{SKU: "TEE-M", Quantity: 2}}, map[int]int64{1: 2}, ""},
		{"by SKU moves to the next line", []Line{{SKU: "TEE-M", Quantity: 2}, {SKU: "TEE-M", Quantity: 2}}, map[int]int64{1: 2, 3: 2}, ""},
		{"named line", []Line{{SKU: "CAP", Quantity: 1, OriginalLine: 2}}, map[int]int64{2: 1}, ""},
		{"over-return of a named line", []Line{{SKU: "TEE-M", Quantity: 3, OriginalLine: 1}}, nil, "body.lines[0].quantity"},
		{"over-return by SKU", []Line{{SKU: "TEE-M", Quantity: 3}}, nil, "body.lines[0].quantity"},
		{"two lines together over-return", []Line{{SKU: "CAP", Quantity: 1}, {SKU: "CAP", Quantity: 1}}, nil, "body.lines[1].quantity"},
		{"SKU not bought", []Line{{SKU: "SOCKS", Quantity: 1}}, nil, "body.lines[0].sku"},
		{"wrong SKU for the named line", []Line{{SKU: "CAP", Quantity: 1, OriginalLine: 1}}, nil, "body.lines[0].sku"},
		{"no such line", []Line{{SKU: "CAP", Quantity: 1, OriginalLine: 9}}, nil, "body.lines[0].original_line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ret := append([]Line(nil), tc.ret...)
			take, err := MatchReturn(original, ret, "body.lines")
			if tc.field != "" {
				if got := fieldsOf(t, err); len(got) != 1 || got[0] != tc.field {
					t.Errorf("fields %v, want [%s]", got, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(take) != len(tc.take) {
				t.Fatalf("take %v, want %v", take, tc.take)
			}
			for n, q := range tc.take {
				if take[n] != q {
					t.Errorf("take %v, want %v", take, tc.take)
				}
			}
			for _, r := range ret {
				if r.OriginalLine == 0 {
					t.Errorf("return line %+v was not assigned", r)
				}
			}
		})
	}
}

func TestRecordedJob_Merge(t *testing.T) {
	t.Parallel()
	a := RecordedJob{TenantID: "t1", TransactionIDs: []string{"x"}}
	m, ok := a.Merge(RecordedJob{TenantID: "t1", TransactionIDs: []string{"y", "z"}})
	if !ok || len(m.(RecordedJob).TransactionIDs) != 3 || m.(RecordedJob).TransactionIDs[2] != "z" {
		t.Errorf("same tenant: %v %v", m, ok)
	}
	if _, ok := a.Merge(RecordedJob{TenantID: "t2", TransactionIDs: []string{"y"}}); ok {
		t.Error("merged jobs of two tenants")
	}
	if _, ok := a.Merge("other kind"); ok {
		t.Error("merged another kind")
	}
	if len(a.TransactionIDs) != 1 {
		t.Error("Merge changed its receiver")
	}
}
