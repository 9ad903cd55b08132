package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

type searchCatalogInput struct {
	PageParams
	Q        string `query:"q" maxLength:"200" doc:"words of a name in any language (Chinese matched by character pairs), a SKU or its start, a barcode"`
	Category string `query:"category" doc:"a category code: variants in it or in a category below it"`
	Status   string `query:"status" enum:"active,draft,archived,any" default:"active"`
	Facets   string `query:"facets" doc:"comma separated: category and attribute or option names to count, e.g. category,color,size"`
	Lang     string `query:"lang" default:"en" doc:"the language of each hit's name (zh-HK and zh-TW read zh-Hant, zh-CN zh-Hans; then English)"`
	// Attr filters are attr.<name>=<value> parameters (repeat one for any
	// of several values); huma has no field for a family of names, so
	// they are read from the URL.
	raw url.Values
}

// Resolve keeps the raw query for the attr.<name> filters.
func (in *searchCatalogInput) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	in.raw = u.Query()
	return nil
}

// SearchHitBody is one variant found.
type SearchHitBody struct {
	VariantID  string            `json:"variant_id"`
	SKU        string            `json:"sku"`
	Barcode    string            `json:"barcode,omitempty"`
	ProductID  string            `json:"product_id"`
	Handle     string            `json:"handle,omitempty"`
	Name       string            `json:"name" doc:"in the language asked for, by fallback"`
	Names      map[string]string `json:"names"`
	Options    map[string]string `json:"options"`
	Categories []string          `json:"categories"`
	Status     string            `json:"status"`
	Image      string            `json:"image,omitempty"`
}

// FacetCountBody is how many variants found have one value.
type FacetCountBody struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// SearchBody is a page of a catalog search.
type SearchBody struct {
	Page[SearchHitBody]
	Total  int                         `json:"total" doc:"variants found in all"`
	Facets map[string][]FacetCountBody `json:"facets" doc:"per facet asked for, its values over everything found, most frequent first (up to 50)"`
}

type searchCatalogOutput struct{ Body SearchBody }

func (s *server) catalogSearchRoutes() {
	huma.Register(s.api, huma.Operation{OperationID: "search-catalog", Method: http.MethodGet, Path: "/v1/catalog/search",
		Summary: "Search the catalog", Tags: []string{"Catalog"},
		Description: "Finds variants, newest first, by text, category and attributes (attr.<name>=<value>, e.g. attr.color=red; " +
			"repeat a name for any of several values), with facet counts over everything found."}, s.searchCatalog)
}

func (s *server) searchCatalog(ctx context.Context, in *searchCatalogInput) (*searchCatalogOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	search, err := catalog.ParseSearch(in.raw)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	var after int64
	if cur, err := in.after(); err != nil {
		return nil, s.problem(ctx, err)
	} else if cur != "" {
		if after, err = strconv.ParseInt(cur, 10, 64); err != nil || after <= 0 {
			return nil, s.problem(ctx, apperr.Field("query.cursor", "not a cursor returned by this API", in.Cursor))
		}
	}
	res, err := s.db.SearchCatalog(ctx, sqldb.SearchParams{TenantID: p.TenantID, Search: search, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &searchCatalogOutput{}
	out.Body.Page = paginate(res.Hits, in.limit(), func(h sqldb.SearchHit) string { return strconv.FormatInt(h.Doc, 10) },
		func(h sqldb.SearchHit) SearchHitBody { return searchHitBody(h, in.Lang) })
	out.Body.Total = res.Total
	out.Body.Facets = map[string][]FacetCountBody{}
	for name, counts := range res.Facets {
		list := make([]FacetCountBody, len(counts))
		for i, c := range counts {
			list[i] = FacetCountBody{Value: c.Value, Count: c.Count}
		}
		out.Body.Facets[name] = list
	}
	return out, nil
}

func searchHitBody(h sqldb.SearchHit, lang string) SearchHitBody {
	return SearchHitBody{VariantID: id.Format(id.Variant, h.VariantID), SKU: h.SKU, Barcode: h.Barcode, ProductID: id.Format(id.Product, h.ProductID),
		Handle: h.Handle, Name: catalog.Name(h.Names, lang), Names: nonNilMap(h.Names), Options: nonNilMap(h.Options),
		Categories: nonNilList(h.Categories), Status: h.Status, Image: h.Image}
}
