package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/omo-platform/omo/internal/catalog"
)

// FuzzReader feeds any bytes to the reader of every format: it must never
// panic, must end, and every row it yields must carry a line number and one
// value per header column.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n\"x,y\",3\n"), ",", "csv")
	f.Add([]byte("\xEF\xBB\xBFe;m\nann@x.hk;1\n\"q\"\"\";\n"), ";", "csv")
	f.Add([]byte("{\"a\":1}\n\nnot json\n{\"a\":[1,2]}\n"), "", "jsonl")
	f.Add([]byte{0x1f, 0x8b, 0, 0}, ",", "csv")
	f.Fuzz(func(t *testing.T, data []byte, delim, format string) {
		m := Mapping{Kind: KindCustomers, Format: format, Delimiter: delim, Fields: map[string]Source{"email": {Column: "e"}}}
		if m.Validate() != nil {
			return
		}
		r, err := Decompress(bytes.NewReader(data))
		if err != nil {
			return
		}
		rows, err := NewReader(r, m)
		if err != nil {
			return
		}
		for i := 0; i < 100000; i++ {
			row, err := rows.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				return
			}
			if row.Line < 1 {
				t.Fatalf("row without a line number: %+v", row)
			}
			if cr, ok := rows.(*csvReader); ok && len(row.Values) != len(cr.header) {
				t.Fatalf("row has %d values for %d columns", len(row.Values), len(cr.header))
			}
		}
		t.Fatal("the reader did not end")
	})
}

// FuzzMapping validates any JSON as a mapping and maps a row with it: no
// panic, and a mapping Validate accepts maps rows to results or errors.
func FuzzMapping(f *testing.F) {
	f.Add([]byte(`{"kind":"transactions","fields":{"receipt_number":{"column":"r"},"sales_channel":{"value":"pos"},"occurred_at":{"column":"t"},"currency":{"value":"HKD"},"sku":{"column":"s"},"quantity":{"column":"q"},"unit_price":{"column":"p"}}}`),
		"R1", "2026-01-02 03:04:05", "SKU", "-2", "12.50")
	f.Add([]byte(`{"kind":"customers","fields":{"email":{"column":"r"},"traits.birthday":{"column":"t"},"attributes.x":{"column":"s","as":"integer"}}}`),
		"a@b.hk", "1990-02-30", "17850.0", "1", "1")
	f.Add([]byte(`{"kind":"products","fields":{"product":{"column":"r"},"sku":{"column":"s"},"barcode":{"column":"q"},"name.en":{"column":"t"},"images":{"column":"p"},"option.size":{"column":"q"}}}`),
		"LS-01", "Linen", "LS-01-M", "4006381333931", `["https://x.hk/a.jpg"]`)
	f.Add([]byte(`{"kind":"prices","fields":{"price_list":{"column":"r"},"sku":{"column":"s"},"amount":{"column":"q"},"compare_at":{"column":"p"}}}`),
		"base-hkd", "", "LS-01-M", "399.00", "4,99")
	f.Fuzz(func(t *testing.T, raw []byte, r, ts, s, q, p string) {
		var m Mapping
		if json.Unmarshal(raw, &m) != nil || m.Validate() != nil {
			return
		}
		mapper, err := newRowMapper(m)
		if err != nil {
			return
		}
		row := Row{Line: 2, Values: map[string]string{"r": r, "t": ts, "s": s, "q": q, "p": p}, Raw: []string{r, ts, s, q, p}}
		switch m.Kind {
		case KindCustomers:
			_, _ = mapper.customerRow(row)
		case KindTransactions:
			if sr, err := mapper.transactionRow(row); err == nil && (sr.line.Quantity < 1 || sr.line.UnitPrice < 0) {
				t.Fatalf("an accepted line with quantity %d, price %d", sr.line.Quantity, sr.line.UnitPrice)
			}
		case KindProducts:
			checkProductRow(t, mapper, row)
		case KindPrices:
			checkPriceRow(t, mapper, row)
		}
	})
}

// checkProductRow: a row the mapper accepts names a valid handle and SKU,
// has one variant, and passes the row's own validation again.
func checkProductRow(t *testing.T, mapper *rowMapper, row Row) {
	p, err := mapper.productRow(row)
	if err != nil {
		return
	}
	if !catalog.ValidCode(p.Handle) || len(p.Variants) != 1 || !catalog.ValidSKU(p.Variants[0].SKU) {
		t.Fatalf("accepted row: %+v", p)
	}
	if err := p.ValidatePart("row"); err != nil {
		t.Fatalf("accepted row fails its validation: %v", err)
	}
}

// checkPriceRow: an accepted price in a two-decimal currency is a valid
// price.
func checkPriceRow(t *testing.T, mapper *rowMapper, row Row) {
	pr, err := mapper.priceRow(row)
	if err != nil {
		return
	}
	price, err := mapper.price(pr, 2)
	if err != nil {
		return
	}
	if price.Validate("price") != nil || price.Amount < 0 || (price.CompareAt != 0 && price.CompareAt <= price.Amount) {
		t.Fatalf("accepted price: %+v", price)
	}
}
