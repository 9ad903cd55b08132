package sqldb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func str(s string) *string { return &s }

func identify(t *testing.T, db *sqldb.DB, tenantID string, in customer.IdentifierInput, traits customer.Traits, source string) *sqldb.IdentifyResult {
	t.Helper()
	res, err := db.Identify(context.Background(), sqldb.IdentifyParams{TenantID: tenantID, Identifiers: in, Traits: traits, Source: source,
		Actor: sqldb.Actor{Actor: "test"}})
	if err != nil {
		t.Fatalf("identify %+v: %v", in, err)
	}
	return res
}

func TestIdentify_TwoChannelsOneCustomer(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		tn := sqldbtest.Tenant(t, db)
		pos := identify(t, db, tn.ID, customer.IdentifierInput{Phone: "9123 4567", External: []customer.ExternalID{{Type: "pos", Value: "C-1"}}},
			customer.Traits{FirstName: str("Mei")}, "pos")
		if !pos.Created {
			t.Fatal("first identify should create")
		}
		web := identify(t, db, tn.ID, customer.IdentifierInput{Email: " Mei@Example.HK ", Phone: "+852 9123 4567"},
			customer.Traits{LastName: str("Chan")}, "web")
		if web.Created || web.Profile.ID != pos.Profile.ID {
			t.Fatalf("second identify should match the first: created=%v id=%s want %s", web.Created, web.Profile.ID, pos.Profile.ID)
		}
		got := web.Profile
		if len(got.Identifiers) != 3 || *got.Traits.FirstName != "Mei" || *got.Traits.LastName != "Chan" {
			t.Fatalf("profile = %+v", got.Customer)
		}
		found, err := db.FindCustomers(context.Background(), sqldb.CustomerFilter{TenantID: tn.ID, Email: "mei@example.hk", Limit: 10})
		if err != nil || len(found) != 1 || found[0].ID != pos.Profile.ID {
			t.Fatalf("search by email: %v %v", found, err)
		}
		found, err = db.FindCustomers(context.Background(), sqldb.CustomerFilter{TenantID: tn.ID, Q: "chan", Limit: 10})
		if err != nil || len(found) != 1 {
			t.Fatalf("search by name: %v %v", found, err)
		}
	})
}

func TestIdentify_ThreeWayMergeAndUnmerge(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		a := identify(t, db, tn.ID, customer.IdentifierInput{Email: "a@shop.hk"}, customer.Traits{FirstName: str("Ann")}, "web")
		b := identify(t, db, tn.ID, customer.IdentifierInput{Phone: "+85261234567"}, customer.Traits{LastName: str("Lee")}, "pos")
		c := identify(t, db, tn.ID, customer.IdentifierInput{CardNumber: "LC-0001"}, customer.Traits{Gender: str("f")}, "pos")
		all := identify(t, db, tn.ID, customer.IdentifierInput{Email: "a@shop.hk", Phone: "61234567", CardNumber: "LC-0001"}, customer.Traits{}, "pos")
		if all.Profile.ID != a.Profile.ID || len(all.Merged) != 2 {
			t.Fatalf("merge: survivor %s merged %v; want survivor %s and 2 merged", all.Profile.ID, all.Merged, a.Profile.ID)
		}
		for _, id := range []string{b.Profile.ID, c.Profile.ID} {
			p, err := db.FindCustomerByID(ctx, tn.ID, id)
			if err != nil || p.ID != a.Profile.ID || p.RequestedID != id {
				t.Fatalf("merged id %s should resolve to survivor: %v %v", id, p, err)
			}
		}
		if p := all.Profile; len(p.Identifiers) != 3 || p.Traits.LastName == nil || p.Traits.Gender == nil {
			t.Fatalf("survivor should hold everything: %+v", p.Customer)
		}
		res, err := db.Unmerge(ctx, sqldb.UnmergeParams{TenantID: tn.ID, CustomerID: b.Profile.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Restored) != 2 || len(res.Survivor.Identifiers) != 1 || res.Survivor.Traits.LastName != nil {
			t.Fatalf("unmerge: %+v", res.Survivor.Customer)
		}
		for _, want := range []*sqldb.IdentifyResult{b, c} {
			p, err := db.FindCustomerByID(ctx, tn.ID, want.Profile.ID)
			if err != nil || p.ID != want.Profile.ID || len(p.Identifiers) != 1 {
				t.Fatalf("restored %s: %+v %v", want.Profile.ID, p, err)
			}
		}
		if _, err := db.Unmerge(ctx, sqldb.UnmergeParams{TenantID: tn.ID, CustomerID: a.Profile.ID}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second unmerge: want conflict, got %v", err)
		}
	})
}

func TestErase_BlocksSilentRecreation(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		a := identify(t, db, tn.ID, customer.IdentifierInput{Email: "gone@shop.hk"}, customer.Traits{FirstName: str("Gone")}, "web")
		p, err := db.EraseCustomer(ctx, tn.ID, a.Profile.ID, sqldb.Actor{Actor: "test"})
		if err != nil || p.ErasedAt == nil || len(p.Identifiers) != 0 || p.Traits.FirstName != nil {
			t.Fatalf("erase: %+v %v", p, err)
		}
		_, err = db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "gone@shop.hk"}})
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("re-identify without consent: want conflict, got %v", err)
		}
		res, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "gone@shop.hk"},
			Consents: []customer.ConsentInput{{MessageChannel: "email", Purpose: "marketing", Status: "granted"}}})
		if err != nil || !res.Created || res.Profile.ID == a.Profile.ID {
			t.Fatalf("re-identify with consent: %+v %v", res, err)
		}
	})
}

func TestIdentifyBatch_KeepsGoodRowsAndReportsBadOnes(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		ps := []sqldb.IdentifyParams{
			{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "one@shop.hk"}},
			{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "not an email"}},
			{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "one@shop.hk", Phone: "+85291234567"}},
			{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "test@test.com"}},
			{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Phone: "91234567"}, Traits: customer.Traits{FirstName: str("Ka")}},
		}
		res, errs, err := db.IdentifyBatch(ctx, ps)
		if err != nil {
			t.Fatal(err)
		}
		if errs[0] != nil || !res[0].Created {
			t.Fatalf("item 0: %v", errs[0])
		}
		if !apperr.Is(errs[1], apperr.Invalid) || !apperr.Is(errs[3], apperr.Invalid) {
			t.Fatalf("items 1 and 3 should be rejected: %v, %v", errs[1], errs[3])
		}
		if errs[2] != nil || res[2].Profile.ID != res[0].Profile.ID || errs[4] != nil || res[4].Profile.ID != res[0].Profile.ID {
			t.Fatalf("items 2 and 4 should resolve to item 0's customer: %v %v", errs[2], errs[4])
		}
		p, err := db.FindCustomerByID(ctx, tn.ID, res[0].Profile.ID)
		if err != nil || len(p.Identifiers) != 2 || p.Traits.FirstName == nil {
			t.Fatalf("after batch: %+v %v", p, err)
		}
	})
}

// A shop's own phone typed at the till for many shoppers: after
// FlagAfterMerges merges it is flagged and stops tying customers together.
func TestIdentify_SharedIdentifierIsFlagged(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db) // FlagAfterMerges defaults to 3
		const shopPhone = "+85228881234"
		identify(t, db, tn.ID, customer.IdentifierInput{Phone: shopPhone}, customer.Traits{}, "pos")
		merges := 0
		for i := 0; i < 6; i++ {
			card := fmt.Sprintf("CARD-%d", 1000+i)
			identify(t, db, tn.ID, customer.IdentifierInput{CardNumber: card}, customer.Traits{}, "pos")
			res := identify(t, db, tn.ID, customer.IdentifierInput{CardNumber: card, Phone: shopPhone}, customer.Traits{}, "pos")
			merges += len(res.Merged)
			if i >= 3 && (len(res.Merged) != 0 || len(res.Ignored) != 1 || res.Ignored[0].Reason != "flagged_shared") {
				t.Fatalf("identify %d after flagging: merged %v ignored %+v", i, res.Merged, res.Ignored)
			}
		}
		if merges != 3 {
			t.Fatalf("the shared phone caused %d merges, want 3 before it was flagged", merges)
		}
		_ = ctx
	})
}

func TestIdentify_MergeOverLimitMergesNothing(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		st := tn.Settings
		st.IdentifierLimits = map[string]int{"email": 1, "phone": 5, "card_number": 3, "external": 20}
		if _, err := db.UpdateTenantSettings(ctx, tn.ID, st); err != nil {
			t.Fatal(err)
		}
		a := identify(t, db, tn.ID, customer.IdentifierInput{Email: "a@shop.hk", CardNumber: "VIP-1"}, customer.Traits{}, "pos")
		b := identify(t, db, tn.ID, customer.IdentifierInput{Email: "b@shop.hk"}, customer.Traits{}, "web")
		res := identify(t, db, tn.ID, customer.IdentifierInput{Email: "b@shop.hk", CardNumber: "VIP-1"}, customer.Traits{}, "pos")
		if len(res.Merged) != 0 || res.Profile.ID != a.Profile.ID {
			t.Fatalf("want no merge and the card's customer; got %s merged %v", res.Profile.ID, res.Merged)
		}
		if len(res.Ignored) != 1 || res.Ignored[0].Reason != "merge_blocked" {
			t.Fatalf("ignored = %+v", res.Ignored)
		}
		if p, _ := db.FindCustomerByID(ctx, tn.ID, b.Profile.ID); p.ID != b.Profile.ID {
			t.Fatal("b must stay its own customer")
		}
	})
}

func TestIdentifyBatch_FreshItemsAreSetBasedAndComplete(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		old := identify(t, db, tn.ID, customer.IdentifierInput{Email: "old@shop.hk"}, customer.Traits{}, "pos")
		gone := identify(t, db, tn.ID, customer.IdentifierInput{Email: "gone@shop.hk"}, customer.Traits{}, "pos")
		if _, err := db.EraseCustomer(ctx, tn.ID, gone.Profile.ID, sqldb.Actor{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		var ps []sqldb.IdentifyParams
		for i := 0; i < 450; i++ { // more than one insert chunk
			ps = append(ps, sqldb.IdentifyParams{TenantID: tn.ID, Source: "import", Actor: sqldb.Actor{Actor: "test", RequestID: "req-bulk"},
				Identifiers: customer.IdentifierInput{Email: fmt.Sprintf("fresh%d@shop.hk", i),
					External: []customer.ExternalID{{Type: "pos", Value: fmt.Sprintf("P-%d", i)}}},
				Traits: customer.Traits{FirstName: str(fmt.Sprintf("Fresh%d", i)), LastName: str("Wong")}})
		}
		ps = append(ps,
			sqldb.IdentifyParams{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "old@shop.hk", Phone: "+85251234567"}},
			sqldb.IdentifyParams{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "gone@shop.hk"}})
		res, errs, err := db.IdentifyBatch(ctx, ps)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 450; i++ {
			if errs[i] != nil || !res[i].Created || len(res[i].Profile.Identifiers) != 2 {
				t.Fatalf("fresh item %d: %v %+v", i, errs[i], res[i])
			}
		}
		if errs[450] != nil || res[450].Profile.ID != old.Profile.ID || res[450].Created {
			t.Fatalf("matching item: %v", errs[450])
		}
		if !apperr.Is(errs[451], apperr.Conflict) {
			t.Fatalf("erased item: want conflict, got %v", errs[451])
		}
		p, err := db.FindCustomers(ctx, sqldb.CustomerFilter{TenantID: tn.ID, ExternalType: "pos", ExternalValue: "P-449", Limit: 2})
		if err != nil || len(p) != 1 || p[0].ID != res[449].Profile.ID || *p[0].Traits.FirstName != "Fresh449" {
			t.Fatalf("lookup of a fresh item: %+v %v", p, err)
		}
		byName, err := db.FindCustomers(ctx, sqldb.CustomerFilter{TenantID: tn.ID, Q: "fresh449 w", Limit: 5})
		if err != nil || len(byName) != 1 {
			t.Fatalf("name search of a fresh item: %d %v", len(byName), err)
		}
		audit, err := db.FindAuditEntries(ctx, sqldb.AuditFilter{TenantID: tn.ID, CustomerID: res[7].Profile.ID, Limit: 5})
		if err != nil || len(audit) != 1 || audit[0].Action != "created" || audit[0].RequestID != "req-bulk" || len(audit[0].Changes) != 4 {
			t.Fatalf("audit of a fresh item: %+v %v", audit, err)
		}
	})
}
