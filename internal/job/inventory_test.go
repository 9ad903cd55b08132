package job_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/job"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestReservationExpiryJob holds a size for a VIP for 24 hours, moves the
// database's clock past it, and waits for the inventory.reservation_expiry
// job (run by the real workers) to give the stock back. Only this test makes
// reservations in this package, so moving the clock releases nobody else's.
func TestReservationExpiryJob(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			clock := &movableClock{t: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)}
			db, err := sqldb.Open(ctx, sqldbtest.URL(t, e), sqldb.Options{Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.UseJobs(sqldb.JobOptions{Workers: job.Workers(db), MaxWorkers: 2}); err != nil {
				t.Fatal(err)
			}
			if err := db.StartJobs(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.StopJobs(ctx)
			tn := sqldbtest.Tenant(t, db)
			store, err := db.CreateLocation(ctx, location.Location{TenantID: tn.ID, Code: "CWB", Type: location.TypeStore,
				Names: map[string]string{"en": "CWB"}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.RecordMovements(ctx, sqldb.MovementsParams{TenantID: tn.ID, Movements: []sqldb.StockMovement{
				{Kind: inventory.KindReceipt, SKU: "DRESS-S", LocationID: store.ID, Quantity: 1}}}); err != nil {
				t.Fatal(err)
			}
			r, _, err := db.HoldStock(ctx, sqldb.StockHold{TenantID: tn.ID, Ref: "vip-amy", ExpiresAt: clock.Now().Add(24 * time.Hour),
				Lines: []sqldb.StockHoldLine{{SKU: "DRESS-S", LocationID: store.ID, Quantity: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(25 * time.Hour)
			if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { return tx.Enqueue(ctx, job.ReservationExpiry{}, nil) }); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				got, err := db.FindReservationByID(ctx, tn.ID, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status == sqldb.ReservationExpired {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the expiry job did not release the hold: %+v", got)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if bad, err := db.CheckInventory(ctx, tn.ID); err != nil || len(bad) > 0 {
				t.Errorf("invariants: %v %v", bad, err)
			}
		})
	}
}
