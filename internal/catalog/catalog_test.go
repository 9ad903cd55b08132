package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func validProduct() Product {
	return Product{Handle: "LS-01", Status: StatusActive,
		Names:      map[string]string{"en": "Linen shirt", "zh-Hant": "亞麻襯衫", "zh-Hans": "亚麻衬衫"},
		Categories: []string{"tops", "linen"}, Attributes: map[string]string{"material": "Linen"},
		Images:  []string{"https://cdn.example.com/ls-01.jpg"},
		Options: []string{"color", "size"},
		Variants: []Variant{
			{SKU: "LS-01-WHT-M", Barcode: "4006381333931", Options: map[string]string{"color": "White", "size": "M"}},
			{SKU: "LS-01-WHT-L", Options: map[string]string{"color": "White", "size": "L"}, TaxCode: "reduced"},
		}}
}

// locations lists the field locations of a validation error.
func locations(err error) []string {
	e, ok := apperr.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func TestProduct_Validate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*Product)
		want string // a field location the error names; "" for valid
	}{
		{"valid", func(*Product) {}, ""},
		{"no handle is fine", func(p *Product) { p.Handle = "" }, ""},
		{"no options, one variant", func(p *Product) { p.Options = nil; p.Variants = p.Variants[:1]; p.Variants[0].Options = nil }, ""},
		{"bad handle", func(p *Product) { p.Handle = "ls 01" }, "body.handle"},
		{"bad status", func(p *Product) { p.Status = "live" }, "body.status"},
		{"no names", func(p *Product) { p.Names = nil }, "body.names"},
		{"bad language", func(p *Product) { p.Names["English"] = "x" }, "body.names.English"},
		{"blank name", func(p *Product) { p.Names["en"] = "  " }, "body.names.en"},
		{"long description", func(p *Product) { p.Descriptions = map[string]string{"en": strings.Repeat("x", 20001)} }, "body.descriptions.en"},
		{"bad category", func(p *Product) { p.Categories[1] = "no space" }, "body.categories[1]"},
		{"category twice", func(p *Product) { p.Categories[1] = "tops" }, "body.categories[1]"},
		{"attribute name", func(p *Product) { p.Attributes["Material"] = "x" }, "body.attributes.Material"},
		{"blank attribute", func(p *Product) { p.Attributes["fit"] = " " }, "body.attributes.fit"},
		{"image not a URL", func(p *Product) { p.Images = []string{"/img.jpg"} }, "body.images[0]"},
		{"ftp image", func(p *Product) { p.Images = []string{"ftp://x/img.jpg"} }, "body.images[0]"},
		{"option twice", func(p *Product) { p.Options = []string{"color", "color"} }, "body.options[1]"},
		{"no variants", func(p *Product) { p.Variants = nil }, "body.variants"},
		{"empty SKU", func(p *Product) { p.Variants[0].SKU = "" }, "body.variants[0].sku"},
		{"SKU with trailing space", func(p *Product) { p.Variants[0].SKU = "A1 " }, "body.variants[0].sku"},
		{"SKU with tab", func(p *Product) { p.Variants[0].SKU = "A\t1" }, "body.variants[0].sku"},
		{"SKU twice", func(p *Product) { p.Variants[1].SKU = p.Variants[0].SKU }, "body.variants[1].sku"},
		{"bad check digit", func(p *Product) { p.Variants[0].Barcode = "4006381333932" }, "body.variants[0].barcode"},
		{"barcode of 11 digits", func(p *Product) { p.Variants[0].Barcode = "40063813339" }, "body.variants[0].barcode"},
		{"missing option value", func(p *Product) { delete(p.Variants[1].Options, "size") }, "body.variants[1].options.size"},
		{"unknown option", func(p *Product) { p.Variants[1].Options["fit"] = "slim" }, "body.variants[1].options.fit"},
		{"same options twice", func(p *Product) { p.Variants[1].Options["size"] = "m" }, "body.variants[1].options"},
		{"bad variant status", func(p *Product) { p.Variants[1].Status = "gone" }, "body.variants[1].status"},
		{"bad tax code", func(p *Product) { p.Variants[1].TaxCode = "zero rate" }, "body.variants[1].tax_code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := validProduct()
			tc.edit(&p)
			err := p.Validate("body")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !apperr.Is(err, apperr.Invalid) || !slices.Contains(locations(err), tc.want) {
				t.Fatalf("want an error at %s, got %v (%v)", tc.want, err, locations(err))
			}
		})
	}
}

func TestProduct_ValidateFillsDefaults(t *testing.T) {
	t.Parallel()
	p := validProduct()
	p.Status, p.Variants[0].Status = "", ""
	p.Names["en"] = "  Linen shirt "
	if err := p.Validate("body"); err != nil {
		t.Fatal(err)
	}
	if p.Status != StatusActive || p.Variants[0].Status != StatusActive || p.Names["en"] != "Linen shirt" {
		t.Fatalf("defaults not filled: %q %q %q", p.Status, p.Variants[0].Status, p.Names["en"])
	}
}

func TestCategory_Tree(t *testing.T) {
	t.Parallel()
	parents := map[string]string{"women": "", "tops": "women", "shirts": "tops", "men": "", "knit": "tops"}
	if got := Descendants("women", parents); !slices.Equal(got, []string{"women", "tops", "knit", "shirts"}) {
		t.Errorf("descendants of women: %v", got)
	}
	if got := Ancestors("shirts", parents); !slices.Equal(got, []string{"shirts", "tops", "women"}) {
		t.Errorf("ancestors of shirts: %v", got)
	}
	if path, ok := CheckParent("women", "shirts", parents); ok || path != "women → shirts → tops → women" {
		t.Errorf("women under shirts: ok=%v path %q", ok, path)
	}
	if _, ok := CheckParent("knit", "men", parents); !ok {
		t.Error("moving knit under men refused")
	}
	c := Category{Code: "tops", Parent: "tops", Names: map[string]string{"en": "Tops"}}
	if err := c.Validate("body"); !slices.Contains(locations(err), "body.parent") {
		t.Errorf("own parent: %v", err)
	}
}

func TestFacetValues_VariantOverridesProduct(t *testing.T) {
	t.Parallel()
	p := validProduct()
	v := p.Variants[0]
	v.Attributes = map[string]string{"material": "Linen and Cotton"}
	got := FacetValues(&p, &v)
	if got["material"] != "linen and cotton" || got["color"] != "white" || got["size"] != "m" {
		t.Fatalf("facet values: %v", got)
	}
}

func TestName_Fallback(t *testing.T) {
	t.Parallel()
	all := map[string]string{"en": "Shirt", "zh-Hant": "襯衫", "zh-Hans": "衬衫", "ja": "シャツ"}
	cases := []struct {
		names map[string]string
		lang  string
		want  string
	}{
		{all, "en", "Shirt"},
		{all, "zh-HK", "襯衫"},
		{all, "zh-TW", "襯衫"},
		{all, "zh-CN", "衬衫"},
		{all, "zh", "衬衫"},
		{all, "ja", "シャツ"},
		{all, "fr", "Shirt"},
		{all, "en-GB", "Shirt"},
		{map[string]string{"zh-Hans": "衬衫", "en": "Shirt"}, "zh-HK", "衬衫"},
		{map[string]string{"zh-Hant": "襯衫", "en": "Shirt"}, "zh-CN", "襯衫"},
		{map[string]string{"zh-Hant": "襯衫"}, "en", "襯衫"},
		{map[string]string{"ko": "셔츠", "ja": "シャツ"}, "en", "シャツ"},
		{nil, "en", ""},
	}
	for _, tc := range cases {
		if got := Name(tc.names, tc.lang); got != tc.want {
			t.Errorf("Name(%v, %q) = %q, want %q", tc.names, tc.lang, got, tc.want)
		}
	}
}

func TestNormalizeGTIN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"4006381333931", "04006381333931", true}, // EAN-13
		{"036000291452", "00036000291452", true},  // UPC-A
		{"0036000291452", "00036000291452", true}, // the same item as EAN-13
		{"96385074", "00000096385074", true},      // EAN-8
		{"9780306406157", "09780306406157", true}, // ISBN-13
		{"978-0-306-40615-7", "09780306406157", true},
		{"10036000291459", "10036000291459", true}, // GTIN-14 of a case
		{"4006381333932", "", false},
		{"400638133393", "", false},
		{"40063813339A1", "", false},
		{"", "", false},
		{"٤٠٠٦٣٨١٣٣٣٩٣١", "", false}, // Arabic-Indic digits are not GS1 digits
	}
	for _, tc := range cases {
		got, err := NormalizeGTIN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeGTIN(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
