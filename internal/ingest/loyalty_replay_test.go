package ingest_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/sqldb"
)

// installSampleProgram installs docs/examples/online-retail.program.json
// and .rules.json: the sample program the Online Retail replay earns under.
func installSampleProgram(t testing.TB, db *sqldb.DB, tenantID string) {
	t.Helper()
	ctx := context.Background()
	raw, err := os.ReadFile("../../docs/examples/online-retail.program.json")
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{TenantID: tenantID}
	if err := sqldb.DecodeProgram(raw, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveLoyaltyProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	var rules []json.RawMessage
	readJSON(t, "../../docs/examples/online-retail.rules.json", &rules)
	for _, raw := range rules {
		r := loyalty.Rule{TenantID: tenantID}
		if err := sqldb.DecodeRule(raw, &r); err != nil {
			t.Fatal(err)
		}
		if r.Status == "" {
			r.Status = loyalty.RuleActive
		}
		if _, err := db.CreateLoyaltyRule(ctx, r, sqldb.Actor{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkSamplePoints recomputes, from the imported receipts and without the
// engine, what the sample program says each customer earned, and compares
// it with every member's ledger: 1 point per £1 of each receipt's lines
// less postage and fees (rounded down per receipt), doubled in December
// 2010, plus 50 for a receipt of £500 or more once per customer and day.
// Cancellations name no receipt of the file, so they claw back nothing.
func checkSamplePoints(t testing.TB, db *sqldb.DB, tenantID string) {
	t.Helper()
	ctx := context.Background()
	excluded := []string{"POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "CRUK", "D", "PADS", "C2"}
	type receipt struct {
		customer string
		at       time.Time
		eligible int64
	}
	var order []string
	receipts := map[string]*receipt{}
	rows, err := db.Read().Query(ctx, `SELECT t.id, COALESCE(t.customer_id, ''), t.occurred_at, t.utc_offset, l.sku, l.quantity * l.unit_price - l.discount
		FROM transactions t JOIN transaction_lines l ON l.tenant_id = t.tenant_id AND l.transaction_id = t.id
		WHERE t.tenant_id = $1 AND t.kind = 'purchase' ORDER BY t.id, l.line_number`, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, cust, sku string
		var at time.Time
		var offset int
		var amount int64
		if err := rows.Scan(&id, &cust, &at, &offset, &sku, &amount); err != nil {
			t.Fatal(err)
		}
		r := receipts[id]
		if r == nil {
			r = &receipt{customer: cust, at: at.In(time.FixedZone("", offset*60))}
			receipts[id] = r
			order = append(order, id)
		}
		if !slices.Contains(excluded, sku) {
			r.eligible += amount
		}
	}
	rows.Close()
	want := map[string]int64{}
	bonusDay := map[string]bool{}
	decStart, decEnd := time.Date(2010, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range order {
		r := receipts[id]
		if r.customer == "" {
			continue // guests earn nothing
		}
		points := r.eligible / 100
		if !r.at.Before(decStart) && r.at.Before(decEnd) {
			points *= 2
		}
		if day := r.customer + r.at.Format("2006-01-02"); r.eligible >= 50000 && !bonusDay[day] {
			bonusDay[day] = true
			points += 50
		}
		want[r.customer] += points
	}
	got := map[string]int64{}
	err = func() error {
		rows, err := db.Read().Query(ctx, `SELECT customer_id, lifetime_earned FROM loyalty_members WHERE tenant_id = $1`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c string
			var n int64
			if err := rows.Scan(&c, &n); err != nil {
				return err
			}
			got[c] = n
		}
		return nil
	}()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for c, n := range want {
		total += n
		if got[c] != n {
			t.Errorf("customer %s earned %d, the sample program says %d", c, got[c], n)
		}
	}
	t.Logf("%d members earned %d points in all, as the sample program says", len(want), total)
	bad, err := db.CheckLoyalty(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error("ledger invariant:", b)
	}
}
