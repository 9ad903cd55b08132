package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Search is a catalog search: text, filters, and the facets to count.
type Search struct {
	Text     TextQuery
	Category string // a category code: variants in it or any category below it
	// Attributes filter by attribute or option value (folded): a variant
	// matches when, for every name, its value is one of those given.
	Attributes map[string][]string
	Status     string   // active (default), draft, archived, or any
	Facets     []string // "category" and attribute names to count values of
}

// FacetCategory is the facet of categories (each counted with the
// categories above it).
const FacetCategory = "category"

// StatusAny asks for variants of every status.
const StatusAny = "any"

// Limits of a search's filters.
const (
	MaxFilterNames  = 10
	MaxFilterValues = 20
	MaxFacets       = 10
)

// ParseSearch reads a search from query parameters: q, category, status,
// facets (comma separated) and attr.<name> (repeat for several values).
// Other parameters (limit, cursor) are left to the caller. Errors name the
// parameter as query.<name>.
func ParseSearch(params map[string][]string) (Search, error) {
	s := Search{Status: StatusActive}
	pr := &problems{base: "query"}
	first := func(k string) string {
		if v := params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	text, err := ParseQuery(first("q"))
	if err != nil {
		pr.add("q", err.Error(), first("q"))
	}
	s.Text = text
	if c := first("category"); c != "" {
		if !ValidCode(c) {
			pr.add("category", "a category code", c)
		}
		s.Category = c
	}
	if st := first("status"); st != "" {
		if st != StatusAny && !slices.Contains(Statuses, st) {
			pr.add("status", "active, draft, archived or any", st)
		}
		s.Status = st
	}
	s.Facets = parseFacets(pr, first("facets"))
	s.Attributes = parseAttributeFilters(pr, params)
	if err := pr.err("the search"); err != nil {
		return s, err
	}
	return s, nil
}

func parseFacets(pr *problems, raw string) []string {
	if raw == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case f != FacetCategory && !ValidAttributeName(f):
			pr.add("facets", "category or attribute names, comma separated", f)
		case !slices.Contains(out, f):
			out = append(out, f)
		}
	}
	if len(out) > MaxFacets {
		pr.add("facets", fmt.Sprintf("at most %d facets", MaxFacets), raw)
	}
	return out
}

func parseAttributeFilters(pr *problems, params map[string][]string) map[string][]string {
	var out map[string][]string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		name, ok := strings.CutPrefix(k, "attr.")
		if !ok {
			continue
		}
		if !ValidAttributeName(name) {
			pr.add(k, "attr.<name>: a name of lower-case letters, digits and '_'", k)
			continue
		}
		for _, v := range params[k] {
			v = Fold(strings.TrimSpace(v))
			if v == "" || len(v) > 200 {
				pr.add(k, "a value of 1 to 200 bytes", v)
				continue
			}
			if out == nil {
				out = map[string][]string{}
			}
			if !slices.Contains(out[name], v) {
				out[name] = append(out[name], v)
			}
		}
		if len(out[name]) > MaxFilterValues {
			pr.add(k, fmt.Sprintf("at most %d values", MaxFilterValues), len(out[name]))
		}
	}
	if len(out) > MaxFilterNames {
		pr.add("attr", fmt.Sprintf("at most %d attribute filters", MaxFilterNames), len(out))
	}
	return out
}
