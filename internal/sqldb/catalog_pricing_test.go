package sqldb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// pricedShop is the loyalty world (sales channels pos and web, tiers
// member and gold) with a catalog and four HKD price lists: base for
// everyone (HK$399), web (HK$379), gold members (HK$329) and a spring sale
// from 1 to 15 March 2026 (HK$299, was HK$399).
type pricedShop struct {
	*loyaltyWorld
	lists map[string]catalog.PriceList
}

func openPricedShop(t *testing.T, e sqldb.Engine) *pricedShop {
	t.Helper()
	w := openLoyalty(t, e)
	s := &pricedShop{loyaltyWorld: w, lists: map[string]catalog.PriceList{}}
	ctx := context.Background()
	shop := newCatalogShop(t, w.db, w.tenantID)
	shop.product("LS", "Linen shirt", "亞麻襯衫", []string{"shirts"}, []string{"white"}, []string{"M", "L"})
	gc, err := w.db.CreateProduct(ctx, catalog.Product{TenantID: w.tenantID, Names: map[string]string{"zh-Hant": "禮品卡"},
		Categories: []string{"home"}, Variants: []catalog.Variant{{SKU: "GIFT-500", GiftCard: true, TaxCode: "exempt"}}})
	w.must(gc, err)
	draft, err := w.db.CreateProduct(ctx, catalog.Product{TenantID: w.tenantID, Status: catalog.StatusDraft, Names: map[string]string{"en": "Next season"},
		Variants: []catalog.Variant{{SKU: "NEXT-1"}}})
	w.must(draft, err)
	start, end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	for _, l := range []catalog.PriceList{
		{Code: "base-hkd", Name: "Base", Currency: "HKD", TaxInclusive: true},
		{Code: "web-hkd", Name: "Web", Currency: "HKD", SalesChannels: []string{"web"}, Priority: 10, TaxInclusive: true},
		{Code: "gold-hkd", Name: "Gold", Currency: "HKD", Tiers: []string{"gold"}, Priority: 20, TaxInclusive: true},
		{Code: "spring", Name: "Spring sale", Currency: "HKD", StartsAt: &start, EndsAt: &end, Priority: 30, TaxInclusive: true},
		{Code: "base-usd", Name: "USD", Currency: "USD"},
	} {
		l.TenantID = w.tenantID
		saved, err := w.db.CreatePriceList(ctx, l)
		w.must(saved, err)
		s.lists[l.Code] = saved
	}
	s.prices("base-hkd", catalog.Price{SKU: "LS-WHI-M", Amount: 39900}, catalog.Price{SKU: "LS-WHI-L", Amount: 39900},
		catalog.Price{SKU: "GIFT-500", Amount: 50000}, catalog.Price{SKU: "NEXT-1", Amount: 100})
	s.prices("web-hkd", catalog.Price{SKU: "LS-WHI-M", Amount: 37900})
	s.prices("gold-hkd", catalog.Price{SKU: "LS-WHI-M", Amount: 32900})
	s.prices("spring", catalog.Price{SKU: "LS-WHI-L", Amount: 29900, CompareAt: 39900})
	s.prices("base-usd", catalog.Price{SKU: "LS-WHI-M", Amount: 4900})
	return s
}

func (s *pricedShop) prices(list string, ps ...catalog.Price) {
	s.t.Helper()
	if _, err := s.db.SetPrices(context.Background(), s.tenantID, s.lists[list].ID, ps); err != nil {
		s.t.Fatal(err)
	}
}

func (s *pricedShop) price(q sqldb.PriceQuery) map[string]sqldb.SKUPrice {
	s.t.Helper()
	q.TenantID = s.tenantID
	if q.Currency == "" {
		q.Currency = "HKD"
	}
	out, err := s.db.PriceSKUs(context.Background(), s.db.Read(), q)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func TestCatalog_PriceSKUs(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openPricedShop(t, e)
			skus := []string{"LS-WHI-M", "LS-WHI-L", "GIFT-500", "NEXT-1", "NOPE", "LS-WHI-M"}
			after := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
			guest := s.price(sqldb.PriceQuery{SalesChannel: "pos", SKUs: skus, At: after})
			if len(guest) != 3 || guest["LS-WHI-M"].Amount != 39900 || guest["LS-WHI-M"].PriceListCode != "base-hkd" {
				t.Fatalf("guest at the till: %+v", guest)
			}
			m := guest["LS-WHI-M"]
			if m.Name != "Linen shirt" || m.Category != "shirts" || !m.TaxInclusive || m.Currency != "HKD" || m.VariantID == "" || m.ProductID == "" {
				t.Fatalf("facts: %+v", m)
			}
			if g := guest["GIFT-500"]; !g.GiftCard || g.TaxCode != "exempt" || g.Name != "禮品卡" || g.Category != "home" {
				t.Fatalf("gift card: %+v", g)
			}
			web := s.price(sqldb.PriceQuery{SalesChannel: "web", SKUs: skus, At: after})
			if web["LS-WHI-M"].Amount != 37900 || !strings.Contains(web["LS-WHI-M"].Rule, "web-hkd (priority 10) beat base-hkd") {
				t.Fatalf("guest online: %+v", web["LS-WHI-M"])
			}
			// During the sale, the sale list wins over the base, with its compare-at.
			sale := s.price(sqldb.PriceQuery{SalesChannel: "pos", SKUs: skus, At: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)})
			if l := sale["LS-WHI-L"]; l.Amount != 29900 || l.CompareAt != 39900 || l.PriceListCode != "spring" {
				t.Fatalf("sale: %+v", l)
			}
			usd := s.price(sqldb.PriceQuery{Currency: "USD", SKUs: skus, At: after})
			if len(usd) != 1 || usd["LS-WHI-M"].Amount != 4900 {
				t.Fatalf("USD: %+v", usd)
			}
			// A member: entry tier first; a HK$2,500 purchase makes her gold,
			// and the gold price applies at once.
			ann := s.customer("ann.prices@mail.hk")
			member := s.price(sqldb.PriceQuery{CustomerID: ann, SalesChannel: "web", SKUs: skus, At: after})
			if member["LS-WHI-M"].Amount != 37900 {
				t.Fatalf("member before gold: %+v", member["LS-WHI-M"])
			}
			s.buy(ann, "pos", line("BAG-1", "bags", 1, 250000))
			gold := s.price(sqldb.PriceQuery{CustomerID: ann, SalesChannel: "web", SKUs: skus, At: after})
			g := gold["LS-WHI-M"]
			if g.Amount != 32900 || g.PriceListCode != "gold-hkd" ||
				g.Rule != "member tier gold list gold-hkd (priority 20) beat web-hkd (priority 10), base-hkd (priority 0)" {
				t.Fatalf("gold: %+v", g)
			}
			// A merged customer is priced as the customer it was merged into.
			ctx := context.Background()
			phone, err := s.db.Identify(ctx, sqldb.IdentifyParams{TenantID: s.tenantID, Identifiers: customer.IdentifierInput{Phone: "+852 9123 4555"}})
			s.must(phone, err)
			merged, err := s.db.Identify(ctx, sqldb.IdentifyParams{TenantID: s.tenantID,
				Identifiers: customer.IdentifierInput{Email: "ann.prices@mail.hk", Phone: "+852 9123 4555"}})
			if err != nil || len(merged.Merged) != 1 {
				t.Fatalf("merge: %+v %v", merged, err)
			}
			for _, cid := range []string{ann, phone.Profile.ID} {
				if p := s.price(sqldb.PriceQuery{CustomerID: cid, SalesChannel: "web", SKUs: skus, At: after}); p["LS-WHI-M"].Amount != 32900 {
					t.Fatalf("customer %s after the merge: %+v", cid, p["LS-WHI-M"])
				}
			}
			// Inside a write transaction, through the caller's Tx.
			err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				p, err := s.db.PriceSKUs(ctx, tx, sqldb.PriceQuery{TenantID: s.tenantID, Currency: "HKD", SKUs: []string{"LS-WHI-M"}, At: after})
				if err == nil && p["LS-WHI-M"].Amount != 39900 {
					t.Errorf("in a transaction: %+v", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// Another tenant sees none of it.
			other := sqldbtest.Tenant(t, s.db)
			none, err := s.db.PriceSKUs(ctx, s.db.Read(), sqldb.PriceQuery{TenantID: other.ID, Currency: "HKD", SKUs: skus})
			if err != nil || len(none) != 0 {
				t.Fatalf("other tenant: %+v %v", none, err)
			}
		})
	}
}

func TestCatalog_PriceListsAndPrices(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openPricedShop(t, e)
			ctx := context.Background()
			_, err := s.db.CreatePriceList(ctx, catalog.PriceList{TenantID: s.tenantID, Code: "app", Name: "App", Currency: "HKD",
				SalesChannels: []string{"app"}, Tiers: []string{"platinum"}})
			wantKind(t, err, apperr.Invalid, "body.sales_channels[0]")
			wantKind(t, err, apperr.Invalid, "body.tiers[0]")
			_, err = s.db.CreatePriceList(ctx, catalog.PriceList{TenantID: s.tenantID, Code: "web-hkd", Name: "Again", Currency: "HKD"})
			wantKind(t, err, apperr.Conflict, "")
			_, err = s.db.SetPrices(ctx, s.tenantID, s.lists["web-hkd"].ID, []catalog.Price{{SKU: "LS-WHI-L", Amount: 100}, {SKU: "TYPO", Amount: 100}})
			wantKind(t, err, apperr.Invalid, "body.prices[1].sku")
			_, err = s.db.SetPrices(ctx, s.tenantID, s.lists["web-hkd"].ID, []catalog.Price{{SKU: "LS-WHI-L", Amount: 100, CompareAt: 50}})
			wantKind(t, err, apperr.Invalid, "body.prices[0].compare_at")
			_, err = s.db.UpdatePriceList(ctx, s.tenantID, s.lists["web-hkd"].ID, func(l *catalog.PriceList) { l.Currency = "USD" })
			wantKind(t, err, apperr.Invalid, "body.currency")
			up, err := s.db.UpdatePriceList(ctx, s.tenantID, s.lists["web-hkd"].ID, func(l *catalog.PriceList) { l.Status = catalog.ListInactive })
			if err != nil || up.Status != catalog.ListInactive {
				t.Fatalf("deactivate: %v %v", up.Status, err)
			}
			after := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
			if p := s.price(sqldb.PriceQuery{SalesChannel: "web", SKUs: []string{"LS-WHI-M"}, At: after}); p["LS-WHI-M"].PriceListCode != "base-hkd" {
				t.Fatalf("an inactive list priced: %+v", p)
			}
			ps, err := s.db.FindPrices(ctx, sqldb.PriceFilter{TenantID: s.tenantID, ListID: s.lists["base-hkd"].ID, Limit: 2, After: "GIFT-500"})
			if err != nil || len(ps) != 2 || ps[0].SKU != "LS-WHI-L" || ps[1].SKU != "LS-WHI-M" {
				t.Fatalf("prices page: %+v %v", ps, err)
			}
			if err := s.db.DeletePrice(ctx, s.tenantID, s.lists["base-hkd"].ID, "LS-WHI-L"); err != nil {
				t.Fatal(err)
			}
			wantKind(t, s.db.DeletePrice(ctx, s.tenantID, s.lists["base-hkd"].ID, "LS-WHI-L"), apperr.NotFound, "")
			if p := s.price(sqldb.PriceQuery{SKUs: []string{"LS-WHI-L"}, At: after}); len(p) != 0 {
				t.Fatalf("a deleted price priced: %+v", p)
			}
			other := sqldbtest.Tenant(t, s.db)
			_, err = s.db.FindPrices(ctx, sqldb.PriceFilter{TenantID: other.ID, ListID: s.lists["base-hkd"].ID, Limit: 2})
			wantKind(t, err, apperr.NotFound, "")
		})
	}
}
