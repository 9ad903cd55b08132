package sqldb_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// A lookup by identifier reads the whole profile in one statement; it must
// be exactly the profile read by id (two statements), for a merged customer
// with consents on both sides, traits, attributes and several identifiers.
func TestFindCustomers_ByIdentifierIsTheProfile(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			db := sqldbtest.Open(t, e)
			tn := sqldbtest.Tenant(t, db).ID
			ctx := context.Background()
			name, bday := "Mei", "1990-04-02"
			first, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn,
				Identifiers: customer.IdentifierInput{Email: "mei.lookup@mail.hk", CardNumber: "LC-4411"},
				Traits:      customer.Traits{FirstName: &name, Birthday: &bday, Attributes: map[string]any{"size": "S", "vip": true}}})
			if err != nil {
				t.Fatal(err)
			}
			second, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn, Identifiers: customer.IdentifierInput{Phone: "+852 9123 4555"}})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
			for _, c := range []struct {
				id string
				in customer.ConsentInput
			}{
				{first.Profile.ID, customer.ConsentInput{MessageChannel: "email", Purpose: "marketing", Status: "granted", Source: "pos", OccurredAt: &at}},
				{second.Profile.ID, customer.ConsentInput{MessageChannel: "sms", Purpose: "marketing", Status: "granted", Evidence: "form 7"}},
			} {
				if _, err := db.RecordConsents(ctx, tn, c.id, []customer.ConsentInput{c.in}, sqldb.Actor{Actor: "test"}); err != nil {
					t.Fatal(err)
				}
			}
			merged, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn,
				Identifiers: customer.IdentifierInput{Email: "mei.lookup@mail.hk", Phone: "+852 9123 4555"}})
			if err != nil || len(merged.Merged) != 1 {
				t.Fatalf("merge: %+v %v", merged, err)
			}
			want, err := db.FindCustomerByID(ctx, tn, merged.Profile.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Identifiers) != 3 || len(want.Consents) != 2 {
				t.Fatalf("the profile by id has %d identifiers and %d consents, want 3 and 2", len(want.Identifiers), len(want.Consents))
			}
			for _, f := range []sqldb.CustomerFilter{
				{Email: "mei.lookup@mail.hk"}, {Phone: "+852 9123 4555"}, {CardNumber: "LC-4411"},
			} {
				f.TenantID, f.Limit = tn, 10
				got, err := db.FindCustomers(ctx, f)
				if err != nil || len(got) != 1 {
					t.Fatalf("%+v: %d found, %v", f, len(got), err)
				}
				if !reflect.DeepEqual(got[0], want) {
					t.Errorf("%+v:\n got %+v\nwant %+v", f, got[0], want)
				}
			}
			for _, f := range []sqldb.CustomerFilter{
				{Email: "nobody@mail.hk", Limit: 10},
				{Email: "mei.lookup@mail.hk", Limit: 10, After: merged.Profile.ID}, // past the cursor
				{Email: "mei.lookup@mail.hk", Limit: 0},
			} {
				f.TenantID = tn
				if got, err := db.FindCustomers(ctx, f); err != nil || len(got) != 0 {
					t.Errorf("%+v: %d found, %v", f, len(got), err)
				}
			}
		})
	}
}
