package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/ingest"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

const productsMapping = `{"kind":"products","fields":{"product":{"column":"style"},"sku":{"column":"sku"},
	"name.en":{"column":"name_en"},"name.zh-Hant":{"column":"name_zh_hant"},"name.zh-Hans":{"column":"name_zh_hans"},
	"categories":{"column":"category"},"option.color":{"column":"colour"},"option.size":{"column":"size"},"barcode":{"column":"ean"},
	"attributes.material":{"column":"material"},"images":{"column":"image"},"gift_card":{"column":"gift"}}}`

const pricesMapping = `{"kind":"prices","fields":{"price_list":{"column":"list"},"sku":{"column":"sku"},"amount":{"column":"price"},"compare_at":{"column":"was"}}}`

// runCatalogImport stores a file as an import of the tenant, runs it and
// returns it with its rejections by line.
func runCatalogImport(t *testing.T, db *sqldb.DB, tenantID, kind, mapping string, file []byte) (sqldb.Import, map[int64]string) {
	t.Helper()
	ctx := context.Background()
	var m ingest.Mapping
	if err := json.Unmarshal([]byte(mapping), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	im, err := db.CreateImport(ctx, sqldb.CreateImportParams{TenantID: tenantID, Kind: kind, Mapping: mapping, File: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Run(ctx, db, tenantID, im.ID); err != nil {
		t.Fatal(err)
	}
	if im, err = db.FindImportByID(ctx, tenantID, im.ID); err != nil {
		t.Fatal(err)
	}
	rejected := map[int64]string{}
	_ = db.EachImportRejection(ctx, tenantID, im.ID, func(r sqldb.Rejection) error {
		rejected[r.Line] = r.Reason
		return nil
	})
	return im, rejected
}

// catalogTenant is a tenant with the categories shirts, dresses and gifts,
// a web sales channel, and price lists base-hkd, web-hkd (web) and base-jpy.
func catalogTenant(t *testing.T, db *sqldb.DB) string {
	t.Helper()
	ctx := context.Background()
	tn := sqldbtest.Tenant(t, db)
	for _, c := range []string{"shirts", "dresses", "gifts"} {
		if _, err := db.CreateCategory(ctx, catalog.Category{TenantID: tn.ID, Code: c, Names: map[string]string{"en": c}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: tn.ID, Code: "web", Type: location.ChannelWeb,
		Names: map[string]string{"en": "Web"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []catalog.PriceList{{Code: "base-hkd", Currency: "HKD"}, {Code: "web-hkd", Currency: "HKD", SalesChannels: []string{"web"}, Priority: 10},
		{Code: "base-jpy", Currency: "JPY"}} {
		l.TenantID, l.Name = tn.ID, l.Code
		if _, err := db.CreatePriceList(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	return tn.ID
}

func TestRun_ProductsAndPrices(t *testing.T) {
	t.Parallel()
	products, err := os.ReadFile("testdata/catalog/products.csv")
	if err != nil {
		t.Fatal(err)
	}
	prices, err := os.ReadFile("testdata/catalog/prices.csv")
	if err != nil {
		t.Fatal(err)
	}
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tenantID := catalogTenant(t, db)
		im, rejected := runCatalogImport(t, db, tenantID, "products", productsMapping, products)
		if im.Status != "completed" || im.RowsRead != 10 || im.Accepted != 4 || im.Rejected != 6 {
			t.Fatalf("products import: %+v, rejections %v", im, rejected)
		}
		want := map[int64]string{
			4:  "check digit",               // LS-01-BLU-M's barcode
			6:  "has this SKU already",      // DR-02-RED-S twice
			7:  "not a handle",              // "BAD 03"
			8:  "no category has this code", // kitchen
			10: "gift_card \"maybe\"",
			11: "product is empty",
		}
		for line, part := range want {
			if !strings.Contains(rejected[line], part) {
				t.Errorf("line %d: rejection %q, want it to say %q", line, rejected[line], part)
			}
		}
		if len(rejected) != len(want) {
			t.Errorf("rejections %v", rejected)
		}
		shirt, i, err := db.FindVariantBySKU(ctx, tenantID, "LS-01-WHT-L")
		if err != nil || shirt.Names["zh-Hant"] != "亞麻襯衫" || shirt.Categories[0] != "shirts" || len(shirt.Variants) != 2 ||
			shirt.Variants[i].Options["size"] != "L" || shirt.Attributes["material"] != "linen" || shirt.Images[0] != "https://cdn.example.com/ls-01.jpg" {
			t.Fatalf("the shirt: %+v %v", shirt, err)
		}
		gift, i, err := db.FindVariantBySKU(ctx, tenantID, "GIFT-05-500")
		if err != nil || !gift.Variants[i].GiftCard {
			t.Fatalf("gift card: %+v %v", gift, err)
		}
		// The same file again doubles nothing, and leaves a product
		// archived since archived (the file says no status).
		dress, _, _ := db.FindVariantBySKU(ctx, tenantID, "DR-02-RED-S")
		if _, err := db.ArchiveProduct(ctx, tenantID, dress.ID); err != nil {
			t.Fatal(err)
		}
		again, _ := runCatalogImport(t, db, tenantID, "products", productsMapping, products)
		all, err := db.FindProducts(ctx, sqldb.ProductFilter{TenantID: tenantID, Limit: 10})
		if again.Accepted != 4 || err != nil || len(all) != 3 {
			t.Fatalf("second import: %+v, %d products %v", again, len(all), err)
		}
		if dress, _, _ = db.FindVariantBySKU(ctx, tenantID, "DR-02-RED-S"); dress.Status != catalog.StatusArchived {
			t.Fatalf("the archived dress is %s after the import", dress.Status)
		}
		im, rejected = runCatalogImport(t, db, tenantID, "prices", pricesMapping, prices)
		if im.Status != "completed" || im.Accepted != 4 || im.Rejected != 5 {
			t.Fatalf("prices import: %+v, rejections %v", im, rejected)
		}
		want = map[int64]string{5: "more decimals", 6: "no variant has SKU", 7: "no price list has this code", 8: "compare_at", 10: "more decimals"}
		for line, part := range want {
			if !strings.Contains(rejected[line], part) {
				t.Errorf("line %d: rejection %q, want it to say %q", line, rejected[line], part)
			}
		}
		got, err := db.PriceSKUs(ctx, db.Read(), sqldb.PriceQuery{TenantID: tenantID, SalesChannel: "web", Currency: "HKD",
			SKUs: []string{"LS-01-WHT-M", "LS-01-WHT-L"}})
		if err != nil || got["LS-01-WHT-M"].Amount != 37950 || got["LS-01-WHT-M"].CompareAt != 39900 || got["LS-01-WHT-L"].Amount != 39900 {
			t.Fatalf("prices: %+v %v", got, err)
		}
		jpy, _ := db.PriceSKUs(ctx, db.Read(), sqldb.PriceQuery{TenantID: tenantID, Currency: "JPY", SKUs: []string{"LS-01-WHT-M"}})
		if jpy["LS-01-WHT-M"].Amount != 5000 {
			t.Fatalf("yen: %+v", jpy)
		}
	})
}

func TestRun_ProductsJSONLines(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		tenantID := catalogTenant(t, db)
		mapping := `{"kind":"products","format":"jsonl","fields":{"product":{"column":"style"},"sku":{"column":"sku"},
			"name.en":{"column":"name"},"categories":{"column":"categories"},"images":{"column":"images"},"option.size":{"column":"size"},
			"options":{"value":"size"},"status":{"value":"draft"}}}`
		file := `{"style":"TEE","sku":"TEE-S","name":"Tee","categories":"shirts|gifts","images":["https://x.example/a.jpg","https://x.example/b.jpg"],"size":"S"}
{"style":"TEE","sku":"TEE-M","size":"M"}
{"style":"TEE","sku":"TEE-L","size":"L","images":"not a url"}
not json
`
		im, rejected := runCatalogImport(t, db, tenantID, "products", mapping, []byte(file))
		if im.Accepted != 2 || im.Rejected != 2 || !strings.Contains(rejected[3], "images[0]") || !strings.Contains(rejected[4], "JSON") {
			t.Fatalf("import %+v, rejections %v", im, rejected)
		}
		p, _, err := db.FindVariantBySKU(context.Background(), tenantID, "TEE-M")
		if err != nil || p.Status != "draft" || len(p.Images) != 2 || len(p.Categories) != 2 {
			t.Fatalf("tee: %+v %v", p, err)
		}
	})
}

// TestRun_OnlineRetailCatalog imports the catalog of the real Online
// Retail file: one row per stock code (its first description), a style
// per code without its colour letter (85123A and 85123B are two variants
// of 85123), then each code's first unit price in pounds.
func TestRun_OnlineRetailCatalog(t *testing.T) {
	t.Parallel()
	productsCSV, pricesCSV, codes := retailCatalogCSV(t)
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		if _, err := db.CreatePriceList(ctx, catalog.PriceList{TenantID: tn.ID, Code: "uk-gbp", Name: "UK", Currency: "GBP", TaxInclusive: true}); err != nil {
			t.Fatal(err)
		}
		mapping := `{"kind":"products","fields":{"product":{"column":"style"},"sku":{"column":"sku"},"name.en":{"column":"name"},
			"option.variant":{"column":"letter"}}}`
		im, rejected := runCatalogImport(t, db, tn.ID, "products", mapping, productsCSV)
		t.Logf("%s: %d stock codes: %d accepted, %d rejected", db.Engine(), codes, im.Accepted, im.Rejected)
		if im.Status != "completed" || im.RowsRead != int64(codes) || im.Accepted+im.Rejected != im.RowsRead || im.Accepted < 3800 ||
			int64(len(rejected)) != im.Rejected {
			t.Fatalf("products: %+v", im)
		}
		reasons := map[string]int{}
		for _, reason := range rejected {
			k := reason
			if len(k) > 60 {
				k = k[:60]
			}
			reasons[k]++
		}
		t.Logf("DBG %d %v", len(rejected), reasons)
		for line, reason := range rejected {
			if reason == "" {
				t.Fatalf("line %d rejected without a reason", line)
			}
		}
		heart, _, err := db.FindVariantBySKU(ctx, tn.ID, "85123A")
		if err != nil || heart.Handle != "85123" || !strings.Contains(heart.Names["en"], "HANGING HEART") {
			t.Fatalf("85123A: %+v %v", heart, err)
		}
		s, _ := catalog.ParseSearch(map[string][]string{"q": {"hanging heart t-light"}})
		res, err := db.SearchCatalog(ctx, sqldb.SearchParams{TenantID: tn.ID, Search: s, Limit: 50})
		if err != nil || !containsSKU(res.Hits, "85123A") {
			t.Fatalf("search: %+v %v", res.Hits, err)
		}
		pm := `{"kind":"prices","fields":{"price_list":{"value":"uk-gbp"},"sku":{"column":"sku"},"amount":{"column":"price"}}}`
		pim, _ := runCatalogImport(t, db, tn.ID, "prices", pm, pricesCSV)
		if pim.Status != "completed" || pim.Accepted == 0 || pim.Accepted+pim.Rejected != int64(codes) {
			t.Fatalf("prices: %+v", pim)
		}
		got, err := db.PriceSKUs(ctx, db.Read(), sqldb.PriceQuery{TenantID: tn.ID, Currency: "GBP", SKUs: []string{"85123A"}})
		if err != nil || got["85123A"].Amount != 255 || got["85123A"].PriceListCode != "uk-gbp" {
			t.Fatalf("85123A's price: %+v %v", got, err)
		}
	})
}

func containsSKU(hits []sqldb.SearchHit, sku string) bool {
	for _, h := range hits {
		if h.SKU == sku {
			return true
		}
	}
	return false
}

// retailCatalogCSV reads Online Retail into a products CSV and a prices
// CSV, one row per stock code in the order the codes first appear.
func retailCatalogCSV(t *testing.T) (products, prices []byte, codes int) {
	t.Helper()
	raw, err := os.ReadFile(sharedData("online_retail.csv.gz"))
	if os.IsNotExist(err) {
		t.Skip("../shared/data/online_retail.csv.gz is absent (see ../shared/data/README.md)")
	}
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(gz)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	type item struct{ name, price string }
	seen := map[string]*item{}
	var order []string
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		code, desc, price := rec[1], strings.TrimSpace(rec[2]), rec[5]
		it, ok := seen[code]
		if !ok {
			it = &item{price: price}
			seen[code] = it
			order = append(order, code)
		}
		if it.name == "" {
			it.name = desc
		}
	}
	var pb, qb bytes.Buffer
	pw, qw := csv.NewWriter(&pb), csv.NewWriter(&qb)
	_ = pw.Write([]string{"style", "sku", "letter", "name"})
	_ = qw.Write([]string{"sku", "price"})
	for _, code := range order {
		style := strings.TrimRightFunc(code, unicode.IsLetter)
		if style == "" || strings.Trim(style, "0123456789") != "" {
			style = code
		}
		_ = pw.Write([]string{style, code, strings.TrimPrefix(code, style), seen[code].name})
		_ = qw.Write([]string{code, seen[code].price})
	}
	pw.Flush()
	qw.Flush()
	return pb.Bytes(), qb.Bytes(), len(order)
}
