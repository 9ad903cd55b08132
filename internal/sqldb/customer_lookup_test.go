package sqldb_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
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

// Identifies racing on one email (each with an app user id of its own) end
// in one customer with every id: on PostgreSQL the identifiers' advisory locks,
// queued with the statement they guard, still serialise them.
func TestIdentify_ConcurrentOnOneEmail(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			db := sqldbtest.Open(t, e)
			tn := sqldbtest.Tenant(t, db).ID
			ctx := context.Background()
			const n = 16
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn, Identifiers: customer.IdentifierInput{
						Email: "race@mail.hk", External: []customer.ExternalID{{Type: "app", Value: fmt.Sprintf("u-%d", i)}}}})
					if err == nil {
						ids[i] = r.Profile.ID
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("identify %d: %v", i, err)
				}
			}
			found, err := db.FindCustomers(ctx, sqldb.CustomerFilter{TenantID: tn, Email: "race@mail.hk", Limit: 10})
			if err != nil || len(found) != 1 {
				t.Fatalf("%d customers with the email (%v)", len(found), err)
			}
			if got := len(found[0].Identifiers); got != n+1 {
				t.Errorf("%d identifiers, want the email and %d app ids", got, n)
			}
			for i, id := range ids {
				p, err := db.FindCustomerByID(ctx, tn, id)
				if err != nil || p.ID != found[0].ID {
					t.Errorf("identify %d answered %s, which resolves to %v (%v), not %s", i, id, p, err, found[0].ID)
				}
			}
		})
	}
}

// TestIdentify_AgainChangesNothingAndWritesNothing: identifying a known
// customer again with identifiers and traits it already has answers from a
// reader (no write transaction) with exactly the profile read by id, its
// merge group's consents included; anything new goes to the writer. A
// flagged shared identifier is ignored either way.
func TestIdentify_AgainChangesNothingAndWritesNothing(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db).ID
		name := "Mei"
		first := identify(t, db, tn, customer.IdentifierInput{Email: "mei.again@mail.hk", Phone: "+852 9123 4666"}, customer.Traits{FirstName: &name}, "pos")
		second := identify(t, db, tn, customer.IdentifierInput{CardNumber: "LC-7700"}, customer.Traits{}, "pos")
		if _, err := db.RecordConsents(ctx, tn, second.Profile.ID, []customer.ConsentInput{
			{MessageChannel: "sms", Purpose: "marketing", Status: "granted", Source: "pos"}}, sqldb.Actor{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		merged := identify(t, db, tn, customer.IdentifierInput{Email: "mei.again@mail.hk", CardNumber: "LC-7700"}, customer.Traits{}, "pos")
		if len(merged.Merged) != 1 {
			t.Fatalf("merged %v, want one customer", merged.Merged)
		}
		want, err := db.FindCustomerByID(ctx, tn, first.Profile.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, again := range []struct {
			in     customer.IdentifierInput
			traits customer.Traits
		}{
			{customer.IdentifierInput{Email: "mei.again@mail.hk"}, customer.Traits{}},
			{customer.IdentifierInput{CardNumber: "LC-7700", Phone: "+852 9123 4666"}, customer.Traits{FirstName: &name}},
		} {
			writes := db.PoolStats().Writes
			res := identify(t, db, tn, again.in, again.traits, "pos")
			if res.Created || len(res.Merged) > 0 || len(res.Ignored) > 0 {
				t.Fatalf("%+v: created %v, merged %v, ignored %+v", again.in, res.Created, res.Merged, res.Ignored)
			}
			if !reflect.DeepEqual(res.Profile, want) {
				t.Errorf("%+v:\n got %+v\nwant %+v", again.in, res.Profile, want)
			}
			if w := db.PoolStats().Writes; w != writes {
				t.Errorf("%+v: %d write transactions, want none", again.in, w-writes)
			}
		}
		// A new trait value is a change: the writer records it.
		other := "May"
		writes := db.PoolStats().Writes
		if res := identify(t, db, tn, customer.IdentifierInput{Email: "mei.again@mail.hk"}, customer.Traits{FirstName: &other}, "pos"); *res.Profile.Traits.FirstName != other {
			t.Fatalf("first name %q, want %q", *res.Profile.Traits.FirstName, other)
		}
		if db.PoolStats().Writes == writes {
			t.Error("a changed trait was answered without a write")
		}
		// A shared phone, flagged after three merges, is ignored: a customer
		// identified with it and their own card is not merged.
		const shopPhone = "+85228889999"
		identify(t, db, tn, customer.IdentifierInput{Phone: shopPhone}, customer.Traits{}, "pos")
		for i := range 4 {
			card := fmt.Sprintf("LC-80%d", i)
			identify(t, db, tn, customer.IdentifierInput{CardNumber: card}, customer.Traits{}, "pos")
			identify(t, db, tn, customer.IdentifierInput{CardNumber: card, Phone: shopPhone}, customer.Traits{}, "pos")
		}
		for range 2 { // the second time nothing is new
			res := identify(t, db, tn, customer.IdentifierInput{CardNumber: "LC-803", Phone: shopPhone}, customer.Traits{}, "pos")
			if len(res.Merged) != 0 || len(res.Ignored) != 1 || res.Ignored[0].Reason != "flagged_shared" {
				t.Fatalf("with the flagged phone: merged %v, ignored %+v", res.Merged, res.Ignored)
			}
		}
	})
}
