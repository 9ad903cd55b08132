package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// catalogOf gives a shop categories (women > tops, home) and two products:
// a linen shirt in two colours and sizes, and a paper lantern whose SKU has
// a slash.
func (s *server) catalogOf(t *testing.T, key string) (shirt, lantern map[string]any) {
	t.Helper()
	for _, c := range []map[string]any{
		{"code": "women", "names": map[string]string{"en": "Women", "zh-Hant": "女裝"}},
		{"code": "tops", "parent": "women", "names": map[string]string{"en": "Tops"}},
		{"code": "home", "names": map[string]string{"en": "Home"}},
	} {
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/categories", key, c, nil)
	}
	var variants []map[string]any
	for _, color := range []string{"White", "Blue"} {
		for _, size := range []string{"M", "L"} {
			variants = append(variants, map[string]any{"sku": "LS-" + color[:1] + "-" + size, "options": map[string]string{"color": color, "size": size}})
		}
	}
	variants[0]["barcode"] = "4006381333931"
	shirt = s.must(t, http.StatusCreated, http.MethodPost, "/v1/products", key, map[string]any{
		"handle": "LS", "names": map[string]string{"en": "Linen shirt", "zh-Hant": "亞麻襯衫", "zh-Hans": "亚麻衬衫"},
		"descriptions": map[string]string{"en": "Breathable linen."}, "categories": []string{"tops"},
		"attributes": map[string]string{"material": "linen"}, "images": []string{"https://cdn.example.com/ls.jpg"},
		"options": []string{"color", "size"}, "variants": variants}, nil).JSON
	lantern = s.must(t, http.StatusCreated, http.MethodPost, "/v1/products", key, map[string]any{
		"names": map[string]string{"zh-Hant": "紙燈籠", "en": "Paper lantern"}, "categories": []string{"home"},
		"variants": []map[string]any{{"sku": "LAN/RED", "gift_card": false, "tax_code": "reduced"}}}, nil).JSON
	return shirt, lantern
}

func TestCatalogAPI_Products(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		shirt, _ := s.catalogOf(t, c.Secret)
		pid := shirt["id"].(string)
		if !strings.HasPrefix(pid, "prd_") || len(shirt["variants"].([]any)) != 4 || shirt["status"] != "active" {
			t.Fatalf("created: %v", shirt)
		}
		got := s.must(t, http.StatusOK, http.MethodGet, "/v1/products/"+pid, c.Secret, nil, nil)
		if got.JSON["names"].(map[string]any)["zh-Hans"] != "亚麻衬衫" || got.JSON["categories"].([]any)[0] != "tops" {
			t.Fatalf("get: %s", got)
		}
		// Problems name the field.
		bad := s.do(t, http.MethodPost, "/v1/products", c.Secret, map[string]any{"names": map[string]string{"en": "x"},
			"variants": []map[string]any{{"sku": "X-1", "barcode": "4006381333932"}}}, nil)
		if p := assertProblem(t, bad, http.StatusBadRequest); !slices.Contains(p.Locations(), "body.variants[0].barcode") {
			t.Fatalf("bad barcode: %s", bad)
		}
		clash := s.do(t, http.MethodPost, "/v1/products", c.Secret, map[string]any{"names": map[string]string{"en": "x"},
			"categories": []string{"shoes"}, "variants": []map[string]any{{"sku": "LS-W-M"}}}, nil)
		if p := assertProblem(t, clash, http.StatusConflict); !slices.Contains(p.Locations(), "body.variants[0].sku") ||
			!slices.Contains(p.Locations(), "body.categories[0]") {
			t.Fatalf("clash: %s", clash)
		}
		// A variant by SKU, slash and all.
		v := s.must(t, http.StatusOK, http.MethodGet, "/v1/variants/"+url.PathEscape("LAN/RED"), c.Secret, nil, nil)
		if v.JSON["sku"] != "LAN/RED" || v.JSON["tax_code"] != "reduced" || v.JSON["product"].(map[string]any)["names"].(map[string]any)["en"] != "Paper lantern" {
			t.Fatalf("variant: %s", v)
		}
		// Keep two variants: the others are archived, not lost.
		up := s.must(t, http.StatusOK, http.MethodPatch, "/v1/products/"+pid, c.Secret, map[string]any{
			"variants": []map[string]any{{"sku": "LS-W-M", "barcode": "4006381333931", "options": map[string]string{"color": "White", "size": "M"}},
				{"sku": "LS-B-M", "options": map[string]string{"color": "Blue", "size": "M"}}}}, nil)
		statuses := map[string]any{}
		for _, v := range up.JSON["variants"].([]any) {
			vm := v.(map[string]any)
			statuses[vm["sku"].(string)] = vm["status"]
		}
		if statuses["LS-W-M"] != "active" || statuses["LS-W-L"] != "archived" || len(statuses) != 4 {
			t.Fatalf("after patch: %v", statuses)
		}
		list := s.must(t, http.StatusOK, http.MethodGet, "/v1/products?limit=1", c.Secret, nil, nil)
		next := list.JSON["next_cursor"].(string)
		list2 := s.must(t, http.StatusOK, http.MethodGet, "/v1/products?limit=1&cursor="+next, c.Secret, nil, nil)
		if list.JSON["data"].([]any)[0].(map[string]any)["id"] == list2.JSON["data"].([]any)[0].(map[string]any)["id"] || list2.JSON["next_cursor"] != nil {
			t.Fatalf("pages: %s / %s", list, list2)
		}
		arch := s.must(t, http.StatusOK, http.MethodDelete, "/v1/products/"+pid, c.Secret, nil, nil)
		if arch.JSON["status"] != "archived" {
			t.Fatalf("archive: %s", arch)
		}
		// Scopes and tenants.
		reader := s.newKey(t, c.TenantID, "catalog:read")
		assertProblem(t, s.do(t, http.MethodPost, "/v1/categories", reader.Secret, map[string]any{"code": "x", "names": map[string]string{"en": "x"}}, nil), http.StatusForbidden)
		s.must(t, http.StatusOK, http.MethodGet, "/v1/products/"+pid, reader.Secret, nil, nil)
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/products/"+pid, other.Secret, nil, nil), http.StatusNotFound)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/variants/LS-W-M", other.Secret, nil, nil), http.StatusNotFound)
	})
}

func TestCatalogAPI_Categories(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		s.catalogOf(t, c.Secret)
		top := s.must(t, http.StatusOK, http.MethodGet, "/v1/categories?top_level=true", c.Secret, nil, nil)
		var codes []string
		var women string
		for _, x := range top.JSON["data"].([]any) {
			m := x.(map[string]any)
			codes = append(codes, m["code"].(string))
			if m["code"] == "women" {
				women = m["id"].(string)
			}
		}
		if !slices.Equal(codes, []string{"home", "women"}) {
			t.Fatalf("top level: %v", codes)
		}
		kids := s.must(t, http.StatusOK, http.MethodGet, "/v1/categories?parent=women", c.Secret, nil, nil)
		if d := kids.JSON["data"].([]any); len(d) != 1 || d[0].(map[string]any)["code"] != "tops" {
			t.Fatalf("children: %s", kids)
		}
		cycle := s.do(t, http.MethodPatch, "/v1/categories/"+women, c.Secret, map[string]any{"parent": "tops"}, nil)
		if p := assertProblem(t, cycle, http.StatusBadRequest); !strings.Contains(p.Errors[0].Message, "cycle") {
			t.Fatalf("cycle: %s", cycle)
		}
		assertProblem(t, s.do(t, http.MethodDelete, "/v1/categories/"+women, c.Secret, nil, nil), http.StatusConflict)
		renamed := s.must(t, http.StatusOK, http.MethodPatch, "/v1/categories/"+women, c.Secret, map[string]any{
			"names": map[string]string{"en": "Womenswear"}}, nil)
		if renamed.JSON["names"].(map[string]any)["en"] != "Womenswear" || renamed.JSON["code"] != "women" {
			t.Fatalf("rename: %s", renamed)
		}
	})
}

func TestCatalogAPI_Search(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		s.catalogOf(t, c.Secret)
		skus := func(r response) []string {
			var out []string
			for _, h := range r.JSON["data"].([]any) {
				out = append(out, h.(map[string]any)["sku"].(string))
			}
			slices.Sort(out)
			return out
		}
		r := s.must(t, http.StatusOK, http.MethodGet, "/v1/catalog/search?q="+url.QueryEscape("襯衫")+"&attr.color=white&facets=color,size,category&lang=zh-HK", c.Secret, nil, nil)
		if !slices.Equal(skus(r), []string{"LS-W-L", "LS-W-M"}) || r.JSON["total"].(float64) != 2 {
			t.Fatalf("search: %s", r)
		}
		hit := r.JSON["data"].([]any)[0].(map[string]any)
		facets := r.JSON["facets"].(map[string]any)
		if hit["name"] != "亞麻襯衫" || hit["image"] != "https://cdn.example.com/ls.jpg" ||
			len(facets["size"].([]any)) != 2 || facets["category"].([]any)[0].(map[string]any)["value"] != "tops" {
			t.Fatalf("hit or facets: %s", r)
		}
		if got := skus(s.must(t, http.StatusOK, http.MethodGet, "/v1/catalog/search?q=4006381333931", c.Secret, nil, nil)); !slices.Equal(got, []string{"LS-W-M"}) {
			t.Fatalf("barcode: %v", got)
		}
		if got := skus(s.must(t, http.StatusOK, http.MethodGet, "/v1/catalog/search?category=women&attr.size=l", c.Secret, nil, nil)); !slices.Equal(got, []string{"LS-B-L", "LS-W-L"}) {
			t.Fatalf("category and size: %v", got)
		}
		// Page through everything, two at a time.
		var all []string
		path := "/v1/catalog/search?limit=2"
		for range 5 {
			page := s.must(t, http.StatusOK, http.MethodGet, path, c.Secret, nil, nil)
			all = append(all, skus(page)...)
			next, ok := page.JSON["next_cursor"].(string)
			if !ok {
				break
			}
			path = "/v1/catalog/search?limit=2&cursor=" + next
		}
		slices.Sort(all)
		if !slices.Equal(all, []string{"LAN/RED", "LS-B-L", "LS-B-M", "LS-W-L", "LS-W-M"}) {
			t.Fatalf("pages: %v", all)
		}
		bad := s.do(t, http.MethodGet, "/v1/catalog/search?attr.Color=red&category=nope", c.Secret, nil, nil)
		if p := assertProblem(t, bad, http.StatusBadRequest); !slices.Contains(p.Locations(), "query.attr.Color") {
			t.Fatalf("bad filter: %s", bad)
		}
		unknown := s.do(t, http.MethodGet, "/v1/catalog/search?category=nope", c.Secret, nil, nil)
		if p := assertProblem(t, unknown, http.StatusBadRequest); !slices.Contains(p.Locations(), "query.category") {
			t.Fatalf("unknown category: %s", unknown)
		}
		assertProblem(t, s.do(t, http.MethodGet, "/v1/catalog/search?cursor=bm9wZQ", c.Secret, nil, nil), http.StatusBadRequest)
		other := s.newTenant(t)
		if r := s.must(t, http.StatusOK, http.MethodGet, "/v1/catalog/search?q=linen", other.Secret, nil, nil); r.JSON["total"].(float64) != 0 {
			t.Fatalf("another tenant found: %s", r)
		}
	})
}

func TestCatalogAPI_PriceFollowsTheTier(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		key := sh.Secret
		s.catalogOf(t, key)
		list := func(body map[string]any) string {
			return s.must(t, http.StatusCreated, http.MethodPost, "/v1/price_lists", key, body, nil).JSON["id"].(string)
		}
		base := list(map[string]any{"code": "base-hkd", "name": "Base", "currency": "HKD", "tax_inclusive": true})
		web := list(map[string]any{"code": "web-hkd", "name": "Web", "currency": "hkd", "sales_channels": []string{"web"}, "priority": 10, "tax_inclusive": true})
		gold := list(map[string]any{"code": "gold-hkd", "name": "Gold", "currency": "HKD", "tiers": []string{"gold"}, "priority": 20, "tax_inclusive": true})
		bad := s.do(t, http.MethodPost, "/v1/price_lists", key, map[string]any{"code": "x", "name": "x", "currency": "HKD", "tiers": []string{"platinum"}}, nil)
		if p := assertProblem(t, bad, http.StatusBadRequest); !slices.Contains(p.Locations(), "body.tiers[0]") {
			t.Fatalf("unknown tier: %s", bad)
		}
		setPrices := func(list string, prices ...map[string]any) {
			s.must(t, http.StatusOK, http.MethodPost, "/v1/price_lists/"+list+"/prices", key, map[string]any{"prices": prices}, nil)
		}
		setPrices(base, map[string]any{"sku": "LS-W-M", "amount": 39900}, map[string]any{"sku": "LAN/RED", "amount": 5900})
		setPrices(web, map[string]any{"sku": "LS-W-M", "amount": 37900, "compare_at": 39900})
		setPrices(gold, map[string]any{"sku": "LS-W-M", "amount": 32900})
		typo := s.do(t, http.MethodPost, "/v1/price_lists/"+base+"/prices", key, map[string]any{"prices": []map[string]any{{"sku": "LS-W-X", "amount": 1}}}, nil)
		if p := assertProblem(t, typo, http.StatusBadRequest); !slices.Contains(p.Locations(), "body.prices[0].sku") {
			t.Fatalf("unknown SKU: %s", typo)
		}
		page := s.must(t, http.StatusOK, http.MethodGet, "/v1/price_lists/"+base+"/prices", key, nil, nil)
		if d := page.JSON["data"].([]any); len(d) != 2 || d[0].(map[string]any)["sku"] != "LAN/RED" {
			t.Fatalf("prices: %s", page)
		}
		// A guest online gets the web price, with the rule that won.
		r := s.must(t, http.StatusOK, http.MethodGet, "/v1/prices/LS-W-M?currency=HKD&sales_channel=web", key, nil, nil)
		if r.JSON["price"].(map[string]any)["amount"].(float64) != 37900 || r.JSON["compare_at"].(map[string]any)["amount"].(float64) != 39900 ||
			r.JSON["rule"] != "sales channel web list web-hkd (priority 10) beat base-hkd (priority 0)" || r.JSON["category"] != "tops" {
			t.Fatalf("guest: %s", r)
		}
		// A customer who spends HK$6,000 becomes gold: the gold price at once.
		buyer := ids("email", email("gold"))
		big := sale("GOLD-1", buyer)
		big["lines"] = []map[string]any{{"sku": "BAG", "quantity": 1, "unit_price": 600000}}
		big["tenders"] = []map[string]any{{"type": "card", "amount": 600000}}
		cid := s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", key, big, nil).JSON["customer_id"].(string)
		g := s.must(t, http.StatusOK, http.MethodGet, "/v1/prices/LS-W-M?currency=HKD&sales_channel=web&customer_id="+cid, key, nil, nil)
		if g.JSON["price"].(map[string]any)["amount"].(float64) != 32900 || g.JSON["price_list"].(map[string]any)["code"] != "gold-hkd" ||
			!strings.HasPrefix(g.JSON["rule"].(string), "member tier gold list gold-hkd (priority 20) beat web-hkd") || g.JSON["compare_at"] != nil {
			t.Fatalf("gold: %s", g)
		}
		// No price: why.
		none := s.do(t, http.MethodGet, "/v1/prices/LS-B-L?currency=HKD", key, nil, nil)
		if p := assertProblem(t, none, http.StatusNotFound); !strings.Contains(p.Detail, "no HKD price list") {
			t.Fatalf("no price: %s", none)
		}
		assertProblem(t, s.do(t, http.MethodGet, "/v1/prices/NOPE?currency=HKD", key, nil, nil), http.StatusNotFound)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/prices/LS-W-M?currency=XXX", key, nil, nil), http.StatusBadRequest)
		// An inactive list stops pricing.
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/price_lists/"+web, key, map[string]any{"status": "inactive"}, nil)
		r = s.must(t, http.StatusOK, http.MethodGet, "/v1/prices/LS-W-M?currency=HKD&sales_channel=web", key, nil, nil)
		if r.JSON["price_list"].(map[string]any)["code"] != "base-hkd" {
			t.Fatalf("after deactivating web: %s", r)
		}
		s.must(t, http.StatusNoContent, http.MethodDelete, "/v1/price_lists/"+base+"/prices/"+url.PathEscape("LAN/RED"), key, nil, nil)
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/price_lists/"+base, other.Secret, nil, nil), http.StatusNotFound)
	})
}

// TestCatalogAPI_ImportOverHTTP uploads a products file and a prices file
// through /v1/imports: a key needs catalog:write beside imports:write, and
// every rejected row comes back with its reason.
func TestCatalogAPI_ImportOverHTTP(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/price_lists", c.Secret, map[string]any{"code": "base-hkd", "name": "Base", "currency": "HKD"}, nil)
		mapping := `{"kind":"products","fields":{"product":{"column":"style"},"sku":{"column":"sku"},"name.en":{"column":"en"},
			"name.zh-Hant":{"column":"zh"},"option.size":{"column":"size"},"barcode":{"column":"ean"}}}`
		file := "style,sku,en,zh,size,ean\nTEE,TEE-S,Cotton tee,棉質T恤,S,4006381333931\nTEE,TEE-M,,,M,4006381333932\nTEE,TEE-L,,,L,\n"
		importsOnly := s.newKey(t, c.TenantID, "imports:write", "imports:read")
		assertProblem(t, s.upload(t, importsOnly.Secret, "products.csv", []byte(file), map[string]string{"mapping": mapping}), http.StatusForbidden)
		im := s.runImport(t, c.caller(), s.upload(t, c.Secret, "products.csv", []byte(file), map[string]string{"mapping": mapping}))
		if got := counts(im); im["kind"] != "products" || got["accepted"] != 2 || got["rejected"] != 1 {
			t.Fatalf("products import: %v", im)
		}
		rej := s.must(t, http.StatusOK, http.MethodGet, "/v1/imports/"+im["id"].(string)+"/rejections", c.Secret, nil, nil)
		if !strings.Contains(string(rej.Raw), "check digit") || !strings.Contains(string(rej.Raw), "TEE-M") {
			t.Fatalf("rejections: %s", rej.Raw)
		}
		if r := s.must(t, http.StatusOK, http.MethodGet, "/v1/catalog/search?q="+url.QueryEscape("T恤"), c.Secret, nil, nil); r.JSON["total"].(float64) != 2 {
			t.Fatalf("search after the import: %s", r)
		}
		prices := `{"kind":"prices","fields":{"price_list":{"value":"base-hkd"},"sku":{"column":"sku"},"amount":{"column":"price"}}}`
		im = s.runImport(t, c.caller(), s.upload(t, c.Secret, "prices.csv", []byte("sku,price\nTEE-S,99.00\nTEE-M,99.00\n"), map[string]string{"mapping": prices}))
		if got := counts(im); got["accepted"] != 1 || got["rejected"] != 1 {
			t.Fatalf("prices import: %v", im)
		}
		r := s.must(t, http.StatusOK, http.MethodGet, "/v1/prices/TEE-S?currency=HKD", c.Secret, nil, nil)
		if r.JSON["price"].(map[string]any)["amount"].(float64) != 9900 || r.JSON["name"] != "Cotton tee" {
			t.Fatalf("price: %s", r)
		}
	})
}
