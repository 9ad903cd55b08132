package sqldb_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func search(t *testing.T, db *sqldb.DB, tenantID, query string, limit int) sqldb.SearchResult {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	s, err := catalog.ParseSearch(v)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	res, err := db.SearchCatalog(context.Background(), sqldb.SearchParams{TenantID: tenantID, Search: s, Limit: limit})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

func skusOf(hits []sqldb.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.SKU
	}
	slices.Sort(out)
	return out
}

func TestCatalog_SearchFindsAndCounts(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		s := newCatalogShop(t, db, tn.ID)
		shirt := s.product("LS-1", "Linen shirt", "亞麻襯衫", []string{"shirts"}, []string{"white", "blue"}, []string{"M", "L"})
		s.product("DR-1", "Red summer dress", "紅色連衣裙", []string{"dresses"}, []string{"red"}, []string{"S", "M"})
		s.product("MUG-1", "White heart mug", "", []string{"home"}, []string{"white"}, []string{"one"})
		if _, err := db.UpdateProduct(ctx, tn.ID, shirt.ID, func(p *catalog.Product) { p.Variants[0].Barcode = "4006381333931" }); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			query string
			want  []string
		}{
			{"q=linen", []string{"LS-1-BLU-L", "LS-1-BLU-M", "LS-1-WHI-L", "LS-1-WHI-M"}},
			{"q=SHIRTS", nil},
			{"q=shi", []string{"LS-1-BLU-L", "LS-1-BLU-M", "LS-1-WHI-L", "LS-1-WHI-M"}},
			{"q=襯衫", []string{"LS-1-BLU-L", "LS-1-BLU-M", "LS-1-WHI-L", "LS-1-WHI-M"}},
			{"q=連衣裙", []string{"DR-1-RED-M", "DR-1-RED-S"}},
			{"q=裙", []string{"DR-1-RED-M", "DR-1-RED-S"}},
			{"q=ls-1-whi", []string{"LS-1-WHI-L", "LS-1-WHI-M"}},
			{"q=ls1whim", []string{"LS-1-WHI-M"}},
			{"q=4006381333931", []string{"LS-1-WHI-M"}},
			{"q=04006381333931", []string{"LS-1-WHI-M"}},
			{"q=white", []string{"LS-1-WHI-L", "LS-1-WHI-M", "MUG-1-WHI-one"}},
			{"q=white&category=women", []string{"LS-1-WHI-L", "LS-1-WHI-M"}},
			{"category=tops&attr.size=m", []string{"LS-1-BLU-M", "LS-1-WHI-M"}},
			{"attr.color=red&attr.color=blue&attr.size=M", []string{"DR-1-RED-M", "LS-1-BLU-M"}},
			{"attr.color=green", nil},
			{"attr.brand=omo&q=mug", []string{"MUG-1-WHI-one"}},
		}
		for _, tc := range cases {
			res := search(t, db, tn.ID, tc.query, 50)
			if got := skusOf(res.Hits); !slices.Equal(got, tc.want) || res.Total != len(tc.want) {
				t.Errorf("%s: got %v (total %d), want %v", tc.query, got, res.Total, tc.want)
			}
		}
		res := search(t, db, tn.ID, "facets=category,color,size", 2)
		if res.Total != 7 || len(res.Hits) != 2 {
			t.Fatalf("all: total %d, %d hits", res.Total, len(res.Hits))
		}
		want := map[string][]sqldb.FacetCount{
			"category": {{"women", 6}, {"shirts", 4}, {"tops", 4}, {"dresses", 2}, {"home", 1}},
			"color":    {{"white", 3}, {"blue", 2}, {"red", 2}},
			"size":     {{"m", 3}, {"l", 2}, {"one", 1}, {"s", 1}},
		}
		if !maps.EqualFunc(res.Facets, want, slices.Equal) {
			t.Fatalf("facets: %v", res.Facets)
		}
		// The index follows writes: a new name, an archived product.
		if _, err := db.UpdateProduct(ctx, tn.ID, shirt.ID, func(p *catalog.Product) { p.Names["en"] = "Hemp shirt" }); err != nil {
			t.Fatal(err)
		}
		if got := search(t, db, tn.ID, "q=linen", 50); got.Total != 0 {
			t.Errorf("old name still found: %v", skusOf(got.Hits))
		}
		if got := search(t, db, tn.ID, "q=hemp", 50); got.Total != 4 {
			t.Errorf("new name: %v", skusOf(got.Hits))
		}
		if _, err := db.ArchiveProduct(ctx, tn.ID, shirt.ID); err != nil {
			t.Fatal(err)
		}
		if got := search(t, db, tn.ID, "q=hemp", 50); got.Total != 0 {
			t.Errorf("archived product found: %v", skusOf(got.Hits))
		}
		if got := search(t, db, tn.ID, "q=hemp&status=archived", 50); got.Total != 4 || got.Hits[0].Status != "archived" {
			t.Errorf("archived search: %+v", got)
		}
		// Another tenant with the same words finds only its own.
		other := newCatalogShop(t, db, sqldbtest.Tenant(t, db).ID)
		other.product("LS-9", "Red linen scarf", "", []string{"home"}, []string{"red"}, []string{"one"})
		if got := search(t, db, other.tenantID, "q=red", 50); !slices.Equal(skusOf(got.Hits), []string{"LS-9-RED-one"}) {
			t.Errorf("other tenant: %v", skusOf(got.Hits))
		}
		if got := search(t, db, tn.ID, "q=scarf", 50); got.Total != 0 {
			t.Errorf("a tenant found another's scarf: %v", skusOf(got.Hits))
		}
	})
}

// TestCatalog_SearchAgreesWithBruteForce builds a random catalog and checks
// that random searches find exactly the variants a plain scan over the
// products finds, page by page, with the same facet counts.
func TestCatalog_SearchAgreesWithBruteForce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		newCatalogShop(t, db, tn.ID)
		r := rand.New(rand.NewPCG(7, 11))
		words := []string{"linen", "cotton", "heart", "hearts", "lantern", "candle", "red", "blue", "vintage", "bag"}
		zh := []string{"亞麻", "棉質", "心形", "燈籠", "蠟燭", "手袋", "連衣裙"}
		cats := []string{"women", "tops", "shirts", "dresses", "home"}
		var products []catalog.Product
		for i := range 60 {
			p := catalog.Product{TenantID: tn.ID, Handle: fmt.Sprintf("H%02d", i), Status: pickOne(r, []string{"active", "active", "active", "draft"}),
				Names:      map[string]string{"en": pickOne(r, words) + " " + pickOne(r, words), "zh-Hant": pickOne(r, zh) + pickOne(r, zh)},
				Categories: []string{pickOne(r, cats)}, Options: []string{"color", "size"}, Attributes: map[string]string{"fit": pickOne(r, []string{"slim", "loose"})}}
			for j := range 1 + r.IntN(3) {
				p.Variants = append(p.Variants, catalog.Variant{SKU: fmt.Sprintf("H%02d-%d", i, j), Status: pickOne(r, []string{"active", "active", "archived"}),
					Options: map[string]string{"color": pickOne(r, []string{"red", "blue"}), "size": fmt.Sprint(j)}})
			}
			res, err := db.UpsertProducts(ctx, tn.ID, []catalog.Product{p})
			if err != nil || res[0].Err != nil {
				t.Fatalf("upsert: %v %v", err, res[0].Err)
			}
			saved, err := db.FindProductByID(ctx, tn.ID, res[0].ProductID)
			if err != nil {
				t.Fatal(err)
			}
			products = append(products, saved)
		}
		parents := map[string]string{"women": "", "tops": "women", "shirts": "tops", "dresses": "women", "home": ""}
		for round := range 150 {
			v := url.Values{}
			if r.IntN(4) > 0 {
				q := pickOne(r, words)
				if r.IntN(3) == 0 {
					q = q[:2+r.IntN(len(q)-2)]
				}
				if r.IntN(3) == 0 {
					q = pickOne(r, zh)
				}
				v.Set("q", q)
			}
			if r.IntN(3) == 0 {
				v.Set("category", pickOne(r, cats))
			}
			if r.IntN(3) == 0 {
				v.Set("attr.color", pickOne(r, []string{"red", "blue"}))
			}
			if r.IntN(4) == 0 {
				v.Set("status", pickOne(r, []string{"draft", "archived", "any"}))
			}
			v.Set("facets", "category,color,fit")
			s, err := catalog.ParseSearch(v)
			if err != nil {
				t.Fatal(err)
			}
			want, wantFacets := bruteForce(products, parents, s)
			var got []string
			var after int64
			var first sqldb.SearchResult
			for page := 0; ; page++ {
				res, err := db.SearchCatalog(ctx, sqldb.SearchParams{TenantID: tn.ID, Search: s, Limit: 7, After: after})
				if err != nil {
					t.Fatal(err)
				}
				if page == 0 {
					first = res
				}
				for i, h := range res.Hits {
					if i > 0 && h.Doc >= res.Hits[i-1].Doc {
						t.Fatalf("round %d: hits not newest first", round)
					}
					got = append(got, h.SKU)
				}
				if len(res.Hits) < 7 {
					break
				}
				after = res.Hits[len(res.Hits)-1].Doc
			}
			slices.Sort(got)
			if !slices.Equal(got, want) || first.Total != len(want) {
				t.Fatalf("round %d %s: got %v (total %d), want %v", round, v.Encode(), got, first.Total, want)
			}
			for name, counts := range wantFacets {
				if !slices.Equal(first.Facets[name], counts) {
					t.Fatalf("round %d %s: facet %s = %v, want %v", round, v.Encode(), name, first.Facets[name], counts)
				}
			}
		}
	})
}

func pickOne[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// bruteForce answers a search by scanning every variant.
func bruteForce(products []catalog.Product, parents map[string]string, s catalog.Search) ([]string, map[string][]sqldb.FacetCount) {
	var found []string
	counts := map[string]map[string]int{"category": {}, "color": {}, "fit": {}}
	for _, p := range products {
		for _, v := range p.Variants {
			if !bruteKeeps(p, v, parents, s) {
				continue
			}
			found = append(found, v.SKU)
			seen := map[string]bool{}
			for _, c := range p.Categories {
				for _, a := range catalog.Ancestors(c, parents) {
					if !seen[a] {
						seen[a] = true
						counts["category"][a]++
					}
				}
			}
			fv := catalog.FacetValues(&p, &v)
			counts["color"][fv["color"]]++
			counts["fit"][fv["fit"]]++
		}
	}
	slices.Sort(found)
	facets := map[string][]sqldb.FacetCount{}
	for name, m := range counts {
		list := []sqldb.FacetCount{}
		for val, n := range m {
			list = append(list, sqldb.FacetCount{Value: val, Count: n})
		}
		slices.SortFunc(list, func(a, b sqldb.FacetCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		facets[name] = list
	}
	return found, facets
}

func bruteKeeps(p catalog.Product, v catalog.Variant, parents map[string]string, s catalog.Search) bool {
	status := catalog.EffectiveStatus(p.Status, v.Status)
	if s.Status != catalog.StatusAny && status != s.Status {
		return false
	}
	if s.Category != "" && !slices.ContainsFunc(p.Categories, func(c string) bool {
		return slices.Contains(catalog.Descendants(s.Category, parents), c)
	}) {
		return false
	}
	fv := catalog.FacetValues(&p, &v)
	for name, vals := range s.Attributes {
		if !slices.Contains(vals, fv[name]) {
			return false
		}
	}
	if s.Text.Empty() {
		return true
	}
	var texts []string
	for _, lang := range slices.Sorted(maps.Keys(p.Names)) {
		texts = append(texts, p.Names[lang])
	}
	for _, o := range p.Options {
		texts = append(texts, v.Options[o])
	}
	tokens := catalog.IndexTokens(texts, v.SKU, v.Barcode)
	for _, g := range s.Text.Groups {
		if !slices.ContainsFunc(g, func(term catalog.Term) bool {
			return !slices.ContainsFunc(tokens, func(tok string) bool {
				return tok == term.Token || term.Prefix && strings.HasPrefix(tok, term.Token)
			})
		}) {
			return true
		}
	}
	return false
}

// TestCatalog_SearchSeesOtherProcessesWrites: a second process (another
// DB on the same database) sees the first one's writes in its next search.
func TestCatalog_SearchSeesOtherProcessesWrites(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			u := sqldbtest.URL(t, e)
			one, err := sqldb.Open(ctx, u, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = one.Close() })
			if e == sqldb.SQLite {
				if err := one.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			two, err := sqldb.Open(ctx, u, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = two.Close() })
			tn := sqldbtest.Tenant(t, one)
			s := newCatalogShop(t, one, tn.ID)
			p := s.product("LAN-1", "Paper lantern", "紙燈籠", []string{"home"}, []string{"red"}, []string{"one"})
			if got := search(t, two, tn.ID, "q=燈籠&facets=color", 10); got.Total != 1 || got.Facets["color"][0].Value != "red" {
				t.Fatalf("second process, first search: %+v", got)
			}
			if _, err := one.UpdateProduct(ctx, tn.ID, p.ID, func(p *catalog.Product) { p.Variants[0].Options["color"] = "gold" }); err != nil {
				t.Fatal(err)
			}
			if got := search(t, two, tn.ID, "q=燈籠&facets=color", 10); got.Total != 1 || got.Facets["color"][0].Value != "gold" {
				t.Fatalf("second process after the edit: %+v", got)
			}
		})
	}
}

// TestCatalog_SearchAcrossChineseScripts finds a product named in
// Traditional characters by a search in Simplified ones and the other way
// round, as shoppers in Hong Kong, Taiwan and the mainland type them.
func TestCatalog_SearchAcrossChineseScripts(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		tn := sqldbtest.Tenant(t, db)
		s := newCatalogShop(t, db, tn.ID)
		s.product("LS-1", "Linen shirt", "亞麻襯衫", []string{"shirts"}, []string{"white"}, []string{"M"})  // Traditional
		s.product("KN-1", "Knit cardigan", "针织开衫", []string{"home"}, []string{"grey"}, []string{"one"}) // Simplified
		cases := []struct {
			query string
			want  []string
		}{
			{"q=襯衫", []string{"LS-1-WHI-M"}},
			{"q=衬衫", []string{"LS-1-WHI-M"}},
			{"q=亚麻衬衫", []string{"LS-1-WHI-M"}},
			{"q=针织", []string{"KN-1-GRE-one"}},
			{"q=針織開衫", []string{"KN-1-GRE-one"}},
			{"q=衫", []string{"KN-1-GRE-one", "LS-1-WHI-M"}},
			{"q=襯衫 linen", []string{"LS-1-WHI-M"}},
		}
		for _, tc := range cases {
			res := search(t, db, tn.ID, tc.query, 50)
			if got := skusOf(res.Hits); !slices.Equal(got, tc.want) || res.Total != len(tc.want) {
				t.Errorf("%s: got %v (total %d), want %v", tc.query, got, res.Total, tc.want)
			}
		}
	})
}
