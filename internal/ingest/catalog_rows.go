package ingest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
)

// productRow maps a row of a products import: its product's fields as the
// row gives them, with the row's variant as the product's one variant.
// What a variant can be checked for alone (SKU, barcode, flags) is checked
// here, so a bad row is rejected without its product.
func (r *rowMapper) productRow(row Row) (catalog.Product, error) {
	g := &fieldGetter{m: r.m, row: row}
	p := catalog.Product{Handle: strings.TrimSpace(g.get("product")), Status: strings.TrimSpace(g.get("status"))}
	v := catalog.Variant{SKU: strings.TrimSpace(g.get("sku")), Barcode: strings.TrimSpace(g.get("barcode")),
		Status: strings.TrimSpace(g.get("variant_status")), TaxCode: strings.TrimSpace(g.get("tax_code"))}
	giftCard, categories, images, variantImages, options := g.get("gift_card"), g.get("categories"), g.get("images"), g.get("variant_images"), g.get("options")
	if g.err != nil {
		return p, g.err
	}
	switch {
	case p.Handle == "":
		return p, fmt.Errorf("product is empty: every row names the product (handle) its variant belongs to")
	case !catalog.ValidCode(p.Handle):
		return p, fmt.Errorf("product %q is not a handle: 1 to 64 letters, digits, '.', '_' or '-'", p.Handle)
	case !catalog.ValidSKU(v.SKU):
		return p, fmt.Errorf("sku %q is not a SKU: 1 to 64 bytes of printable text", v.SKU)
	}
	if v.Barcode != "" {
		if _, err := catalog.NormalizeGTIN(v.Barcode); err != nil {
			return p, fmt.Errorf("barcode %q: %v", v.Barcode, err)
		}
	}
	var err error
	if v.GiftCard, err = parseFlag(giftCard); err != nil {
		return p, fmt.Errorf("gift_card %w", err)
	}
	p.Categories, p.Options = splitList(categories), splitList(options)
	if p.Images, err = parseList(images); err == nil {
		v.Images, err = parseList(variantImages)
	}
	if err != nil {
		return p, err
	}
	if err := r.prefixed(row, &p, &v); err != nil {
		return p, err
	}
	if len(p.Options) == 0 {
		p.Options = slices.Sorted(maps.Keys(v.Options))
	}
	p.Variants = []catalog.Variant{v}
	// What the row gives is checked on its own, so that a bad value
	// rejects its row rather than every row of its product.
	if err := p.ValidatePart("row"); err != nil {
		return p, fieldError(err, "row.")
	}
	return p, nil
}

// prefixed reads the fields named with a prefix: name.<lang>,
// description.<lang>, option.<name>, attributes.<name> and
// variant_attributes.<name>. Empty values are left out.
func (r *rowMapper) prefixed(row Row, p *catalog.Product, v *catalog.Variant) error {
	targets := map[string]*map[string]string{"name.": &p.Names, "description.": &p.Descriptions, "option.": &v.Options,
		"attributes.": &p.Attributes, "variant_attributes.": &v.Attributes}
	for _, field := range slices.Sorted(maps.Keys(r.m.Fields)) {
		prefix, key, ok := strings.Cut(field, ".")
		dst := targets[prefix+"."]
		if !ok || dst == nil {
			continue
		}
		val, err := r.m.value(row, field)
		if err != nil {
			return err
		}
		if val = strings.TrimSpace(val); val == "" {
			continue
		}
		if *dst == nil {
			*dst = map[string]string{}
		}
		(*dst)[key] = val
	}
	return nil
}

// splitList reads codes separated by '|' or ',' (codes contain neither).
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// parseList reads URLs: a JSON array (as JSON Lines gives one), or values
// separated by '|'.
func parseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var out []string
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("images %q: not a JSON array of strings", s)
		}
		return out, nil
	}
	var out []string
	for _, part := range strings.Split(s, "|") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out, nil
}

func parseFlag(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "n", "f":
		return false, nil
	case "1", "true", "yes", "y", "t":
		return true, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// priceRow is one row of a prices import, its amounts not yet read: they
// are in the minor units of the list's currency, which the loader knows.
type priceRow struct {
	list, sku, amount, compareAt string
}

func (r *rowMapper) priceRow(row Row) (priceRow, error) {
	g := &fieldGetter{m: r.m, row: row}
	p := priceRow{list: strings.TrimSpace(g.get("price_list")), sku: strings.TrimSpace(g.get("sku")), amount: g.get("amount"),
		compareAt: g.get("compare_at")}
	switch {
	case g.err != nil:
		return p, g.err
	case p.list == "":
		return p, fmt.Errorf("price_list is empty")
	case !catalog.ValidSKU(p.sku):
		return p, fmt.Errorf("sku %q is not a SKU: 1 to 64 bytes of printable text", p.sku)
	}
	return p, nil
}

// price reads a price row's amounts in a currency of digits decimals.
func (r *rowMapper) price(p priceRow, digits int) (catalog.Price, error) {
	out := catalog.Price{SKU: p.sku}
	var err error
	if out.Amount, err = parseMinor(p.amount, digits, r.sep); err != nil {
		return out, fmt.Errorf("amount %w", err)
	}
	if strings.TrimSpace(p.compareAt) != "" {
		if out.CompareAt, err = parseMinor(p.compareAt, digits, r.sep); err != nil {
			return out, fmt.Errorf("compare_at %w", err)
		}
	}
	if err := out.Validate("price"); err != nil {
		return out, fieldError(err, "price.")
	}
	return out, nil
}

// fieldError words a validation error's first field for a rejection
// report: "compare_at 900: 0 for none, or more than amount".
func fieldError(err error, base string) error {
	e, ok := apperr.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	f := e.Fields[0]
	loc := strings.TrimPrefix(strings.TrimPrefix(f.Location, base), "variants[0].")
	if f.Value == nil {
		return fmt.Errorf("%s: %s", loc, f.Message)
	}
	return fmt.Errorf("%s %v: %s", loc, f.Value, f.Message)
}
