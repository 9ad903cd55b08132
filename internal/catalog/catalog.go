// Package catalog holds what a brand sells: products and their variants
// (the sellable units, each with a SKU), categories, and price lists with the
// rule that decides which price a buyer pays. It also words search: how
// names, SKUs and barcodes become index tokens (Chinese as character
// bigrams) and how a search box's text becomes terms. Everything here is
// plain Go over values; storage and HTTP live in sqldb and api.
package catalog

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/omo-platform/omo/internal/apperr"
)

// Product and variant statuses. Only active products and variants sell;
// archived is the end of a product's life (it stays for order history).
const (
	StatusDraft    = "draft"
	StatusActive   = "active"
	StatusArchived = "archived"
)

// Statuses lists the statuses of products and variants.
var Statuses = []string{StatusDraft, StatusActive, StatusArchived}

// Limits of a product.
const (
	MaxVariants   = 500
	MaxImages     = 20
	MaxCategories = 10
	MaxAttributes = 50
	MaxOptions    = 3
)

// Product is a thing a brand sells in one or more variants (sizes, colours).
type Product struct {
	TenantID string
	ID       string
	// Handle is the brand's own key for the product (style code, URL slug),
	// unique per tenant when set; imports group and update products by it.
	Handle       string
	Status       string
	Names        map[string]string // language tag → name
	Descriptions map[string]string // language tag → description
	// Categories are category codes; the first is the primary category.
	Categories []string
	Attributes map[string]string // e.g. brand, material
	Images     []string          // absolute http(s) URLs
	// Options name what the variants differ by, in display order, e.g.
	// ["color", "size"]; every variant gives a value for each.
	Options   []string
	Variants  []Variant
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Variant is one sellable unit of a product.
type Variant struct {
	ID        string
	ProductID string
	SKU       string            // unique per tenant
	Barcode   string            // GTIN-8, -12, -13 or -14, with a valid check digit; "" for none
	Options   map[string]string // option name → value, e.g. {"color": "Red", "size": "M"}
	// Attributes are the variant's own attributes; they override the
	// product's of the same name.
	Attributes map[string]string
	Images     []string
	Status     string
	GiftCard   bool
	TaxCode    string // "" means the standard rate
	Position   int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// PrimaryCategory is the product's first category, "" when it has none.
func (p *Product) PrimaryCategory() string {
	if len(p.Categories) == 0 {
		return ""
	}
	return p.Categories[0]
}

// Sellable reports whether a variant of the product can be sold: both active.
func Sellable(productStatus, variantStatus string) bool {
	return productStatus == StatusActive && variantStatus == StatusActive
}

// EffectiveStatus is what search and checkout see of a variant: its own
// status, unless the product's is not active.
func EffectiveStatus(productStatus, variantStatus string) string {
	if productStatus != StatusActive {
		return productStatus
	}
	return variantStatus
}

// FacetValues are a variant's attributes as search filters and facets see
// them: the product's attributes, overridden by the variant's own, and its
// option values; values folded as search folds text (Fold).
func FacetValues(p *Product, v *Variant) map[string]string {
	out := make(map[string]string, len(p.Attributes)+len(v.Attributes)+len(v.Options))
	for _, m := range []map[string]string{p.Attributes, v.Attributes, v.Options} {
		for k, val := range m {
			if val = strings.TrimSpace(val); val != "" {
				out[k] = Fold(val)
			}
		}
	}
	return out
}

var (
	codePattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	languagePattern  = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	attributePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// ValidCode reports whether s can be a category, price list or tax code, or
// a handle: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter
// or digit.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// ValidAttributeName reports whether s can name an attribute or an option:
// lower-case letters, digits and '_', starting with a letter (it appears in
// search filters as attr.<name>).
func ValidAttributeName(s string) bool { return attributePattern.MatchString(s) }

// ValidSKU reports whether s can be a SKU: 1 to 64 bytes of printable UTF-8
// without leading or trailing spaces.
func ValidSKU(s string) bool {
	if s == "" || len(s) > 64 || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// problems collects field errors under a base location.
type problems struct {
	base   string
	fields []apperr.FieldError
}

func (p *problems) add(field, msg string, v any) {
	loc := p.base
	if field != "" {
		loc += "." + field
	}
	p.fields = append(p.fields, apperr.FieldError{Location: loc, Message: msg, Value: v})
}

func (p *problems) err(what string) error {
	if len(p.fields) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: what + " is not valid", Fields: p.fields}
}

// Validate checks a product with its variants and names each bad field under
// base ("body"). It trims names and fills default statuses.
func (p *Product) Validate(base string) error { return p.validate(base, false) }

// ValidatePart checks the fields a product has, as one row of an import
// gives them: names and variants may be missing (other rows give them).
func (p *Product) ValidatePart(base string) error { return p.validate(base, true) }

func (p *Product) validate(base string, part bool) error {
	pr := &problems{base: base}
	if p.Handle != "" && !ValidCode(p.Handle) {
		pr.add("handle", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", p.Handle)
	}
	checkStatus(pr, &p.Status, part)
	validateTexts(pr, "names", p.Names, 200, !part)
	validateTexts(pr, "descriptions", p.Descriptions, 20000, false)
	validateCategories(pr, p.Categories)
	validateAttributes(pr, "attributes", p.Attributes)
	validateImages(pr, "images", p.Images)
	validateOptions(pr, p.Options)
	if len(p.Variants) == 0 && !part {
		pr.add("variants", "at least one variant: the SKU a till or checkout sells", nil)
	}
	if len(p.Variants) > MaxVariants {
		pr.add("variants", fmt.Sprintf("at most %d variants", MaxVariants), len(p.Variants))
	}
	skus, combos := map[string]int{}, map[string]int{}
	for i := range p.Variants {
		v := &p.Variants[i]
		vp := &problems{base: fmt.Sprintf("%s.variants[%d]", base, i)}
		v.validate(vp, p.Options, part)
		pr.fields = append(pr.fields, vp.fields...)
		if j, dup := skus[v.SKU]; dup && v.SKU != "" {
			pr.add(fmt.Sprintf("variants[%d].sku", i), fmt.Sprintf("variants[%d] has this SKU already", j), v.SKU)
		}
		skus[v.SKU] = i
		if key := optionKey(p.Options, v.Options); len(p.Options) > 0 && v.Status != StatusArchived {
			if j, dup := combos[key]; dup {
				pr.add(fmt.Sprintf("variants[%d].options", i), fmt.Sprintf("the same as variants[%d]'s (SKU %s)", j, p.Variants[j].SKU), v.Options)
			}
			combos[key] = i
		}
	}
	return pr.err("the product")
}

// checkStatus fills a missing status with active, unless part (an import
// row that leaves the status as it is), and checks it.
func checkStatus(pr *problems, status *string, part bool) {
	if *status == "" && !part {
		*status = StatusActive
	}
	if *status != "" && !slices.Contains(Statuses, *status) {
		pr.add("status", "draft, active or archived", *status)
	}
}

func (v *Variant) validate(pr *problems, options []string, part bool) {
	if !ValidSKU(v.SKU) {
		pr.add("sku", "1 to 64 bytes of printable text without leading or trailing spaces", v.SKU)
	}
	if v.Barcode != "" {
		if _, err := NormalizeGTIN(v.Barcode); err != nil {
			pr.add("barcode", err.Error(), v.Barcode)
		}
	}
	checkStatus(pr, &v.Status, part)
	if v.TaxCode != "" && !ValidCode(v.TaxCode) {
		pr.add("tax_code", "a code of 1 to 64 letters, digits, '.', '_' or '-'", v.TaxCode)
	}
	if v.Status == StatusArchived {
		// An archived variant keeps the options it was sold with, even
		// after the product's options change.
		options = nil
		for name := range v.Options {
			options = append(options, name)
		}
	}
	for name, val := range v.Options {
		if !slices.Contains(options, name) {
			pr.add("options."+name, "not an option of the product; its options are "+strings.Join(options, ", "), val)
		} else if n := len(strings.TrimSpace(val)); n == 0 || n > 100 {
			pr.add("options."+name, "a value of 1 to 100 bytes", val)
		}
	}
	for _, name := range options {
		if _, ok := v.Options[name]; !ok {
			pr.add("options."+name, "every variant gives a value for each option of the product", nil)
		}
	}
	validateAttributes(pr, "attributes", v.Attributes)
	validateImages(pr, "images", v.Images)
}

func optionKey(options []string, values map[string]string) string {
	parts := make([]string, len(options))
	for i, o := range options {
		parts[i] = strings.ToLower(strings.TrimSpace(values[o]))
	}
	return strings.Join(parts, "\x1f")
}

func validateTexts(pr *problems, field string, texts map[string]string, maxLen int, required bool) {
	if required && len(texts) == 0 {
		pr.add(field, `at least one, by language tag, e.g. {"en": "Linen shirt", "zh-Hant": "亞麻襯衫"}`, nil)
	}
	for _, lang := range slices.Sorted(maps.Keys(texts)) {
		if !languagePattern.MatchString(lang) {
			pr.add(field+"."+lang, "keys are language tags such as en, zh-Hant, zh-Hans", lang)
			continue
		}
		t := strings.TrimSpace(texts[lang])
		if t == "" || len(t) > maxLen || !utf8.ValidString(t) {
			pr.add(field+"."+lang, fmt.Sprintf("UTF-8 text of 1 to %d bytes", maxLen), texts[lang])
		}
		texts[lang] = t
	}
}

func validateCategories(pr *problems, codes []string) {
	if len(codes) > MaxCategories {
		pr.add("categories", fmt.Sprintf("at most %d categories", MaxCategories), len(codes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		switch {
		case !ValidCode(c):
			pr.add(fmt.Sprintf("categories[%d]", i), "a category code", c)
		case seen[c]:
			pr.add(fmt.Sprintf("categories[%d]", i), "named twice", c)
		}
		seen[c] = true
	}
}

func validateAttributes(pr *problems, field string, attrs map[string]string) {
	if len(attrs) > MaxAttributes {
		pr.add(field, fmt.Sprintf("at most %d attributes", MaxAttributes), len(attrs))
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if !ValidAttributeName(name) {
			pr.add(field+"."+name, "names are lower-case letters, digits and '_', starting with a letter (up to 40)", name)
		}
		if v := attrs[name]; len(v) > 200 || !utf8.ValidString(v) || strings.TrimSpace(v) == "" {
			pr.add(field+"."+name, "a value of 1 to 200 bytes", v)
		}
	}
}

func validateImages(pr *problems, field string, images []string) {
	if len(images) > MaxImages {
		pr.add(field, fmt.Sprintf("at most %d images", MaxImages), len(images))
	}
	for i, raw := range images {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2000 {
			pr.add(fmt.Sprintf("%s[%d]", field, i), "an absolute http or https URL", raw)
		}
	}
}

func validateOptions(pr *problems, options []string) {
	if len(options) > MaxOptions {
		pr.add("options", fmt.Sprintf("at most %d options (e.g. color, size, fit)", MaxOptions), options)
	}
	seen := map[string]bool{}
	for i, o := range options {
		if !ValidAttributeName(o) || seen[o] {
			pr.add(fmt.Sprintf("options[%d]", i), "distinct names of lower-case letters, digits and '_'", o)
		}
		seen[o] = true
	}
}

// Category is a node of the brand's category tree. Products name
// categories by code; the code never changes.
type Category struct {
	TenantID  string
	ID        string
	Code      string
	Parent    string // parent's code, "" for a top-level category
	Names     map[string]string
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a category on its own (the tree is checked by
// CheckParent) and names each bad field under base.
func (c *Category) Validate(base string) error {
	pr := &problems{base: base}
	if !ValidCode(c.Code) {
		pr.add("code", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", c.Code)
	}
	if c.Parent != "" && !ValidCode(c.Parent) {
		pr.add("parent", "a category code", c.Parent)
	}
	if c.Parent == c.Code && c.Code != "" {
		pr.add("parent", "a category cannot be its own parent", c.Parent)
	}
	validateTexts(pr, "names", c.Names, 200, true)
	return pr.err("the category")
}

// CheckParent reports whether giving category code the parent would make a
// cycle, given every category's parent by code. It returns the path of the
// cycle ("a → b → a") when it would.
func CheckParent(code, parent string, parents map[string]string) (string, bool) {
	path := []string{code}
	seen := map[string]bool{code: true}
	for p := parent; p != ""; p = parents[p] {
		path = append(path, p)
		if seen[p] {
			return strings.Join(path, " → "), false
		}
		seen[p] = true
	}
	return "", true
}

// Descendants returns code and every category below it, given every
// category's parent by code.
func Descendants(code string, parents map[string]string) []string {
	children := map[string][]string{}
	for c, p := range parents {
		children[p] = append(children[p], c)
	}
	out := []string{code}
	for i := 0; i < len(out); i++ {
		kids := children[out[i]]
		slices.Sort(kids)
		for _, k := range kids {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Ancestors returns code and the categories above it, nearest first.
func Ancestors(code string, parents map[string]string) []string {
	out := []string{code}
	for p := parents[code]; p != "" && !slices.Contains(out, p); p = parents[p] {
		out = append(out, p)
	}
	return out
}
