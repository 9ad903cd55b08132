package sqldb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// BenchmarkLookupPointPool measures the lookup by email of the API's
// GET /v1/customers?email= on SQLite, from 50 goroutines at once (the HTTP
// bench's clients), against 50,000 customers, with the point-read pool at one
// connection per core (the default) and at twice that (the reader pool's size
// before point reads had a pool of their own). ns/op is wall time per lookup
// with all cores busy; the ratio of the two runs is the figure.
func BenchmarkLookupPointPool(b *testing.B) {
	const customers = 50_000
	ctx := context.Background()
	url := sqldbtest.URL(b, sqldb.SQLite)
	tenantID := seedLookups(b, url, customers)
	for _, conns := range []int{0, 4} {
		name := fmt.Sprintf("point_conns=%d", conns)
		if conns == 0 {
			name = "point_conns=per_core"
		}
		b.Run(name, func(b *testing.B) {
			db, err := sqldb.Open(ctx, url, sqldb.Options{PointReadConns: conns})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var n atomic.Int64
			b.SetParallelism(25)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					// A multiplicative step spreads the lookups over the
					// whole table, as a till's customers are.
					i := n.Add(1) * 7919 % customers
					found, err := db.FindCustomers(ctx, sqldb.CustomerFilter{TenantID: tenantID, Email: lookupEmail(i), Limit: 1})
					if err != nil || len(found) != 1 {
						b.Errorf("lookup %d: %d found, %v", i, len(found), err)
						return
					}
				}
			})
		})
	}
}

func lookupEmail(i int64) string { return fmt.Sprintf("lookup%d@bench.hk", i) }

// seedLookups creates n customers with an email, a phone and a name, and
// closes the database so that every run opens it cold.
func seedLookups(b *testing.B, url string, n int) string {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, url, sqldb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	tn := sqldbtest.Tenant(b, db)
	first := "Lookup"
	for start := 0; start < n; start += 1000 {
		ps := make([]sqldb.IdentifyParams, 0, 1000)
		for i := start; i < min(n, start+1000); i++ {
			ps = append(ps, sqldb.IdentifyParams{TenantID: tn.ID, Source: "pos", Traits: customer.Traits{FirstName: &first},
				Identifiers: customer.IdentifierInput{Email: lookupEmail(int64(i)), Phone: fmt.Sprintf("+852%d", 51000000+i)}})
		}
		if _, errs, err := db.IdentifyBatch(ctx, ps); err != nil || errs[0] != nil {
			b.Fatal(err, errs[0])
		}
	}
	return tn.ID
}
