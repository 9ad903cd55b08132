package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// BenchmarkIdentifyBatch measures the importer's path: new customers with an
// email, a phone and a name, 1,000 per IdentifyBatch call, from 4 callers at
// once as an import pipeline runs them (normalising beside the writer). Each
// iteration is one batch; the callers take batches as they come, so none
// waits for the others (an import streams its chunks). Reports customers/s.
func BenchmarkIdentifyBatch(b *testing.B) {
	const callers, size = 4, 1000
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := sqldbtest.Open(b, e)
			tn := sqldbtest.Tenant(b, db)
			ctx := context.Background()
			first := "Bench"
			batches := make(chan []sqldb.IdentifyParams, callers)
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for ps := range batches {
						if _, errs, err := db.IdentifyBatch(ctx, ps); err != nil || errs[0] != nil {
							b.Error(err, errs[0])
						}
					}
				})
			}
			n := 0
			start := time.Now()
			for range b.N {
				ps := make([]sqldb.IdentifyParams, size)
				for i := range ps {
					n++
					ps[i] = sqldb.IdentifyParams{TenantID: tn.ID, Source: "import", Traits: customer.Traits{FirstName: &first},
						Identifiers: customer.IdentifierInput{Email: fmt.Sprintf("c%d@bench.hk", n), Phone: fmt.Sprintf("+852%d", 51000000+n)}}
				}
				batches <- ps
			}
			close(batches)
			wg.Wait() // the batches still in flight count too
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "customers/s")
		})
	}
}
