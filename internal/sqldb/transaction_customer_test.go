package sqldb_test

import (
	"context"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
	"github.com/omo-platform/omo/internal/transaction"
)

// A sale that names its customer by id reads that customer in the same
// statement as its resend check: these are the answers that read must keep.
func TestRecordTransaction_CustomerByID(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openLoyalty(t, e)
			ctx := context.Background()
			kept := w.customer("kept.byid@mail.hk")
			merged, err := w.db.Identify(ctx, sqldb.IdentifyParams{TenantID: w.tenantID, Identifiers: customer.IdentifierInput{Phone: "+852 9123 4777"}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := w.db.Identify(ctx, sqldb.IdentifyParams{TenantID: w.tenantID,
				Identifiers: customer.IdentifierInput{Email: "kept.byid@mail.hk", Phone: "+852 9123 4777"}})
			if err != nil || len(res.Merged) != 1 {
				t.Fatalf("merge: %+v %v", res, err)
			}
			survivor := res.Profile.ID
			gone := w.customer("gone.byid@mail.hk")
			if _, err := w.db.EraseCustomer(ctx, w.tenantID, gone, sqldb.Actor{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			first := w.buy(kept, "pos", line("TEE-1", "tops", 1, 20000))

			sale := func(customerID, receipt string) (*sqldb.RecordResult, error) {
				return w.db.RecordTransaction(ctx, sqldb.RecordParams{TenantID: w.tenantID, Kind: transaction.KindPurchase,
					SalesChannelCode: "pos", LocationCode: "HK-CWB", Register: "1", ReceiptNumber: receipt,
					OccurredAt: w.clock.Now().In(hk), TaxInclusive: true, Lines: []transaction.Line{line("TEE-1", "tops", 1, 20000)},
					CustomerID: customerID})
			}
			for _, tc := range []struct {
				name, customerID, receipt string
				wantKind                  apperr.Kind
				wantCustomer              string
				wantCreated               bool
			}{
				{name: "live customer", customerID: kept, receipt: "byid-1", wantCustomer: survivor, wantCreated: true},
				{name: "merged id resolves to its survivor", customerID: merged.Profile.ID, receipt: "byid-2", wantCustomer: survivor, wantCreated: true},
				{name: "unknown id", customerID: "0190f0c2a1b27c3d8e9f0a1b2c3d4e5f", receipt: "byid-3", wantKind: apperr.Invalid},
				{name: "erased customer", customerID: gone, receipt: "byid-4", wantKind: apperr.Conflict},
				{name: "a resend is answered before the customer is looked at", customerID: kept,
					receipt: first.Transaction.ReceiptNumber, wantCustomer: survivor},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, err := sale(tc.customerID, tc.receipt)
					if tc.wantKind != "" {
						if !apperr.Is(err, tc.wantKind) {
							t.Fatalf("want %s, got %v", tc.wantKind, err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if got.Created != tc.wantCreated || got.Transaction.CustomerID != tc.wantCustomer {
						t.Errorf("created %v customer %s, want %v %s", got.Created, got.Transaction.CustomerID, tc.wantCreated, tc.wantCustomer)
					}
				})
			}
			w.check()
		})
	}
}
