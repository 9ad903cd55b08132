package inventory

import (
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func fieldsOf(err error) []string {
	e, ok := apperr.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func TestMovement_Validate(t *testing.T) {
	t.Parallel()
	ok := Movement{SKU: "TEE-M", LocationID: "loc", Kind: KindReceipt, Quantity: 12}
	tests := []struct {
		name string
		edit func(*Movement)
		bad  []string // field locations, none when valid
	}{
		{"receipt", func(*Movement) {}, nil},
		{"sku trimmed", func(m *Movement) { m.SKU = "  TEE-M " }, nil},
		{"no sku", func(m *Movement) { m.SKU = " " }, []string{"body.sku"}},
		{"long sku", func(m *Movement) { m.SKU = strings.Repeat("x", 65) }, []string{"body.sku"}},
		{"sku with NUL", func(m *Movement) { m.SKU = "TEE\x00M" }, []string{"body.sku"}},
		{"sku with a tab", func(m *Movement) { m.SKU = "TEE\tM" }, []string{"body.sku"}},
		{"sku not UTF-8", func(m *Movement) { m.SKU = "TEE\xff" }, []string{"body.sku"}},
		{"sku in Chinese", func(m *Movement) { m.SKU = "恤衫-M" }, nil},
		{"reference with NUL", func(m *Movement) { m.Reference = "GRN\x00" }, []string{"body.reference"}},
		{"no location", func(m *Movement) { m.LocationID = "" }, []string{"body.location_id"}},
		{"unknown kind", func(m *Movement) { m.Kind = "shrink" }, []string{"body.kind"}},
		{"receipt of 0", func(m *Movement) { m.Quantity = 0 }, []string{"body.quantity"}},
		{"negative sale", func(m *Movement) { m.Kind, m.Quantity = KindSale, -1 }, []string{"body.quantity"}},
		{"huge transfer", func(m *Movement) { m.Kind, m.Quantity = KindTransferOut, MaxQuantity+1 }, []string{"body.quantity"}},
		{"adjustment down", func(m *Movement) { m.Kind, m.Quantity, m.Reason = KindAdjustment, -3, "damaged" }, nil},
		{"adjustment without reason", func(m *Movement) { m.Kind, m.Quantity = KindAdjustment, -3 }, []string{"body.reason"}},
		{"adjustment of 0", func(m *Movement) { m.Kind, m.Quantity, m.Reason = KindAdjustment, 0, "found" }, []string{"body.quantity"}},
		{"unknown reason", func(m *Movement) { m.Reason = "gremlins" }, []string{"body.reason"}},
		{"count of 0", func(m *Movement) { m.Kind, m.Quantity = KindCount, 0 }, nil},
		{"negative count", func(m *Movement) { m.Kind, m.Quantity = KindCount, -1 }, []string{"body.quantity"}},
		{"long reference and key", func(m *Movement) { m.Reference, m.Key = strings.Repeat("r", 201), strings.Repeat("k", 201) },
			[]string{"body.reference", "body.key"}},
		{"long note", func(m *Movement) { m.Note = strings.Repeat("n", 501) }, []string{"body.note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ok
			tt.edit(&m)
			err := m.Validate("body")
			if got := fieldsOf(err); !slices.Equal(got, tt.bad) || (tt.bad == nil) != (err == nil) {
				t.Errorf("fields %v (err %v), want %v", got, err, tt.bad)
			}
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				t.Errorf("kind %s, want invalid", apperr.KindOf(err))
			}
		})
	}
}

func TestDelta(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind             string
		quantity, onHand int64
		want             int64
	}{
		{KindReceipt, 5, 2, 5},
		{KindReturn, 1, 0, 1},
		{KindTransferIn, 4, 9, 4},
		{KindSale, 2, 10, -2},
		{KindTransferOut, 3, 3, -3},
		{KindAdjustment, -4, 10, -4},
		{KindAdjustment, 6, 0, 6},
		{KindCount, 7, 10, -3},
		{KindCount, 12, 10, 2},
		{KindCount, 0, 0, 0},
	}
	for _, tt := range tests {
		if got := Delta(tt.kind, tt.quantity, tt.onHand); got != tt.want {
			t.Errorf("Delta(%s, %d, on hand %d) = %d, want %d", tt.kind, tt.quantity, tt.onHand, got, tt.want)
		}
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind                    string
		delta, onHand, reserved int64
		refused                 bool
	}{
		{KindSale, -3, 3, 0, false},
		{KindSale, -4, 3, 0, true},
		{KindSale, -3, 3, 3, false}, // a till sells what carts hold: it happened
		{KindAdjustment, -1, 0, 0, true},
		{KindCount, -5, 5, 2, false},
		{KindTransferOut, -2, 5, 3, false},
		{KindTransferOut, -3, 5, 3, true},
		{KindReceipt, 1, 0, 4, false},
	}
	for _, tt := range tests {
		if msg := Guard(tt.kind, tt.delta, tt.onHand, tt.reserved); (msg != "") != tt.refused {
			t.Errorf("Guard(%s, %d, %d, %d) = %q, refused want %v", tt.kind, tt.delta, tt.onHand, tt.reserved, msg, tt.refused)
		}
	}
}

func TestAvailable(t *testing.T) {
	t.Parallel()
	tests := []struct{ onHand, reserved, safety, want int64 }{
		{10, 0, 0, 10},
		{10, 3, 0, 7},
		{10, 3, 2, 5},
		{10, 8, 5, 0},  // never below zero
		{2, 5, 0, 0},   // a till sold reserved units
		{0, 0, 3, 0},   // nothing to keep back
		{12, 0, 12, 0}, // all floor stock
	}
	for _, tt := range tests {
		if got := Available(tt.onHand, tt.reserved, tt.safety); got != tt.want {
			t.Errorf("Available(%d, %d, %d) = %d, want %d", tt.onHand, tt.reserved, tt.safety, got, tt.want)
		}
	}
}

func TestSafetyStock_MostSpecificRuleWins(t *testing.T) {
	t.Parallel()
	rules := []SafetyRule{
		{Quantity: 1},                        // every SKU everywhere
		{LocationType: "store", Quantity: 2}, // every SKU in stores
		{LocationID: "cwb", Quantity: 3},     // every SKU at Causeway Bay
		{SKU: "TEE", Quantity: 4},            // the tee everywhere
		{SKU: "TEE", LocationType: "store", Quantity: 5},
		{SKU: "TEE", LocationID: "cwb", Quantity: 0}, // the tee at Causeway Bay: nothing kept back
		{SKU: "CAP", LocationID: "tst", Quantity: 9},
	}
	tests := []struct {
		sku, loc, typ string
		want          int64
	}{
		{"SOCK", "wh1", "warehouse", 1},
		{"SOCK", "tst", "store", 2},
		{"SOCK", "cwb", "store", 3},
		{"TEE", "wh1", "warehouse", 4},
		{"TEE", "tst", "store", 5},
		{"TEE", "cwb", "store", 0},
		{"CAP", "tst", "store", 9},
		{"CAP", "cwb", "store", 3},
	}
	for _, tt := range tests {
		if got := SafetyStock(rules, tt.sku, tt.loc, tt.typ); got != tt.want {
			t.Errorf("SafetyStock(%s at %s, a %s) = %d, want %d", tt.sku, tt.loc, tt.typ, got, tt.want)
		}
	}
	if got := SafetyStock(nil, "TEE", "cwb", "store"); got != 0 {
		t.Errorf("no rules: %d, want 0", got)
	}
}

func TestSafetyRule_Validate(t *testing.T) {
	t.Parallel()
	types := []string{"store", "warehouse"}
	tests := []struct {
		r   SafetyRule
		bad []string
	}{
		{SafetyRule{SalesChannelID: "web", Quantity: 2}, nil},
		{SafetyRule{SalesChannelID: "web", LocationType: "store", Quantity: 2}, nil},
		{SafetyRule{Quantity: 2}, []string{"body.sales_channel"}},
		{SafetyRule{SalesChannelID: "web", LocationID: "x", LocationType: "store"}, []string{"body.location_type"}},
		{SafetyRule{SalesChannelID: "web", LocationType: "kiosk"}, []string{"body.location_type"}},
		{SafetyRule{SalesChannelID: "web", Quantity: -1}, []string{"body.quantity"}},
		{SafetyRule{SalesChannelID: "web", SKU: strings.Repeat("s", 65)}, []string{"body.sku"}},
	}
	for i, tt := range tests {
		if got := fieldsOf(tt.r.Validate("body", types)); !slices.Equal(got, tt.bad) {
			t.Errorf("%d: fields %v, want %v", i, got, tt.bad)
		}
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	rules := []ThresholdRule{
		{LowStock: 3},
		{LocationID: "cwb", LowStock: 4},
		{SKU: "TEE", LowStock: 10},
		{SKU: "TEE", LocationID: "tst", LowStock: 1},
	}
	tests := []struct {
		rules    []ThresholdRule
		sku, loc string
		want     int64
	}{
		{nil, "TEE", "cwb", DefaultLowStock},
		{rules, "SOCK", "wh1", 3},
		{rules, "SOCK", "cwb", 4},
		{rules, "TEE", "cwb", 10},
		{rules, "TEE", "tst", 1},
		{rules[1:], "SOCK", "wh1", DefaultLowStock},
	}
	for _, tt := range tests {
		if got := Threshold(tt.rules, tt.sku, tt.loc); got != tt.want {
			t.Errorf("Threshold(%v, %s, %s) = %d, want %d", tt.rules, tt.sku, tt.loc, got, tt.want)
		}
	}
}

func TestFacts(t *testing.T) {
	t.Parallel()
	low := []struct {
		before, after, threshold int64
		want                     bool
	}{
		{6, 5, 5, true},
		{6, 0, 5, true},
		{5, 4, 5, false}, // already low
		{6, 6, 5, false},
		{3, 9, 5, false}, // going up
		{1, 0, 0, true},
	}
	for _, tt := range low {
		if got := LowStock(tt.before, tt.after, tt.threshold); got != tt.want {
			t.Errorf("LowStock(%d → %d, threshold %d) = %v", tt.before, tt.after, tt.threshold, got)
		}
	}
	back := []struct {
		before, after int64
		want          bool
	}{{0, 1, true}, {0, 0, false}, {1, 2, false}, {2, 0, false}}
	for _, tt := range back {
		if got := BackInStock(tt.before, tt.after); got != tt.want {
			t.Errorf("BackInStock(%d → %d) = %v", tt.before, tt.after, got)
		}
	}
}

func TestValidateHold(t *testing.T) {
	t.Parallel()
	line := HoldLine{SKU: "TEE", LocationID: "cwb", Quantity: 1}
	tests := []struct {
		name  string
		ref   string
		lines []HoldLine
		bad   []string
	}{
		{"one line", "cart-1", []HoldLine{line}, nil},
		{"no ref", " ", []HoldLine{line}, []string{"body.ref"}},
		{"no lines", "cart-1", nil, []string{"body.lines"}},
		{"bad second line", "cart-1", []HoldLine{line, {SKU: " TEE", Quantity: 0}},
			[]string{"body.lines[1].sku", "body.lines[1].location_id", "body.lines[1].quantity"}},
		{"too many lines", "cart-1", slices.Repeat([]HoldLine{line}, MaxHoldLines+1), []string{"body.lines"}},
	}
	for _, tt := range tests {
		if got := fieldsOf(ValidateHold("body", tt.ref, tt.lines)); !slices.Equal(got, tt.bad) {
			t.Errorf("%s: fields %v, want %v", tt.name, got, tt.bad)
		}
	}
}

func TestMergeLines(t *testing.T) {
	t.Parallel()
	in := []HoldLine{{"TEE", "tst", 1}, {"CAP", "cwb", 2}, {"TEE", "tst", 3}, {"TEE", "cwb", 1}}
	merged, index := MergeLines(in)
	want := []HoldLine{{"CAP", "cwb", 2}, {"TEE", "cwb", 1}, {"TEE", "tst", 4}}
	if !slices.Equal(merged, want) {
		t.Errorf("merged %v, want %v", merged, want)
	}
	if !slices.Equal(index, []int{2, 0, 2, 1}) {
		t.Errorf("index %v", index)
	}
	if in[0].Quantity != 1 {
		t.Error("MergeLines changed its input")
	}
}

func TestFactsJob_Merge(t *testing.T) {
	t.Parallel()
	a := FactsJob{TenantID: "t1", FactIDs: []string{"x"}}
	m, ok := a.Merge(FactsJob{TenantID: "t1", FactIDs: []string{"y", "z"}})
	if !ok || !slices.Equal(m.(FactsJob).FactIDs, []string{"x", "y", "z"}) {
		t.Errorf("same tenant: %v %v", m, ok)
	}
	if _, ok := a.Merge(FactsJob{TenantID: "t2", FactIDs: []string{"y"}}); ok {
		t.Error("merged two tenants' jobs")
	}
	if _, ok := a.Merge("other"); ok {
		t.Error("merged another kind")
	}
	if len(a.FactIDs) != 1 {
		t.Error("Merge changed its receiver")
	}
}

// FuzzMovement checks, for any movement a client can send, that validation
// never panics and that a valid movement's effect obeys its kind: a count
// leaves exactly the units counted, inbound kinds add, outbound kinds take,
// and Guard refuses every result below zero.
func FuzzMovement(f *testing.F) {
	f.Add("TEE-M", "loc", "receipt", int64(5), "", int64(3), int64(0))
	f.Add("TEE-M", "loc", "count", int64(0), "cycle_count", int64(7), int64(2))
	f.Add("CAP", "loc", "adjustment", int64(-9), "damaged", int64(4), int64(0))
	f.Add(" ", "", "transfer_out", int64(-1), "x", int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, sku, loc, kind string, qty int64, reason string, onHand, reserved int64) {
		m := Movement{SKU: sku, LocationID: loc, Kind: kind, Quantity: qty, Reason: reason}
		if err := m.Validate("body"); err != nil {
			if !apperr.Is(err, apperr.Invalid) || len(fieldsOf(err)) == 0 {
				t.Fatalf("invalid movement without fields: %v", err)
			}
			return
		}
		if onHand < 0 || onHand > MaxQuantity || reserved < 0 || reserved > MaxQuantity {
			return
		}
		d := Delta(m.Kind, m.Quantity, onHand)
		switch m.Kind {
		case KindCount:
			if onHand+d != m.Quantity {
				t.Fatalf("count of %d from %d leaves %d", m.Quantity, onHand, onHand+d)
			}
		case KindReceipt, KindReturn, KindTransferIn:
			if d <= 0 {
				t.Fatalf("%s adds %d", m.Kind, d)
			}
		case KindSale, KindTransferOut:
			if d >= 0 {
				t.Fatalf("%s takes %d", m.Kind, d)
			}
		}
		if msg := Guard(m.Kind, d, onHand, reserved); msg == "" && onHand+d < 0 {
			t.Fatalf("Guard let %s take on hand to %d", m.Kind, onHand+d)
		}
	})
}
