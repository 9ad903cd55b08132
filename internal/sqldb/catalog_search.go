package sqldb

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
)

// SearchParams is a catalog search of one tenant.
type SearchParams struct {
	TenantID string
	catalog.Search
	Limit int   // hits to return
	After int64 // the Doc of the last hit of the previous page; 0 from the start
}

// SearchHit is one variant found, newest first.
type SearchHit struct {
	Doc        int64 // the variant's place in the index: the cursor
	VariantID  string
	SKU        string
	Barcode    string
	ProductID  string
	Handle     string
	Names      map[string]string
	Options    map[string]string
	Status     string // the variant's, or the product's when that is not active
	Categories []string
	Image      string // the variant's first image, or the product's
}

// FacetCount is how many variants found have one value.
type FacetCount struct {
	Value string
	Count int
}

// SearchResult is a page of hits, the total found, and facet counts over
// everything found (not just the page).
type SearchResult struct {
	Hits   []SearchHit
	Total  int
	Facets map[string][]FacetCount // by facet name, most frequent first
}

// maxFacetValues bounds the values shown per facet.
const maxFacetValues = 50

// SearchCatalog finds variants by text (names in every language, SKU,
// barcode), category (with the categories below it) and attribute values,
// newest first, with facet counts.
func (db *DB) SearchCatalog(ctx context.Context, p SearchParams) (SearchResult, error) {
	ts, err := db.searchIndex(ctx, p.TenantID)
	if err != nil {
		return SearchResult{}, err
	}
	var matched []int64
	all := p.Text.Empty()
	if !all {
		ts.mu.RLock()
		slot := ts.slot
		ts.mu.RUnlock()
		if matched, err = db.textMatches(ctx, p.TenantID, slot, p.Text); err != nil {
			return SearchResult{}, err
		}
	}
	page, res, err := ts.filterAndCount(p.Search, matched, all, p.After, p.Limit)
	if err != nil {
		return res, err
	}
	res.Hits, err = loadHits(ctx, db.Read(), p.TenantID, page)
	return res, err
}

// textMatches asks the database's text index for the docs of the tenant
// that match the text.
func (db *DB) textMatches(ctx context.Context, tenantID string, slot int64, q catalog.TextQuery) ([]int64, error) {
	if db.engine == Postgres {
		docs := []int64{}
		err := db.Read().QueryRow(ctx, `SELECT COALESCE(array_agg(doc), '{}') FROM catalog_search WHERE tenant_id = $1 AND tokens @@ $2::tsquery`,
			tenantID, tsQuery(tenantID, q)).Scan(&docs)
		return docs, err
	}
	var list string
	if err := db.Read().QueryRow(ctx, `SELECT COALESCE(group_concat(rowid), '') FROM catalog_search
		WHERE catalog_search MATCH $1 AND rowid BETWEEN $2 AND $3`, ftsQuery(q), slot<<docBits, slot<<docBits|(1<<docBits-1)).Scan(&list); err != nil {
		return nil, err
	}
	return parseDocList(list)
}

func parseDocList(list string) ([]int64, error) {
	if list == "" {
		return []int64{}, nil // found nothing (nil would mean everything)
	}
	docs := make([]int64, 0, strings.Count(list, ",")+1)
	for s := range strings.SplitSeq(list, ",") {
		d, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqldb: text index doc %q: %w", s, err)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// ftsQuery writes a text query in FTS5's syntax: groups ORed, terms ANDed,
// each token quoted.
func ftsQuery(q catalog.TextQuery) string {
	groups := make([]string, len(q.Groups))
	for i, g := range q.Groups {
		terms := make([]string, len(g))
		for j, t := range g {
			terms[j] = `"` + strings.ReplaceAll(t.Token, `"`, `""`) + `"`
			if t.Prefix {
				terms[j] += "*"
			}
		}
		groups[i] = "(" + strings.Join(terms, " AND ") + ")"
	}
	return strings.Join(groups, " OR ")
}

// tsQuery writes a text query as a PostgreSQL tsquery, with the tenant's
// own lexeme.
func tsQuery(tenantID string, q catalog.TextQuery) string {
	quote := func(s string) string {
		return "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(s) + "'"
	}
	groups := make([]string, len(q.Groups))
	for i, g := range q.Groups {
		terms := make([]string, len(g))
		for j, t := range g {
			terms[j] = quote(t.Token)
			if t.Prefix {
				terms[j] += ":*"
			}
		}
		groups[i] = "(" + strings.Join(terms, " & ") + ")"
	}
	return quote(tenantLexeme(tenantID)) + " & (" + strings.Join(groups, " | ") + ")"
}

// searchFilter is a search's filters in the index's ids.
type searchFilter struct {
	status     uint8 // 0: any
	cats       []bool
	attrs      [][]int32 // per attribute name: the pair ids accepted
	none       bool      // a filter value the index has never seen: nothing matches
	nameIDs    []bool    // by attribute name id: a facet to count
	countPairs bool      // some attribute facet is asked for
}

func (ts *tenantSearch) compile(s catalog.Search) (searchFilter, error) {
	f := searchFilter{status: statusCodes[s.Status]}
	if s.Category != "" {
		if _, ok := ts.parents[s.Category]; !ok {
			return f, apperr.Field("query.category", "no category has this code", s.Category)
		}
		f.cats = make([]bool, len(ts.cats.strs))
		for _, c := range catalog.Descendants(s.Category, ts.parents) {
			if id, ok := ts.cats.lookup(c); ok { // every code of the tree is interned on load
				f.cats[id] = true
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Attributes)) {
		var ids []int32
		for _, v := range s.Attributes[name] {
			if p, ok := ts.pairs.lookup(name + "\x00" + v); ok {
				ids = append(ids, p)
			}
		}
		f.none = f.none || len(ids) == 0
		f.attrs = append(f.attrs, ids)
	}
	f.nameIDs = make([]bool, len(ts.names.strs))
	for _, name := range s.Facets {
		if n, ok := ts.names.lookup(name); ok && name != catalog.FacetCategory {
			f.nameIDs[n], f.countPairs = true, true
		}
	}
	return f, nil
}

func (f *searchFilter) keeps(d *docFacets) bool {
	if f.status != 0 && d.status != f.status {
		return false
	}
	if f.cats != nil && !slices.ContainsFunc(d.cats, func(c int32) bool { return int(c) < len(f.cats) && f.cats[c] }) {
		return false
	}
	for _, accepted := range f.attrs {
		if !slices.ContainsFunc(d.pairs, func(p int32) bool { return slices.Contains(accepted, p) }) {
			return false
		}
	}
	return true
}

// facetTally is what one pass over the found docs counts.
type facetTally struct {
	total int
	cats  []int // by category id
	pairs []int // by pair id
}

// filterAndCount goes through the matched docs (every doc when all),
// newest first, keeps those that pass the filters, counts the facets asked
// for over them, and returns the page of up to limit docs below after.
// Searches without text are the same few (a category page, everything)
// again and again: their tally is kept until the catalog changes, and
// their page is read from the cursor on, stopping when it is full.
func (ts *tenantSearch) filterAndCount(s catalog.Search, matched []int64, all bool, after int64, limit int) ([]int64, SearchResult, error) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	res := SearchResult{Facets: map[string][]FacetCount{}}
	f, err := ts.compile(s)
	if err != nil || f.none {
		return nil, res, err
	}
	var tally *facetTally
	var page []int64
	if all {
		tally = ts.memoTally(s, &f)
		page = ts.firstPage(&f, after, limit)
	} else {
		tally, page = ts.tally(ts.positions(matched), &f, slices.Contains(s.Facets, catalog.FacetCategory), after, limit)
	}
	res.Total = tally.total
	res.Facets = ts.facetLists(s.Facets, tally)
	return page, res, nil
}

// tally counts the docs at positions (newest first) that pass f, and picks
// the page below after.
func (ts *tenantSearch) tally(positions []int, f *searchFilter, countCats bool, after int64, limit int) (*facetTally, []int64) {
	t := &facetTally{cats: make([]int, len(ts.cats.strs)), pairs: make([]int, len(ts.pairs.strs))}
	stamp := make([]int, len(ts.cats.strs))
	var page []int64
	for _, pos := range positions {
		d := &ts.facets[pos]
		if !f.keeps(d) {
			continue
		}
		t.total++
		if doc := ts.docs[pos]; len(page) < limit && (after == 0 || doc < after) {
			page = append(page, doc)
		}
		if countCats {
			ts.countCategories(d, t.total, t.cats, stamp)
		}
		if f.countPairs {
			for _, p := range d.pairs {
				if f.nameIDs[ts.pairName[p]] {
					t.pairs[p]++
				}
			}
		}
	}
	return t, page
}

// memoTally is the tally of a search without text, every facet counted,
// kept until the index next loads.
func (ts *tenantSearch) memoTally(s catalog.Search, f *searchFilter) *facetTally {
	key := s.Status + "\x00" + s.Category
	for _, name := range slices.Sorted(maps.Keys(s.Attributes)) {
		key += "\x00" + name + "=" + strings.Join(s.Attributes[name], "\x01")
	}
	ts.memoMu.Lock()
	t, ok := ts.memo[key]
	ts.memoMu.Unlock()
	if ok {
		return t
	}
	every := *f
	every.countPairs = true
	every.nameIDs = make([]bool, len(ts.names.strs))
	for i := range every.nameIDs {
		every.nameIDs[i] = true
	}
	t, _ = ts.tally(ts.positions(nil), &every, true, 0, 0)
	ts.memoMu.Lock()
	if len(ts.memo) >= maxMemoTallies {
		clear(ts.memo)
	}
	ts.memo[key] = t
	ts.memoMu.Unlock()
	return t
}

// maxMemoTallies bounds the kept tallies per tenant.
const maxMemoTallies = 256

// firstPage reads, from the cursor on, the first limit docs that pass f.
func (ts *tenantSearch) firstPage(f *searchFilter, after int64, limit int) []int64 {
	start := 0
	if after > 0 {
		if i, ok := ts.position(after); ok {
			start = i + 1
		} else {
			start, _ = slices.BinarySearchFunc(ts.docs, after, func(d, t int64) int { return cmp.Compare(t, d) })
		}
	}
	var page []int64
	for i := start; i < len(ts.docs) && len(page) < limit; i++ {
		if f.keeps(&ts.facets[i]) {
			page = append(page, ts.docs[i])
		}
	}
	return page
}

// positions are the index positions of the matched docs (of every doc when
// matched is nil), newest first. A doc the index does not have yet (written after the
// version was read) is left out.
func (ts *tenantSearch) positions(matched []int64) []int {
	if matched == nil {
		out := make([]int, len(ts.docs))
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, len(matched))
	if len(matched) < len(ts.docs)/32 {
		for _, doc := range matched {
			if i, ok := ts.position(doc); ok {
				out = append(out, i)
			}
		}
		slices.Sort(out)
		return out
	}
	// Many matches: mark them and read the marks in order, cheaper than
	// sorting.
	marked := make([]bool, len(ts.docs))
	for _, doc := range matched {
		if i, ok := ts.position(doc); ok {
			marked[i] = true
		}
	}
	for i, m := range marked {
		if m {
			out = append(out, i)
		}
	}
	return out
}

// countCategories counts a doc once in each of its categories and the
// categories above them.
func (ts *tenantSearch) countCategories(d *docFacets, mark int, counts, stamp []int) {
	if len(d.cats) == 1 { // most products: no category shared by two paths
		for _, a := range ts.ancestor[d.cats[0]] {
			counts[a]++
		}
		return
	}
	for _, c := range d.cats {
		for _, a := range ts.ancestor[c] {
			if stamp[a] != mark {
				stamp[a] = mark
				counts[a]++
			}
		}
	}
}

func (ts *tenantSearch) facetLists(facets []string, t *facetTally) map[string][]FacetCount {
	out := map[string][]FacetCount{}
	for _, name := range facets {
		out[name] = []FacetCount{}
	}
	if _, ok := out[catalog.FacetCategory]; ok {
		for id, n := range t.cats {
			if n > 0 {
				out[catalog.FacetCategory] = append(out[catalog.FacetCategory], FacetCount{Value: ts.cats.strs[id], Count: n})
			}
		}
	}
	for p, n := range t.pairs {
		if n == 0 {
			continue
		}
		name, value, _ := strings.Cut(ts.pairs.strs[p], "\x00")
		if list, asked := out[name]; asked && name != catalog.FacetCategory {
			out[name] = append(list, FacetCount{Value: value, Count: n})
		}
	}
	for name, counts := range out {
		slices.SortFunc(counts, func(a, b FacetCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
		})
		out[name] = counts[:min(len(counts), maxFacetValues)]
	}
	return out
}

// loadHits reads the variants of a page of docs, in the page's order.
func loadHits(ctx context.Context, q Querier, tenantID string, docs []int64) ([]SearchHit, error) {
	if len(docs) == 0 {
		return []SearchHit{}, nil
	}
	args := []any{tenantID}
	for _, d := range docs {
		args = append(args, d)
	}
	byDoc := map[int64]SearchHit{}
	err := queryEach(ctx, q, `SELECT v.doc, v.id, v.sku, v.barcode, v.options, v.images, v.status, p.id, p.handle, p.names, p.status,
			p.categories, p.images
		FROM catalog_variants v JOIN catalog_products p ON p.tenant_id = v.tenant_id AND p.id = v.product_id
		WHERE v.tenant_id = $1 AND v.doc IN (`+placeholders(2, len(docs))+`)`, args, func(r Rows) error {
		var h SearchHit
		var options, vImages, names, cats, pImages, vStatus, pStatus string
		if err := r.Scan(&h.Doc, &h.VariantID, &h.SKU, &h.Barcode, &options, &vImages, &vStatus, &h.ProductID, &h.Handle, &names,
			&pStatus, &cats, &pImages); err != nil {
			return err
		}
		var vi, pi []string
		if err := decodeJSON("search hit", []string{options, vImages, names, cats, pImages}, &h.Options, &vi, &h.Names, &h.Categories, &pi); err != nil {
			return err
		}
		h.Status = catalog.EffectiveStatus(pStatus, vStatus)
		if imgs := append(vi, pi...); len(imgs) > 0 {
			h.Image = imgs[0]
		}
		byDoc[h.Doc] = h
		return nil
	})
	out := make([]SearchHit, 0, len(docs))
	for _, d := range docs {
		if h, ok := byDoc[d]; ok {
			out = append(out, h)
		}
	}
	return out, err
}
