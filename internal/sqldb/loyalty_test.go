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
	"github.com/omo-platform/omo/internal/transaction"
)

// clock is a test clock that can be moved forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// loyaltyWorld is a tenant with a store, a web shop and a program:
// 1 point per HK$10, a 14-day return window online and none in store,
// points expiring 24 months after they are earned, tiers Member and Gold
// (HK$2,000 in a rolling 12 months, ×1.5).
type loyaltyWorld struct {
	t        *testing.T
	db       *sqldb.DB
	clock    *clock
	tenantID string
	gold     loyalty.Tier
	receipt  int
}

func openLoyalty(t *testing.T, e sqldb.Engine) *loyaltyWorld {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)}
	db, err := sqldb.Open(ctx, sqldbtest.URL(t, e), sqldb.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if e == sqldb.SQLite {
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UseJobs(sqldb.JobOptions{}); err != nil {
		t.Fatal(err)
	}
	w := &loyaltyWorld{t: t, db: db, clock: c, tenantID: sqldbtest.Tenant(t, db).ID}
	w.must(db.CreateLocation(ctx, location.Location{TenantID: w.tenantID, Code: "HK-CWB", Type: location.TypeStore,
		Names: map[string]string{"en": "Causeway Bay"}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open"}))
	for _, code := range []string{"pos", "web"} {
		typ := location.ChannelPOS
		if code == "web" {
			typ = location.ChannelWeb
		}
		w.must(db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: w.tenantID, Code: code, Type: typ,
			Names: map[string]string{"en": code}, Active: true}))
	}
	p := loyalty.DefaultProgram(w.tenantID, "HKD")
	p.PointName, p.DefaultReturnDays = "Stars", 14
	p.ReturnWindows = []loyalty.ReturnWindow{{SalesChannel: "pos", Days: 0}}
	w.must(db.SaveLoyaltyProgram(ctx, p))
	w.must(db.SaveLoyaltyTier(ctx, loyalty.Tier{TenantID: w.tenantID, Code: "member", Name: "Member", Multiplier: 1000}))
	g, err := db.SaveLoyaltyTier(ctx, loyalty.Tier{TenantID: w.tenantID, Code: "gold", Name: "Gold", Rank: 1, Threshold: 200000, Multiplier: 1500})
	w.must(g, err)
	w.gold = g
	return w
}

// editProgram changes the world's program.
func (w *loyaltyWorld) editProgram(edit func(*loyalty.Program)) {
	w.t.Helper()
	p, err := w.db.FindLoyaltyProgram(context.Background(), w.tenantID)
	if err != nil {
		w.t.Fatal(err)
	}
	edit(&p)
	w.must(w.db.SaveLoyaltyProgram(context.Background(), p))
}

func (w *loyaltyWorld) must(_ any, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// check runs the ledger invariants; every scenario ends with it.
func (w *loyaltyWorld) check() {
	w.t.Helper()
	bad, err := w.db.CheckLoyalty(context.Background(), w.tenantID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, b := range bad {
		w.t.Error("invariant:", b)
	}
}

func (w *loyaltyWorld) customer(email string) string {
	w.t.Helper()
	r, err := w.db.Identify(context.Background(), sqldb.IdentifyParams{TenantID: w.tenantID,
		Identifiers: customer.IdentifierInput{Email: email}})
	if err != nil {
		w.t.Fatal(err)
	}
	return r.Profile.ID
}

func (w *loyaltyWorld) buy(customerID, channel string, lines ...transaction.Line) *sqldb.RecordResult {
	w.t.Helper()
	w.receipt++
	res, err := w.db.RecordTransaction(context.Background(), sqldb.RecordParams{TenantID: w.tenantID, Kind: transaction.KindPurchase,
		SalesChannelCode: channel, LocationCode: "HK-CWB", Register: "1", ReceiptNumber: fmt.Sprint(w.receipt),
		OccurredAt: w.clock.Now().In(hk), TaxInclusive: true, Lines: lines, CustomerID: customerID})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func (w *loyaltyWorld) giveBack(orig *sqldb.RecordResult, lines ...transaction.Line) *sqldb.RecordResult {
	w.t.Helper()
	w.receipt++
	res, err := w.db.RecordTransaction(context.Background(), sqldb.RecordParams{TenantID: w.tenantID, Kind: transaction.KindReturn,
		SalesChannelCode: "pos", LocationCode: "HK-CWB", Register: "1", ReceiptNumber: fmt.Sprint(w.receipt),
		OccurredAt: w.clock.Now().In(hk), TaxInclusive: true, Lines: lines,
		Original: &sqldb.OriginalRef{TransactionID: orig.Transaction.ID}})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func (w *loyaltyWorld) account(customerID string) *sqldb.LoyaltyAccount {
	w.t.Helper()
	a, err := w.db.FindLoyaltyAccount(context.Background(), w.tenantID, customerID)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

var hk = time.FixedZone("HKT", 8*3600)

func line(sku, category string, qty, price int64) transaction.Line {
	return transaction.Line{SKU: sku, Category: category, Quantity: qty, UnitPrice: price}
}

func TestLoyalty_EarnReturnTierAndExpiry(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ann := w.customer("ann@mail.hk")

			// In store: available at once; the gift card earns nothing.
			first := w.buy(ann, "pos", line("BAG-1", "bags", 2, 50000), line("GC-100", "gift_card", 1, 10000))
			lo := first.Loyalty
			if lo == nil || lo.Points != 100 || lo.Pending || lo.Balances.Available != 100 {
				t.Fatalf("first purchase: %+v", lo)
			}
			if lo.Earning.Lines[1].Points != 0 || lo.Earning.Lines[1].Note == "" {
				t.Errorf("gift card line: %+v", lo.Earning.Lines[1])
			}
			w.check()

			// Online: pending for 14 days. HK$1,400 more crosses HK$2,000: Gold at once.
			second := w.buy(ann, "web", line("SHOE-9", "shoes", 1, 140000))
			if lo := second.Loyalty; lo.Points != 140 || !lo.Pending || lo.Balances.Pending != 140 || !lo.TierChanged || lo.Tier.Code != "gold" {
				t.Fatalf("second purchase: %+v tier %+v", lo, lo.Tier)
			}
			w.check()

			// Returning one bag claws back half of what the bags earned and
			// costs Gold (HK$2,000 − 500 is below the threshold).
			ret := w.giveBack(first, line("BAG-1", "bags", 1, 50000))
			if lo := ret.Loyalty; lo.Points != 50 || lo.Balances.Available != 50 || lo.Tier.Code != "member" {
				t.Fatalf("return: %+v tier %+v", lo, lo.Tier)
			}
			w.check()

			// Two days later, Gold again: now purchases earn ×1.5.
			w.clock.Add(48 * time.Hour)
			w.buy(ann, "pos", line("BAG-2", "bags", 1, 60000))
			third := w.buy(ann, "pos", line("BAG-3", "bags", 1, 10000))
			if third.Loyalty.Points != 15 || third.Loyalty.Tier.Code != "gold" {
				t.Fatalf("gold purchase: %+v", third.Loyalty)
			}
			w.check()

			// The return window passes: the web points mature.
			w.clock.Add(15 * 24 * time.Hour)
			if n, err := w.db.MatureLoyaltyPoints(context.Background(), w.clock.Now(), w.tenantID); err != nil || n != 1 {
				t.Fatalf("mature: %d %v", n, err)
			}
			a := w.account(ann)
			if a.Balances.Available != 50+140+60+15 || a.Balances.Pending != 0 {
				t.Fatalf("after maturing: %+v", a.Balances)
			}
			if len(a.Expiring) != 2 || a.Expiring[0].Points != 50+140 { // two earning days
				t.Errorf("expiry calendar: %+v", a.Expiring)
			}
			w.check()

			// 25 months later every point has expired.
			w.clock.Add(25 * 30 * 24 * time.Hour)
			if _, err := w.db.ExpireLoyaltyPoints(context.Background(), w.clock.Now(), w.tenantID); err != nil {
				t.Fatal(err)
			}
			if a := w.account(ann); a.Balances.Available != 0 || a.LifetimeEarned != 100+140+60+15 {
				t.Fatalf("after expiry: %+v lifetime %d", a.Balances, a.LifetimeEarned)
			}
			w.check()
		})
	}
}

func TestLoyalty_BuyEarnReturnNetsZero(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			_, err := w.db.CreateLoyaltyRule(ctx, loyalty.Rule{TenantID: w.tenantID, Name: "Shoes ×3", Status: loyalty.RuleActive,
				Trigger: loyalty.TriggerPurchase, Condition: loyalty.Condition{Categories: []string{"shoes"}},
				Effect: loyalty.Effect{Kind: loyalty.EffectMultiplier, Multiplier: 3000}, Limits: loyalty.Limits{Budget: 1000}}, sqldb.Actor{Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			bob := w.customer("bob@mail.hk")
			buy := w.buy(bob, "pos", line("SHOE-1", "shoes", 3, 33333), line("TEE-1", "tops", 1, 9999))
			// base: 109998 eligible → 10 points; shoes: base share ×2 more.
			if buy.Loyalty.Points <= 10 {
				t.Fatalf("bonus missing: %+v", buy.Loyalty.Earning)
			}
			// Spend part, then return everything in three steps.
			if _, err := w.db.AdjustLoyaltyPoints(ctx, sqldb.AdjustParams{TenantID: w.tenantID, CustomerID: bob, Points: -5, Reason: "test spend"}); err != nil {
				t.Fatal(err)
			}
			w.giveBack(buy, line("SHOE-1", "shoes", 1, 33333))
			w.giveBack(buy, line("SHOE-1", "shoes", 2, 33333))
			w.giveBack(buy, line("TEE-1", "tops", 1, 9999))
			a := w.account(bob)
			// Everything earned went back; the 5 spent are owed.
			if a.Balances.Available != 0 || a.Balances.Pending != 0 || a.Balances.Owed != -5 {
				t.Fatalf("after returning everything: %+v", a.Balances)
			}
			w.check()
			budget, err := w.db.FindLoyaltyRules(ctx, w.tenantID, "")
			if err != nil || len(budget) != 1 {
				t.Fatal(err)
			}
			// The next purchase settles the debt first.
			next := w.buy(bob, "pos", line("TEE-2", "tops", 1, 100000))
			if next.Loyalty.Balances.Owed != 0 || next.Loyalty.Balances.Available != 100-5 {
				t.Fatalf("settling the debt: %+v", next.Loyalty.Balances)
			}
			w.check()
		})
	}
}

func TestLoyalty_MergeAndUnmergeMoveThePoints(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			ann := w.customer("ann.merge@mail.hk")
			phoneOnly, err := w.db.Identify(ctx, sqldb.IdentifyParams{TenantID: w.tenantID, Identifiers: customer.IdentifierInput{Phone: "+852 9123 4001"}})
			if err != nil {
				t.Fatal(err)
			}
			other := phoneOnly.Profile.ID
			w.buy(ann, "pos", line("BAG-1", "bags", 1, 100000))                       // 100 available
			w.buy(other, "pos", line("BAG-2", "bags", 1, 50000))                      // 50 available
			w.buy(other, "web", line("BAG-3", "bags", 1, 30000))                      // 30 pending
			res, err := w.db.Identify(ctx, sqldb.IdentifyParams{TenantID: w.tenantID, // ties the two together
				Identifiers: customer.IdentifierInput{Email: "ann.merge@mail.hk", Phone: "+852 9123 4001"}})
			if err != nil || len(res.Merged) != 1 {
				t.Fatalf("merge: %+v %v", res, err)
			}
			survivor := res.Profile.ID
			a := w.account(survivor)
			if a.Balances.Available != 150 || a.Balances.Pending != 30 || a.LifetimeEarned != 180 {
				t.Fatalf("after merge: %+v lifetime %d", a.Balances, a.LifetimeEarned)
			}
			w.check()
			// The survivor spends 120: the lots expiring first go first.
			if _, err := w.db.AdjustLoyaltyPoints(ctx, sqldb.AdjustParams{TenantID: w.tenantID, CustomerID: survivor, Points: -120, Reason: "spend"}); err != nil {
				t.Fatal(err)
			}
			merges, err := w.db.FindMerges(ctx, w.tenantID, survivor)
			if err != nil || len(merges) != 1 {
				t.Fatalf("merges: %v %v", merges, err)
			}
			if _, err := w.db.Unmerge(ctx, sqldb.UnmergeParams{TenantID: w.tenantID, CustomerID: survivor, MergeID: merges[0].ID}); err != nil {
				t.Fatal(err)
			}
			mergedID := res.Merged[0]
			back, kept := w.account(mergedID), w.account(survivor)
			if back.Balances.Available+kept.Balances.Available != 30 || back.Balances.Pending != 30 || kept.Balances.Pending != 0 {
				t.Fatalf("after unmerge: merged %+v survivor %+v", back.Balances, kept.Balances)
			}
			w.check()
		})
	}
}

// TestLoyalty_IdempotencyStorm sends 10,000 purchases three times each, from
// many goroutines at once, in shuffled order: exactly 10,000 earn entries,
// and the ledger sound.
func TestLoyalty_IdempotencyStorm(t *testing.T) {
	t.Parallel()
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			members := make([]string, 50)
			for i := range members {
				members[i] = w.customer(fmt.Sprintf("storm%d@mail.hk", i))
			}
			jobs := make(chan int, 3*n)
			for i := range 3 * n {
				jobs <- (i*7919 + i/n) % n // each sale three times, interleaved
			}
			close(jobs)
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			at := w.clock.Now().In(hk)
			for range 32 {
				wg.Go(func() {
					for i := range jobs {
						_, err := w.db.RecordTransaction(ctx, sqldb.RecordParams{TenantID: w.tenantID, Kind: transaction.KindPurchase,
							SalesChannelCode: "pos", LocationCode: "HK-CWB", Register: "S", ReceiptNumber: fmt.Sprint(i), OccurredAt: at,
							TaxInclusive: true, CustomerID: members[i%len(members)], Lines: []transaction.Line{line("TEE", "tops", 1, 10000+int64(i))}})
						if err != nil {
							select {
							case errs <- err:
							default:
							}
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var entries int
			if err := w.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM loyalty_entries WHERE tenant_id = $1 AND kind = 'earn'`, w.tenantID).Scan(&entries); err != nil {
				t.Fatal(err)
			}
			if entries != n {
				t.Fatalf("%d earn entries for %d purchases", entries, n)
			}
			w.check()
		})
	}
}

// TestLoyalty_ConcurrentSpendNeverOverspends takes points from one member
// from many goroutines at once: exactly as many takes succeed as the
// balance covers, and it ends at zero.
func TestLoyalty_ConcurrentSpendNeverOverspends(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			ann := w.customer("spend@mail.hk")
			w.buy(ann, "pos", line("BAG-1", "bags", 1, 500000)) // 500 points
			var ok, refused atomicCounter
			var wg sync.WaitGroup
			for range 128 {
				wg.Go(func() {
					_, err := w.db.AdjustLoyaltyPoints(ctx, sqldb.AdjustParams{TenantID: w.tenantID, CustomerID: ann, Points: -10, Reason: "spend"})
					switch {
					case err == nil:
						ok.add()
					case apperr.Is(err, apperr.Invalid):
						refused.add()
					default:
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if ok.n != 50 || refused.n != 78 || w.account(ann).Balances.Available != 0 {
				t.Fatalf("%d spends went through, %d refused, balance %+v", ok.n, refused.n, w.account(ann).Balances)
			}
			w.check()
		})
	}
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }

// TestLoyalty_TierReview keeps a tier for a period that met its threshold
// and takes it down one step after a period that did not.
func TestLoyalty_TierReview(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			ann := w.customer("review@mail.hk")
			if r := w.buy(ann, "pos", line("BAG-1", "bags", 1, 250000)); r.Loyalty.Tier.Code != "gold" {
				t.Fatalf("not gold: %+v", r.Loyalty.Tier)
			}
			review := func(wantTier string) {
				t.Helper()
				if _, err := w.db.ReviewLoyaltyTiers(ctx, w.clock.Now(), w.tenantID); err != nil {
					t.Fatal(err)
				}
				if a := w.account(ann); a.Tier.Code != wantTier {
					t.Fatalf("at %s: tier %s, want %s (review at %s)", w.clock.Now(), a.Tier.Code, wantTier, a.ReviewAt)
				}
			}
			w.clock.Add(366 * 24 * time.Hour) // the first year met Gold's threshold
			review("gold")
			w.clock.Add(366 * 24 * time.Hour) // the second year bought nothing
			review("member")
			w.check()
		})
	}
}

// TestLoyalty_HoldsExpireIntoRelease: a hold neither captured nor released
// by its expiry is released by the job; a released lot past its own expiry
// expires at once.
func TestLoyalty_HoldsExpireIntoRelease(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			ann := w.customer("hold@mail.hk")
			w.buy(ann, "pos", line("BAG-1", "bags", 1, 100000)) // 100 points, expiring in 24 months
			h, created, err := w.db.HoldPoints(ctx, sqldb.HoldParams{TenantID: w.tenantID, CustomerID: ann, Points: 60, Currency: "HKD",
				Reference: "PAY-9", TTL: time.Hour})
			if err != nil || !created || w.account(ann).Balances.Available != 40 || w.account(ann).Balances.Held != 60 {
				t.Fatalf("hold: %+v %v %+v", h, err, w.account(ann).Balances)
			}
			w.check()
			w.clock.Add(2 * time.Hour)
			if n, err := w.db.ReleaseExpiredHolds(ctx, w.clock.Now(), w.tenantID); err != nil || n != 1 {
				t.Fatalf("released %d: %v", n, err)
			}
			if b := w.account(ann).Balances; b.Available != 100 || b.Held != 0 {
				t.Fatalf("after the hold expired: %+v", b)
			}
			w.check()
			// Held across the lot's own expiry: the release gives it back and it expires.
			h, _, err = w.db.HoldPoints(ctx, sqldb.HoldParams{TenantID: w.tenantID, CustomerID: ann, Points: 30, Currency: "HKD",
				Reference: "PAY-10", TTL: 7 * 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			w.clock.Add(25 * 30 * 24 * time.Hour)
			if _, err := w.db.ExpireLoyaltyPoints(ctx, w.clock.Now(), w.tenantID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.db.ReleaseHold(ctx, w.tenantID, h.ID, sqldb.Actor{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			if b := w.account(ann).Balances; b.Available != 0 || b.Held != 0 {
				t.Fatalf("after releasing onto an expired lot: %+v", b)
			}
			w.check()
		})
	}
}

// TestLoyalty_Referrals: both sides earn once the friend's first purchase
// passes its return window; a returned purchase declines; the yearly cap
// stops the referrer farming; self-referral and old customers are refused.
func TestLoyalty_Referrals(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			w.editProgram(func(p *loyalty.Program) {
				p.Referral = &loyalty.ReferralPolicy{ReferrerPoints: 300, FriendPoints: 200, MinPurchase: 50000, Currency: "HKD", MaxPerYear: 1}
			})
			ann := w.customer("referrer@mail.hk")
			code, err := w.db.ReferralCode(ctx, w.tenantID, ann)
			if again, _ := w.db.ReferralCode(ctx, w.tenantID, ann); err != nil || again != code {
				t.Fatalf("code %q then %q: %v", code, again, err)
			}
			if _, err := w.db.JoinReferral(ctx, w.tenantID, code, ann); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("self-referral: %v", err)
			}
			old := w.customer("old@mail.hk")
			w.buy(old, "pos", line("TEE", "tops", 1, 1000))
			if _, err := w.db.JoinReferral(ctx, w.tenantID, code, old); !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("an old customer: %v", err)
			}
			bob, carl, dave := w.customer("bob.friend@mail.hk"), w.customer("carl.friend@mail.hk"), w.customer("dave.friend@mail.hk")
			for _, f := range []string{bob, carl, dave} {
				if _, err := w.db.JoinReferral(ctx, w.tenantID, strings.ToLower(code), f); err != nil {
					t.Fatal(err)
				}
			}
			w.buy(bob, "web", line("BAG", "bags", 1, 60000)) // pending 14 days
			w.buy(carl, "pos", line("BAG", "bags", 1, 60000))
			daves := w.buy(dave, "pos", line("BAG", "bags", 1, 60000))
			w.giveBack(daves, line("BAG", "bags", 1, 60000))
			if n, err := w.db.ConvertReferrals(ctx, w.clock.Now(), w.tenantID); err != nil || n != 2 { // carl's and dave's
				t.Fatalf("converted %d: %v", n, err)
			}
			w.clock.Add(15 * 24 * time.Hour)
			if n, err := w.db.ConvertReferrals(ctx, w.clock.Now(), w.tenantID); err != nil || n != 1 { // bob's
				t.Fatalf("converted %d: %v", n, err)
			}
			refs, err := w.db.FindReferrals(ctx, w.tenantID, ann)
			if err != nil || len(refs) != 3 {
				t.Fatalf("referrals %v %v", refs, err)
			}
			status := map[string]string{}
			for _, r := range refs {
				status[r.FriendID] = r.Status
			}
			if status[bob] != sqldb.ReferralConverted || status[carl] != sqldb.ReferralConverted || status[dave] != sqldb.ReferralDeclined {
				t.Fatalf("statuses %v", status)
			}
			// Carl converted first and took Ann's one referral of the year.
			if a := w.account(ann); a.LifetimeEarned != 300 {
				t.Fatalf("the referrer earned %d, want 300 (the cap is 1 a year)", a.LifetimeEarned)
			}
			if c := w.account(carl); c.LifetimeEarned != 60+200 {
				t.Fatalf("carl earned %d", c.LifetimeEarned)
			}
			w.check()
		})
	}
}

// TestLoyalty_PurchaseNeverDowngrades: when the rolling window has moved
// past the purchases that earned a tier, the next purchase keeps the tier;
// only the review at the end of the period takes it down.
func TestLoyalty_PurchaseNeverDowngrades(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			ann := w.customer("keeps@mail.hk")
			w.buy(ann, "pos", line("TEE", "tops", 1, 1000)) // joins
			w.clock.Add(180 * 24 * time.Hour)
			if r := w.buy(ann, "pos", line("BAG", "bags", 1, 250000)); r.Loyalty.Tier.Code != "gold" {
				t.Fatalf("not gold: %+v", r.Loyalty.Tier)
			}
			w.clock.Add(186 * 24 * time.Hour) // the first review keeps Gold
			if _, err := w.db.ReviewLoyaltyTiers(ctx, w.clock.Now(), w.tenantID); err != nil {
				t.Fatal(err)
			}
			w.clock.Add(200 * 24 * time.Hour) // the window has left the bag behind
			if r := w.buy(ann, "pos", line("TEE", "tops", 1, 1000)); r.Loyalty.Tier.Code != "gold" || r.Loyalty.TierChanged {
				t.Fatalf("a purchase downgraded: %+v", r.Loyalty.Tier)
			}
			w.check()
		})
	}
}

// TestLoyalty_InactivityExpiry: a program with inactivity_months expires
// every point of a member without a purchase for that long.
func TestLoyalty_InactivityExpiry(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			w.editProgram(func(p *loyalty.Program) { p.Expiry.InactivityMonths = 6 })
			ann, bob := w.customer("idle@mail.hk"), w.customer("busy@mail.hk")
			w.buy(ann, "pos", line("BAG", "bags", 1, 100000))
			w.buy(bob, "pos", line("BAG", "bags", 1, 100000))
			w.clock.Add(150 * 24 * time.Hour)
			w.buy(bob, "pos", line("TEE", "tops", 1, 10000))
			w.clock.Add(40 * 24 * time.Hour) // Ann: 190 days without a purchase; Bob: 40
			if _, err := w.db.ExpireLoyaltyPoints(ctx, w.clock.Now(), w.tenantID); err != nil {
				t.Fatal(err)
			}
			if a, b := w.account(ann), w.account(bob); a.Balances.Available != 0 || b.Balances.Available != 110 {
				t.Fatalf("idle %+v, busy %+v", a.Balances, b.Balances)
			}
			w.check()
		})
	}
}
