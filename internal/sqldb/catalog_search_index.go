package sqldb

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/catalog"
)

// The search index's facet side: for every variant of a tenant, its
// status, categories and attribute values, held in memory and kept up to
// date by the catalog version (see ADR 0006). Text matching is the
// database's (FTS5 on SQLite, a GIN index on PostgreSQL); filtering by
// category and attribute and counting facets over tens of thousands of
// matches is done here, because joining every match to its facet rows in
// SQL costs several microseconds a match. Before each search the version is
// read from catalog_search_state, and any variant written since is loaded:
// every process sees every committed write, with no invalidation messages.

// searchCache holds the indexes of the tenants searched lately.
type searchCache struct {
	mu      sync.Mutex
	tenants map[string]*tenantSearch
}

// maxCachedTenants bounds memory: the least recently searched tenant's
// index is dropped past it (and rebuilt on its next search).
const maxCachedTenants = 32

// tenantSearch is one tenant's facet index.
type tenantSearch struct {
	refresh sync.Mutex // one loader at a time

	mu       sync.RWMutex // guards what follows
	version  int64
	slot     int64
	lastUsed time.Time
	docs     []int64     // every doc of the tenant, newest (highest) first
	facets   []docFacets // facets[i] is docs[i]'s
	// posOf finds a doc's position by its number within the tenant (the
	// low bits, handed out one after another, so the slice is dense):
	// the position is posOf[doc&docMask]-1; 0 means absent.
	posOf    []int32
	parents  map[string]string // category tree: code → parent code
	cats     interner          // category codes
	names    interner          // attribute names
	pairs    interner          // "name\x00value"
	pairName []int32           // pair id → name id
	ancestor [][]int32         // category id → itself and the categories above it

	memoMu sync.Mutex
	memo   map[string]*facetTally // tallies of searches without text, until the next load
}

// docFacets is what filters and facets need of one variant.
type docFacets struct {
	status uint8
	cats   []int32
	pairs  []int32
}

var statusCodes = map[string]uint8{catalog.StatusDraft: 1, catalog.StatusActive: 2, catalog.StatusArchived: 3}

// interner numbers strings densely.
type interner struct {
	ids  map[string]int32
	strs []string
}

func (in *interner) id(s string) int32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	if in.ids == nil {
		in.ids = map[string]int32{}
	}
	i := int32(len(in.strs))
	in.ids[s] = i
	in.strs = append(in.strs, s)
	return i
}

func (in *interner) lookup(s string) (int32, bool) {
	i, ok := in.ids[s]
	return i, ok
}

// searchIndex returns the tenant's index, brought up to the catalog's
// current version.
func (db *DB) searchIndex(ctx context.Context, tenantID string) (*tenantSearch, error) {
	ts := db.catalogSearch.get(tenantID)
	var slot, version int64
	err := db.Read().QueryRow(ctx, `SELECT slot, version FROM catalog_search_state WHERE tenant_id = $1`, tenantID).Scan(&slot, &version)
	if errors.Is(err, ErrNoRows) {
		return ts, nil // no catalog yet
	}
	if err != nil {
		return nil, err
	}
	ts.mu.RLock()
	have := ts.version
	ts.mu.RUnlock()
	if have > version {
		// The catalog's version went backwards: the database was restored
		// or recreated under a running process. Start again.
		db.catalogSearch.forget(tenantID)
		ts = db.catalogSearch.get(tenantID)
	} else if have == version {
		return ts, nil
	}
	ts.refresh.Lock()
	defer ts.refresh.Unlock()
	ts.mu.RLock()
	from := ts.version
	ts.mu.RUnlock()
	if from >= version {
		return ts, nil // another search loaded it meanwhile
	}
	return ts, ts.load(ctx, db.Read(), tenantID, slot, from, version)
}

func (c *searchCache) get(tenantID string) *tenantSearch {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[string]*tenantSearch{}
	}
	ts, ok := c.tenants[tenantID]
	if !ok {
		if len(c.tenants) >= maxCachedTenants {
			c.evictOldest()
		}
		ts = &tenantSearch{parents: map[string]string{}, memo: map[string]*facetTally{}}
		c.tenants[tenantID] = ts
	}
	ts.mu.Lock()
	ts.lastUsed = time.Now()
	ts.mu.Unlock()
	return ts
}

func (c *searchCache) evictOldest() {
	var oldest string
	var at time.Time
	for id, ts := range c.tenants {
		ts.mu.RLock()
		used := ts.lastUsed
		ts.mu.RUnlock()
		if oldest == "" || used.Before(at) {
			oldest, at = id, used
		}
	}
	delete(c.tenants, oldest)
}

// forget drops a tenant's index.
func (c *searchCache) forget(tenantID string) {
	c.mu.Lock()
	delete(c.tenants, tenantID)
	c.mu.Unlock()
}

// load reads the variants written after version from (up to at least to)
// and the category tree, and applies them.
func (ts *tenantSearch) load(ctx context.Context, q Querier, tenantID string, slot, from, to int64) error {
	parents, err := categoryParents(ctx, q, tenantID)
	if err != nil {
		return err
	}
	type row struct {
		doc   int64
		state string
		cats  []string
		attrs map[string]string
	}
	var rows []row
	err = queryEach(ctx, q, `SELECT v.doc, v.status, p.status, p.categories, p.attributes, v.options, v.attributes
		FROM catalog_variants v JOIN catalog_products p ON p.tenant_id = v.tenant_id AND p.id = v.product_id
		WHERE v.tenant_id = $1 AND v.version > $2`, []any{tenantID, from}, func(r Rows) error {
		var doc int64
		var vStatus, pStatus, cats, pAttrs, vOptions, vAttrs string
		if err := r.Scan(&doc, &vStatus, &pStatus, &cats, &pAttrs, &vOptions, &vAttrs); err != nil {
			return err
		}
		var p catalog.Product
		var v catalog.Variant
		if err := decodeJSON("search doc", []string{cats, pAttrs, vOptions, vAttrs}, &p.Categories, &p.Attributes, &v.Options, &v.Attributes); err != nil {
			return err
		}
		rows = append(rows, row{doc: doc, state: catalog.EffectiveStatus(pStatus, vStatus), cats: p.Categories, attrs: catalog.FacetValues(&p, &v)})
		return nil
	})
	if err != nil {
		return err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var added []int64
	addedFacets := map[int64]docFacets{}
	for _, r := range rows {
		f := docFacets{status: statusCodes[r.state]}
		for _, c := range r.cats {
			f.cats = append(f.cats, ts.cats.id(c))
		}
		for name, val := range r.attrs {
			f.pairs = append(f.pairs, ts.pair(name, val))
		}
		slices.Sort(f.pairs)
		if i, ok := ts.position(r.doc); ok {
			ts.facets[i] = f
		} else if _, dup := addedFacets[r.doc]; !dup {
			added = append(added, r.doc)
			addedFacets[r.doc] = f
		} else {
			addedFacets[r.doc] = f
		}
	}
	ts.merge(added, addedFacets)
	ts.parents, ts.slot, ts.version = parents, slot, to
	ts.rebuildAncestors()
	ts.memoMu.Lock()
	ts.memo = map[string]*facetTally{}
	ts.memoMu.Unlock()
	return nil
}

const docMask = 1<<docBits - 1

// position finds a doc in the index.
func (ts *tenantSearch) position(doc int64) (int, bool) {
	n := doc & docMask
	if n >= int64(len(ts.posOf)) || ts.posOf[n] == 0 {
		return 0, false
	}
	return int(ts.posOf[n] - 1), true
}

// merge adds new docs, keeping the index newest first.
func (ts *tenantSearch) merge(added []int64, facets map[int64]docFacets) {
	if len(added) == 0 {
		return
	}
	slices.SortFunc(added, func(a, b int64) int { return cmp.Compare(b, a) })
	docs := make([]int64, 0, len(ts.docs)+len(added))
	fs := make([]docFacets, 0, len(ts.docs)+len(added))
	i, j := 0, 0
	for i < len(ts.docs) || j < len(added) {
		if j == len(added) || (i < len(ts.docs) && ts.docs[i] > added[j]) {
			docs, fs = append(docs, ts.docs[i]), append(fs, ts.facets[i])
			i++
			continue
		}
		docs, fs = append(docs, added[j]), append(fs, facets[added[j]])
		j++
	}
	ts.docs, ts.facets = docs, fs
	ts.posOf = make([]int32, docs[0]&docMask+1)
	for i, d := range docs {
		ts.posOf[d&docMask] = int32(i + 1)
	}
}

func (ts *tenantSearch) pair(name, value string) int32 {
	p := ts.pairs.id(name + "\x00" + value)
	if int(p) == len(ts.pairName) {
		ts.pairName = append(ts.pairName, ts.names.id(name))
	}
	return p
}

// rebuildAncestors recomputes, for every category id, the ids of it and
// the categories above it (the tree may have changed).
func (ts *tenantSearch) rebuildAncestors() {
	for code := range ts.parents {
		ts.cats.id(code)
	}
	ts.ancestor = make([][]int32, len(ts.cats.strs))
	for i, code := range ts.cats.strs {
		for _, a := range catalog.Ancestors(code, ts.parents) {
			ts.ancestor[i] = append(ts.ancestor[i], ts.cats.id(a))
		}
	}
}
