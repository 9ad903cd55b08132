package sqldb_test

import (
	"context"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// The transaction.recorded job is queued, in the recording transaction, for
// every sale and return recorded while a module follows sales, and not at all
// while none does.
func TestTransactionRecordedJobFollowsFollowSales(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ann := w.customer("ann@mail.hk")
			jobsFor := func(id string) int {
				t.Helper()
				var n int
				if err := w.db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM river_job
					WHERE kind = 'transaction.recorded' AND CAST(args AS TEXT) LIKE $1`, "%"+id+"%").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			for _, tc := range []struct {
				follow bool
				want   int
			}{{false, 0}, {true, 1}, {false, 0}} {
				w.db.FollowSales(tc.follow)
				sale := w.buy(ann, "pos", line("TEE", "tops", 1, 12900))
				back := w.giveBack(sale, line("TEE", "tops", 1, 12900))
				for _, id := range []string{sale.Transaction.ID, back.Transaction.ID} {
					if got := jobsFor(id); got != tc.want {
						t.Errorf("followed %v: %d transaction.recorded jobs name %s, want %d", tc.follow, got, id, tc.want)
					}
				}
			}
			w.check()
		})
	}
}
