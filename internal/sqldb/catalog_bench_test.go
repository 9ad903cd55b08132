package sqldb_test

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
	"github.com/omo-platform/omo/internal/transaction"
)

// onlineRetail is the UCI Online Retail file (see shared/data/README.md):
// beside the checkout, or where OMO_SHARED_DATA points.
func onlineRetail() string {
	if dir := os.Getenv("OMO_SHARED_DATA"); dir != "" {
		return filepath.Join(dir, "online_retail.csv.gz")
	}
	return filepath.Join("..", "..", "..", "shared", "data", "online_retail.csv.gz")
}

// retailNames reads the distinct product descriptions of Online Retail.
func retailNames(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(onlineRetail())
	if err != nil {
		tb.Skipf("the Online Retail data set is not here (%v); see shared/data/README.md", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	r := csv.NewReader(gz)
	seen := map[string]bool{}
	var out []string
	if _, err := r.Read(); err != nil {
		tb.Fatal(err)
	}
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		d := strings.TrimSpace(rec[2])
		if d != "" && !seen[d] && strings.ContainsAny(d, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// chineseWords name, in Traditional and Simplified Chinese, the words that
// recur in Online Retail's descriptions: a product's Chinese names are its
// English name's words that have one, in order.
var chineseWords = map[string][2]string{
	"HEART": {"心形", "心形"}, "BAG": {"手袋", "手袋"}, "CANDLE": {"蠟燭", "蜡烛"}, "LANTERN": {"燈籠", "灯笼"}, "MUG": {"馬克杯", "马克杯"},
	"CHRISTMAS": {"聖誕", "圣诞"}, "VINTAGE": {"復古", "复古"}, "RED": {"紅色", "红色"}, "WHITE": {"白色", "白色"}, "PINK": {"粉紅色", "粉红色"},
	"BLUE": {"藍色", "蓝色"}, "GLASS": {"玻璃", "玻璃"}, "WOODEN": {"木製", "木制"}, "METAL": {"金屬", "金属"}, "BOX": {"盒子", "盒子"},
	"SET": {"套裝", "套装"}, "CAKE": {"蛋糕", "蛋糕"}, "TEA": {"茶", "茶"}, "CARD": {"卡片", "卡片"}, "HOLDER": {"座", "座"},
	"FRAME": {"相框", "相框"}, "CLOCK": {"時鐘", "时钟"}, "LIGHT": {"燈", "灯"}, "DOORMAT": {"地墊", "地垫"}, "CUSHION": {"咕𠱸", "靠垫"},
	"FLOWER": {"花", "花"}, "GARDEN": {"花園", "花园"}, "PAPER": {"紙", "纸"}, "BOTTLE": {"水瓶", "水瓶"}, "STAR": {"星星", "星星"},
	"CHILDRENS": {"兒童", "儿童"}, "KITCHEN": {"廚房", "厨房"}, "SIGN": {"標牌", "标牌"}, "DESIGN": {"設計", "设计"}, "RETROSPOT": {"圓點", "圆点"},
	"BIRD": {"雀鳥", "鸟"}, "HANGING": {"掛飾", "挂饰"}, "DECORATION": {"裝飾", "装饰"}, "WRAP": {"包裝紙", "包装纸"}, "NOTEBOOK": {"筆記本", "笔记本"},
}

var (
	benchColors = []string{"red", "blue", "green", "black", "white", "pink", "grey", "navy", "beige", "brown", "yellow", "purple"}
	benchSizes  = []string{"XS", "S", "M", "L", "XL"}
	benchBrands = []string{"Acme", "Bloom", "Cedar", "Dune", "Ember", "Fable", "Grove", "Harbor", "Iris", "Juniper"}
)

// benchCatalog is a tenant with n variants: products named after Online
// Retail's descriptions (with Chinese names from chineseWords), five
// variants each (a colour in five sizes), in 8 top categories of 5
// subcategories, with a brand and a valid EAN-13 on every variant.
type benchCatalog struct {
	tenantID string
	names    []string // English names used
	skus     []string
	barcodes []string
	leaves   []string
}

func loadBenchCatalog(b *testing.B, db *sqldb.DB, n int) *benchCatalog {
	b.Helper()
	ctx := context.Background()
	names := retailNames(b)
	bc := &benchCatalog{tenantID: sqldbtest.Tenant(b, db).ID}
	for top := range 8 {
		code := fmt.Sprintf("dept-%d", top)
		if _, err := db.CreateCategory(ctx, catalog.Category{TenantID: bc.tenantID, Code: code, Names: map[string]string{"en": code}}); err != nil {
			b.Fatal(err)
		}
		for sub := range 5 {
			leaf := fmt.Sprintf("%s-%d", code, sub)
			if _, err := db.CreateCategory(ctx, catalog.Category{TenantID: bc.tenantID, Code: leaf, Parent: code, Names: map[string]string{"en": leaf}}); err != nil {
				b.Fatal(err)
			}
			bc.leaves = append(bc.leaves, leaf)
		}
	}
	r := rand.New(rand.NewPCG(2026, 5))
	var batch []catalog.Product
	start := time.Now()
	for i := 0; i*len(benchSizes) < n; i++ {
		batch = append(batch, bc.product(r, i, names[i%len(names)]))
		if len(batch) == 500 {
			bc.flush(b, db, batch)
			batch = batch[:0]
		}
	}
	bc.flush(b, db, batch)
	b.Logf("loaded %d variants in %v", len(bc.skus), time.Since(start).Round(time.Millisecond))
	return bc
}

func (bc *benchCatalog) product(r *rand.Rand, i int, en string) catalog.Product {
	p := catalog.Product{Handle: fmt.Sprintf("P%06d", i), Names: map[string]string{"en": en},
		Categories: []string{bc.leaves[r.IntN(len(bc.leaves))]}, Options: []string{"color", "size"},
		Attributes: map[string]string{"brand": benchBrands[r.IntN(len(benchBrands))]}}
	var hant, hans strings.Builder
	for _, w := range strings.Fields(en) {
		if zh, ok := chineseWords[w]; ok {
			hant.WriteString(zh[0])
			hans.WriteString(zh[1])
		}
	}
	if hant.Len() > 0 {
		p.Names["zh-Hant"], p.Names["zh-Hans"] = hant.String(), hans.String()
	}
	color := benchColors[r.IntN(len(benchColors))]
	for _, size := range benchSizes {
		seq := len(bc.skus)
		body := fmt.Sprintf("489%09d", seq)
		ean := body + string(catalog.CheckDigit(body))
		sku := fmt.Sprintf("%s-%s-%s", p.Handle, strings.ToUpper(color[:3]), size)
		p.Variants = append(p.Variants, catalog.Variant{SKU: sku, Barcode: ean, Options: map[string]string{"color": color, "size": size}})
		bc.skus, bc.barcodes = append(bc.skus, sku), append(bc.barcodes, ean)
	}
	bc.names = append(bc.names, en)
	return p
}

func (bc *benchCatalog) flush(b *testing.B, db *sqldb.DB, batch []catalog.Product) {
	if len(batch) == 0 {
		return
	}
	res, err := db.UpsertProducts(context.Background(), bc.tenantID, batch)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || len(r.VariantErrs) > 0 {
			b.Fatalf("load: %v %v", r.Err, r.VariantErrs)
		}
	}
}

// queries is a mix of what shoppers and associates type, every one asking
// for four facets and a page of 20.
func (bc *benchCatalog) queries(r *rand.Rand, n int) []string {
	hans := make([]string, 0, len(chineseWords))
	for _, zh := range chineseWords {
		hans = append(hans, zh[0], zh[1])
	}
	slices.Sort(hans)
	word := func() string {
		ws := strings.Fields(bc.names[r.IntN(len(bc.names))])
		return strings.ToLower(ws[r.IntN(len(ws))])
	}
	out := make([]string, n)
	for i := range out {
		v := url.Values{"facets": {"category,color,size,brand"}}
		switch k := r.IntN(20); {
		case k < 6: // a word
			v.Set("q", word())
		case k < 9: // typing: a prefix
			w := word()
			v.Set("q", w[:min(len(w), 3)])
		case k < 11: // two words of one name
			ws := strings.Fields(strings.ToLower(bc.names[r.IntN(len(bc.names))]))
			v.Set("q", strings.Join(ws[:min(2, len(ws))], " "))
		case k < 13: // Chinese
			v.Set("q", hans[r.IntN(len(hans))])
		case k < 15: // a SKU, whole or its product part
			sku := bc.skus[r.IntN(len(bc.skus))]
			if r.IntN(2) == 0 {
				sku = sku[:7]
			}
			v.Set("q", sku)
		case k < 16: // a scanned barcode
			v.Set("q", bc.barcodes[r.IntN(len(bc.barcodes))])
		case k < 18: // browsing a category
			leaf := bc.leaves[r.IntN(len(bc.leaves))]
			if r.IntN(2) == 0 {
				leaf = leaf[:6]
			}
			v.Set("category", leaf)
		case k < 19: // a category, a colour and a word
			v.Set("category", bc.leaves[r.IntN(len(bc.leaves))][:6])
			v.Set("attr.color", benchColors[r.IntN(len(benchColors))])
			v.Set("q", word())
		default: // everything
		}
		out[i] = v.Encode()
	}
	return out
}

// BenchmarkCatalogSearch searches a catalog of 100,000 variants (set
// OMO_BENCH_VARIANTS for another size) with a mix of queries, each with
// four facets, and reports the latency's p50 and p99 in milliseconds.
// Loading the catalog is not timed. OMO_BENCH_SLOW=1 logs the slowest
// searches.
func BenchmarkCatalogSearch(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("OMO_BENCH_VARIANTS")); err == nil && v > 0 {
		n = v
	}
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := sqldbtest.Open(b, e)
			bc := loadBenchCatalog(b, db, n)
			qs := bc.queries(rand.New(rand.NewPCG(1, 2)), 4096)
			searches := make([]catalog.Search, len(qs))
			for i, q := range qs {
				v, _ := url.ParseQuery(q)
				s, err := catalog.ParseSearch(v)
				if err != nil {
					b.Fatalf("%s: %v", q, err)
				}
				searches[i] = s
			}
			ctx := context.Background()
			// The first search builds the facet index (a new process's
			// first search); it is logged, not timed.
			first := time.Now()
			if _, err := db.SearchCatalog(ctx, sqldb.SearchParams{TenantID: bc.tenantID, Search: searches[0], Limit: 20}); err != nil {
				b.Fatal(err)
			}
			b.Logf("first search (loads the facet index): %v", time.Since(first).Round(time.Millisecond))
			var took []time.Duration
			var found int
			i := 0
			for b.Loop() {
				start := time.Now()
				res, err := db.SearchCatalog(ctx, sqldb.SearchParams{TenantID: bc.tenantID, Search: searches[i%len(searches)], Limit: 20})
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				found += res.Total
				i++
			}
			if os.Getenv("OMO_BENCH_SLOW") != "" { // which searches make the tail
				idx := make([]int, len(took))
				for k := range idx {
					idx[k] = k
				}
				slices.SortFunc(idx, func(a, c int) int { return int(took[c] - took[a]) })
				for _, k := range idx[:min(30, len(idx))] {
					b.Logf("%v %s", took[k], qs[k%len(qs)])
				}
			}
			slices.Sort(took)
			ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))]) / 1e6 }
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(float64(found)/float64(len(took)), "found/op")
		})
	}
}

// BenchmarkPriceSKUs prices a three-line cart for a member, as checkout
// does, in a catalog of 2,000 SKUs with four price lists (base, web, a
// member tier, a sale), and reports the latency's p50 and p99 in
// microseconds.
func BenchmarkPriceSKUs(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := sqldbtest.Open(b, e)
			ctx := context.Background()
			tenantID, member := pricedBenchShop(b, db)
			r := rand.New(rand.NewPCG(3, 4))
			var took []time.Duration
			for b.Loop() {
				skus := []string{fmt.Sprintf("S%05d", r.IntN(2000)), fmt.Sprintf("S%05d", r.IntN(2000)), fmt.Sprintf("S%05d", r.IntN(2000))}
				start := time.Now()
				got, err := db.PriceSKUs(ctx, db.Read(), sqldb.PriceQuery{TenantID: tenantID, CustomerID: member, SalesChannel: "web", Currency: "HKD", SKUs: skus})
				took = append(took, time.Since(start))
				if err != nil || got[skus[0]].PriceListCode != "gold-hkd" {
					b.Fatalf("%+v %v", got[skus[0]], err)
				}
			}
			slices.Sort(took)
			us := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))]) / 1e3 }
			b.ReportMetric(us(0.50), "p50-µs")
			b.ReportMetric(us(0.99), "p99-µs")
		})
	}
}

// pricedBenchShop is a tenant with a web sales channel, a gold tier and a
// member in it, 2,000 SKUs and four price lists pricing all of them.
func pricedBenchShop(b *testing.B, db *sqldb.DB) (tenantID, member string) {
	b.Helper()
	ctx := context.Background()
	tenantID = sqldbtest.Tenant(b, db).ID
	must := func(_ any, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(apperr.Summary(err))
		}
	}
	must(db.CreateLocation(ctx, location.Location{TenantID: tenantID, Code: "HK-1", Type: location.TypeStore,
		Names: map[string]string{"en": "Store"}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open"}))
	must(db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: tenantID, Code: "web", Type: location.ChannelWeb, Names: map[string]string{"en": "Web"}, Active: true}))
	must(db.SaveLoyaltyProgram(ctx, loyalty.DefaultProgram(tenantID, "HKD")))
	must(db.SaveLoyaltyTier(ctx, loyalty.Tier{TenantID: tenantID, Code: "member", Name: "Member", Multiplier: 1000}))
	must(db.SaveLoyaltyTier(ctx, loyalty.Tier{TenantID: tenantID, Code: "gold", Name: "Gold", Rank: 1, Threshold: 100000, Multiplier: 1000}))
	r, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tenantID, Identifiers: customer.IdentifierInput{Email: "bench.member@mail.hk"}})
	must(r, err)
	member = r.Profile.ID
	must(db.RecordTransaction(ctx, sqldb.RecordParams{TenantID: tenantID, Kind: transaction.KindPurchase, SalesChannelCode: "web",
		ReceiptNumber: "1", Currency: "HKD", OccurredAt: time.Now().Add(-time.Hour), TaxInclusive: true, CustomerID: member,
		Lines: []transaction.Line{{SKU: "X", Quantity: 1, UnitPrice: 200000}}}))
	var ps []catalog.Product
	for i := range 2000 {
		ps = append(ps, catalog.Product{Handle: fmt.Sprintf("P%05d", i), Names: map[string]string{"en": fmt.Sprintf("Product %d", i)},
			Variants: []catalog.Variant{{SKU: fmt.Sprintf("S%05d", i)}}})
	}
	must(db.UpsertProducts(ctx, tenantID, ps))
	sale := time.Now().Add(-24 * time.Hour)
	for _, l := range []catalog.PriceList{{Code: "base-hkd"}, {Code: "web-hkd", SalesChannels: []string{"web"}, Priority: 10},
		{Code: "gold-hkd", Tiers: []string{"gold"}, Priority: 20}, {Code: "sale", StartsAt: &sale, Priority: 5}} {
		l.TenantID, l.Name, l.Currency = tenantID, l.Code, "HKD"
		saved, err := db.CreatePriceList(ctx, l)
		must(saved, err)
		for start := 0; start < 2000; start += 1000 {
			var prices []catalog.Price
			for i := start; i < start+1000; i++ {
				prices = append(prices, catalog.Price{SKU: fmt.Sprintf("S%05d", i), Amount: int64(10000 + i)})
			}
			must(db.SetPrices(ctx, tenantID, saved.ID, prices))
		}
	}
	return tenantID, member
}
