package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestRewards_CancelAfterExpiry spends points from a lot that then
// expires, cancels the redemption, and checks that the lot comes back with
// its original expiry and is expired at once, while the later lot gets its
// points back for spending; the expiry job then finds nothing to do twice.
func TestRewards_CancelAfterExpiry(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			ann := w.customer("ann@rewards.hk")
			adjust := func(points int64, ref string) {
				w.must(w.db.AdjustLoyaltyPoints(ctx, sqldb.AdjustParams{TenantID: w.tenantID, CustomerID: ann, Points: points, Reason: "test", Reference: ref}))
			}
			adjust(60, "a") // expires in 24 months
			w.clock.Add(31 * 24 * time.Hour)
			adjust(100, "b") // a month later
			rw, err := w.db.CreateReward(ctx, sqldb.Reward{TenantID: w.tenantID, Name: "Tote", Kind: sqldb.RewardGift, SKU: "TOTE", Cost: 120, CouponDays: 30})
			w.must(rw, err)
			red, err := w.db.RedeemReward(ctx, sqldb.RedeemParams{TenantID: w.tenantID, CustomerID: ann, RewardID: rw.ID, SalesChannelCode: "pos",
				LocationCode: "HK-CWB"})
			w.must(red, err)
			if red.Balances.Available != 40 {
				t.Fatalf("available %d after redeeming, want 40", red.Balances.Available)
			}
			w.check()
			// The first lot (0 left) passes its expiry; nothing expires.
			w.clock.Add(24 * 30 * 24 * time.Hour)
			n, err := w.db.ExpireLoyaltyPoints(ctx, w.clock.Now(), w.tenantID)
			w.must(n, err)
			cancelled, err := w.db.CancelRedemption(ctx, sqldb.CancelParams{TenantID: w.tenantID, RedemptionID: red.Redemption.ID, Reason: "test"})
			w.must(cancelled, err)
			// 60 back on the expired lot and expired at once; 60 back on the live one.
			if got := cancelled.Balances.Available; got != 100 {
				t.Fatalf("available %d after cancelling, want 100", got)
			}
			n, err = w.db.ExpireLoyaltyPoints(ctx, w.clock.Now(), w.tenantID)
			w.must(n, err)
			if a := w.account(ann); a.Balances.Available != 100 {
				t.Errorf("available %d after the expiry run, want 100", a.Balances.Available)
			}
			again, err := w.db.CancelRedemption(ctx, sqldb.CancelParams{TenantID: w.tenantID, RedemptionID: red.Redemption.ID})
			w.must(again, err)
			if again.Created || again.Redemption.Status != "cancelled" {
				t.Errorf("second cancel: %+v", again)
			}
			w.check()
		})
	}
}
