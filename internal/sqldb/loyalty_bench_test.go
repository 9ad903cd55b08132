package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// BenchmarkExpireMillionLots expires one million lots (100,000 members with
// ten lots each, all past their expiry) and reports the seconds it took:
// issue 4 asks for under 30 s. The lots and balances are written directly,
// as the ledger would have them. Run: go test ./internal/sqldb -run X
// -bench ExpireMillionLots -benchtime 1x
func BenchmarkExpireMillionLots(b *testing.B) {
	const members, perMember = 100_000, 10
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				db := sqldbtest.Open(b, e)
				tn := sqldbtest.Tenant(b, db)
				if _, err := db.SaveLoyaltyProgram(ctx, loyalty.DefaultProgram(tn.ID, "HKD")); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				seedLots(b, db, tn.ID, members, perMember)
				b.Logf("seeded %d lots in %s", members*perMember, time.Since(start))
				start = time.Now()
				n, err := db.ExpireLoyaltyPoints(ctx, time.Now(), tn.ID)
				if err != nil || n != members*perMember {
					b.Fatalf("expired %d lots: %v", n, err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/million-lots")
				start = time.Now()
				if bad, err := db.CheckLoyalty(ctx, tn.ID); err != nil || len(bad) > 0 {
					b.Fatalf("ledger: %v %v", err, bad[:min(len(bad), 5)])
				}
				b.Logf("checked the ledger in %s", time.Since(start))
			}
		})
	}
}

// seedLots writes members with lots that expired yesterday, their earn
// entries and postings, and the matching available balances.
func seedLots(b *testing.B, db *sqldb.DB, tenantID string, members, perMember int) {
	e := db.Engine()
	b.Helper()
	ctx := context.Background()
	past := time.Now().Add(-24 * time.Hour).UTC()
	const chunk = 1000 // members per statement group
	for first := 0; first < members; first += chunk {
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var lots, entries, postings, accounts []string
			var lotArgs, entryArgs, postArgs, accArgs []any
			for m := first; m < min(first+chunk, members); m++ {
				cust := fmt.Sprintf("00000000-0000-7000-8000-%012d", m)
				entry := fmt.Sprintf("00000000-0000-7001-8000-%012d", m)
				entries = append(entries, ph(&entryArgs, tenantID, entry, "earn", cust, "seed:"+entry, past, past))
				postings = append(postings, ph(&postArgs, tenantID, entry, 1, "issued", "", -10*perMember),
					ph(&postArgs, tenantID, entry, 2, "available", cust, 10*perMember))
				accounts = append(accounts, ph(&accArgs, tenantID, "available", cust, 10*perMember))
				for l := range perMember {
					lot := fmt.Sprintf("00000000-0000-7002-%04d-%012d", l, m)
					lots = append(lots, ph(&lotArgs, tenantID, lot, cust, cust, entry, 10, 10, "available", past, past, past))
				}
			}
			for _, s := range []struct {
				table, cols string
				rows        []string
				args        []any
				per         int
			}{
				{"loyalty_entries", "tenant_id, id, kind, customer_id, natural_key, occurred_at, created_at", entries, entryArgs, 7},
				{"loyalty_postings", "tenant_id, entry_id, seq, account_kind, account_owner, points", postings, postArgs, 6},
				{"loyalty_accounts", "tenant_id, kind, owner, balance", accounts, accArgs, 4},
				{"loyalty_lots", "tenant_id, id, customer_id, origin_customer_id, entry_id, points, remaining, status, available_at, expires_at, earned_at", lots, lotArgs, 11},
			} {
				for i := 0; i < len(s.rows); i += 2000 {
					j := min(i+2000, len(s.rows))
					if _, err := tx.Exec(ctx, "INSERT INTO "+s.table+" ("+s.cols+") VALUES "+renumber(s.rows[i:j], e), s.args[i*s.per:j*s.per]...); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// ph appends args and returns a row of ? placeholders, renumbered later.
func ph(args *[]any, vs ...any) string {
	*args = append(*args, vs...)
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(vs)), ", ") + ")"
}

// renumber joins rows and, for PostgreSQL, turns ? into $1, $2, …; SQLite
// keeps ?, which it binds by position (it looks $n names up linearly).
func renumber(rows []string, e sqldb.Engine) string {
	if e == sqldb.SQLite {
		return strings.Join(rows, ", ")
	}
	var b strings.Builder
	n := 0
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		for _, c := range r {
			if c == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

// BenchmarkRedemptionRounds runs rounds of 256 concurrent redemptions of a
// 7-point reward against one member given 1,000 points per round: every
// round exactly 142 succeed and 6 points are left, or the benchmark fails.
// Issue 4 asks for zero overspend over 1,000 rounds. Run: go test
// ./internal/sqldb -run X -bench RedemptionRounds -benchtime 1000x
func BenchmarkRedemptionRounds(b *testing.B) {
	const balance, cost, n = 1000, 7, 256
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			ctx := context.Background()
			db := sqldbtest.Open(b, e)
			tn := sqldbtest.Tenant(b, db)
			if _, err := db.SaveLoyaltyProgram(ctx, loyalty.DefaultProgram(tn.ID, "HKD")); err != nil {
				b.Fatal(err)
			}
			if _, err := db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: tn.ID, Code: "pos", Type: location.ChannelPOS,
				Names: map[string]string{"en": "POS"}, Active: true}); err != nil {
				b.Fatal(err)
			}
			rwd, err := db.CreateReward(ctx, sqldb.Reward{TenantID: tn.ID, Name: "HK$5 off", Kind: sqldb.RewardFixedDiscount, Status: "active",
				Cost: cost, Amount: 500, Currency: "HKD", CouponDays: 30})
			if err != nil {
				b.Fatal(err)
			}
			who, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "hammer@mail.hk"}})
			if err != nil {
				b.Fatal(err)
			}
			cid := who.Profile.ID
			round := 0
			for b.Loop() {
				round++
				adjust(b, db, tn.ID, cid, balance)
				var wg sync.WaitGroup
				var mu sync.Mutex
				ok, firstErr := 0, error(nil)
				for i := range n {
					wg.Go(func() {
						_, err := db.RedeemReward(ctx, sqldb.RedeemParams{TenantID: tn.ID, CustomerID: cid, RewardID: rwd.ID,
							SalesChannelCode: "pos", Reference: fmt.Sprintf("R%d-%d", round, i)})
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							ok++
						case firstErr == nil && !apperr.Is(err, apperr.Conflict):
							firstErr = err
						}
					})
				}
				wg.Wait()
				left := available(b, db, tn.ID, cid)
				if ok != balance/cost || left != balance%cost || firstErr != nil {
					b.Fatalf("round %d: %d redemptions went through, %d points left (%v)", round, ok, left, firstErr)
				}
				adjust(b, db, tn.ID, cid, -left)
			}
			if bad, err := db.CheckLoyalty(ctx, tn.ID); err != nil || len(bad) > 0 {
				b.Fatalf("ledger after %d rounds: %v %v", round, err, bad)
			}
			b.ReportMetric(float64(round), "rounds-without-overspend")
		})
	}
}

func adjust(b *testing.B, db *sqldb.DB, tenantID, customerID string, points int64) {
	b.Helper()
	if points == 0 {
		return
	}
	if _, err := db.AdjustLoyaltyPoints(context.Background(), sqldb.AdjustParams{TenantID: tenantID, CustomerID: customerID,
		Points: points, Reason: "bench round"}); err != nil {
		b.Fatal(err)
	}
}

func available(b *testing.B, db *sqldb.DB, tenantID, customerID string) int64 {
	b.Helper()
	a, err := db.FindLoyaltyAccount(context.Background(), tenantID, customerID)
	if err != nil {
		b.Fatal(err)
	}
	return a.Balances.Available
}
