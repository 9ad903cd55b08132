package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// BenchmarkReserveStock measures checkout's stock step: 32 shoppers at
// once, each asking what the web shop may sell of two SKUs and then holding
// one of each at the warehouse in a write transaction of its own. Every
// 64th hold is of a hot SKU with little stock, so some are refused. Reports
// holds/s.
func BenchmarkReserveStock(b *testing.B) {
	const shoppers = 32
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := sqldbtest.Open(b, e)
			ctx := context.Background()
			tenantID := sqldbtest.Tenant(b, db).ID
			wh, err := db.CreateLocation(ctx, location.Location{TenantID: tenantID, Code: "WH", Type: location.TypeWarehouse,
				Names: map[string]string{"en": "WH"}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open"})
			if err != nil {
				b.Fatal(err)
			}
			var ms []sqldb.StockMovement
			for i := range 100 {
				ms = append(ms, sqldb.StockMovement{Kind: inventory.KindReceipt, SKU: fmt.Sprint("SKU-", i), LocationID: wh.ID, Quantity: 1e8})
			}
			ms = append(ms, sqldb.StockMovement{Kind: inventory.KindReceipt, SKU: "HOT", LocationID: wh.ID, Quantity: 10})
			if _, err := db.RecordMovements(ctx, sqldb.MovementsParams{TenantID: tenantID, Movements: ms}); err != nil {
				b.Fatal(err)
			}
			var n, refused atomic.Int64
			for b.Loop() {
				var wg sync.WaitGroup
				for s := range shoppers {
					wg.Go(func() {
						i := n.Add(1)
						a, c := fmt.Sprint("SKU-", i%100), fmt.Sprint("SKU-", (i+int64(s))%100)
						if i%64 == 0 {
							a = "HOT"
						}
						if _, err := db.AvailableStock(ctx, db.Read(), tenantID, "", []string{a, c}); err != nil {
							b.Error(err)
						}
						err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
							_, err := sqldb.ReserveStock(ctx, tx, sqldb.StockHold{TenantID: tenantID, Ref: fmt.Sprint("cart-", i),
								Lines: []sqldb.StockHoldLine{{SKU: a, LocationID: wh.ID, Quantity: 1}, {SKU: c, LocationID: wh.ID, Quantity: 1}}})
							return err
						})
						if err != nil {
							refused.Add(1)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "holds/s")
			b.ReportMetric(float64(refused.Load()), "refused")
		})
	}
}
