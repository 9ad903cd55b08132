package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// catalogShop is a tenant with a small category tree:
// women > tops > shirts, women > dresses, home.
type catalogShop struct {
	t        *testing.T
	db       *sqldb.DB
	tenantID string
}

func newCatalogShop(t *testing.T, db *sqldb.DB, tenantID string) *catalogShop {
	t.Helper()
	s := &catalogShop{t: t, db: db, tenantID: tenantID}
	for _, c := range [][3]string{{"women", "", "Women"}, {"tops", "women", "Tops"}, {"shirts", "tops", "Shirts"},
		{"dresses", "women", "Dresses"}, {"home", "", "Home"}} {
		if _, err := db.CreateCategory(context.Background(), catalog.Category{TenantID: tenantID, Code: c[0], Parent: c[1],
			Names: map[string]string{"en": c[2]}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// product makes a product with one variant per colour×size.
func (s *catalogShop) product(handle, en, zh string, cats []string, colors, sizes []string) catalog.Product {
	s.t.Helper()
	p := catalog.Product{TenantID: s.tenantID, Handle: handle, Names: map[string]string{"en": en}, Categories: cats,
		Attributes: map[string]string{"brand": "OMO"}, Options: []string{"color", "size"}}
	if zh != "" {
		p.Names["zh-Hant"] = zh
	}
	for _, c := range colors {
		for _, sz := range sizes {
			p.Variants = append(p.Variants, catalog.Variant{SKU: fmt.Sprintf("%s-%s-%s", handle, strings.ToUpper(c[:3]), sz),
				Options: map[string]string{"color": c, "size": sz}})
		}
	}
	out, err := s.db.CreateProduct(context.Background(), p)
	if err != nil {
		s.t.Fatalf("create %s: %v", handle, err)
	}
	return out
}

func wantKind(t *testing.T, err error, kind apperr.Kind, location string) {
	t.Helper()
	if !apperr.Is(err, kind) {
		t.Fatalf("want %s, got %v", kind, err)
	}
	if location == "" {
		return
	}
	e, _ := apperr.As(err)
	for _, f := range e.Fields {
		if f.Location == location {
			return
		}
	}
	t.Fatalf("want an error at %s, got %v (%+v)", location, err, e.Fields)
}

func TestCatalog_Categories(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		s := newCatalogShop(t, db, tn.ID)
		_, err := db.CreateCategory(ctx, catalog.Category{TenantID: tn.ID, Code: "tops", Names: map[string]string{"en": "x"}})
		wantKind(t, err, apperr.Conflict, "")
		_, err = db.CreateCategory(ctx, catalog.Category{TenantID: tn.ID, Code: "men", Parent: "nope", Names: map[string]string{"en": "Men"}})
		wantKind(t, err, apperr.Invalid, "body.parent")
		top := "women"
		kids, err := db.FindCategories(ctx, sqldb.CategoryFilter{TenantID: tn.ID, Parent: &top, Limit: 10})
		if err != nil || len(kids) != 2 || kids[0].Code != "dresses" || kids[1].Code != "tops" {
			t.Fatalf("children of women: %v %v", kids, err)
		}
		women := kids[0] // any will do for the cycle: find women itself
		all, _ := db.FindCategories(ctx, sqldb.CategoryFilter{TenantID: tn.ID, Limit: 10})
		for _, c := range all {
			if c.Code == "women" {
				women = c
			}
		}
		_, err = db.UpdateCategory(ctx, tn.ID, women.ID, func(c *catalog.Category) { c.Parent = "shirts" })
		wantKind(t, err, apperr.Invalid, "body.parent")
		s.product("DR-1", "Summer dress", "", []string{"dresses"}, []string{"red"}, []string{"S"})
		for _, c := range all {
			if c.Code == "dresses" {
				wantKind(t, db.DeleteCategory(ctx, tn.ID, c.ID), apperr.Conflict, "")
			}
			if c.Code == "home" {
				if err := db.DeleteCategory(ctx, tn.ID, c.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		other := sqldbtest.Tenant(t, db)
		_, err = db.FindCategoryByID(ctx, other.ID, women.ID)
		wantKind(t, err, apperr.NotFound, "")
	})
}

func TestCatalog_ProductLifecycle(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		s := newCatalogShop(t, db, tn.ID)
		p := s.product("LS-1", "Linen shirt", "亞麻襯衫", []string{"shirts"}, []string{"white", "blue"}, []string{"M", "L"})
		if len(p.Variants) != 4 || p.Variants[0].ID == "" || p.Variants[3].Position != 3 {
			t.Fatalf("created: %+v", p.Variants)
		}
		got, err := db.FindProductByID(ctx, tn.ID, p.ID)
		if err != nil || got.Names["zh-Hant"] != "亞麻襯衫" || len(got.Variants) != 4 || got.Variants[1].Options["size"] != "L" {
			t.Fatalf("found: %+v %v", got, err)
		}
		// Another product may not take a SKU, a barcode or a handle.
		clash := catalog.Product{TenantID: tn.ID, Handle: "LS-1", Names: map[string]string{"en": "x"},
			Variants: []catalog.Variant{{SKU: "LS-1-WHI-M"}}}
		_, err = db.CreateProduct(ctx, clash)
		wantKind(t, err, apperr.Conflict, "body.variants[0].sku")
		wantKind(t, err, apperr.Conflict, "body.handle")
		_, err = db.CreateProduct(ctx, catalog.Product{TenantID: tn.ID, Names: map[string]string{"en": "x"}, Categories: []string{"shoes"},
			Variants: []catalog.Variant{{SKU: "X-1"}}})
		wantKind(t, err, apperr.Conflict, "body.categories[0]")
		// Editing the variants: one kept, one new, the rest archived.
		up, err := db.UpdateProduct(ctx, tn.ID, p.ID, func(q *catalog.Product) {
			q.Variants = []catalog.Variant{q.Variants[2], {SKU: "LS-1-BLA-M", Barcode: "4006381333931", Options: map[string]string{"color": "black", "size": "M"}}}
		})
		if err != nil {
			t.Fatal(err)
		}
		statuses := map[string]string{}
		for _, v := range up.Variants {
			statuses[v.SKU] = v.Status
		}
		if len(up.Variants) != 5 || up.Variants[0].ID != p.Variants[2].ID || statuses["LS-1-WHI-M"] != "archived" || statuses["LS-1-BLA-M"] != "active" {
			t.Fatalf("after edit: %v", statuses)
		}
		_, err = db.CreateProduct(ctx, catalog.Product{TenantID: tn.ID, Names: map[string]string{"en": "y"},
			Variants: []catalog.Variant{{SKU: "Y-1", Barcode: "04006381333931"}}})
		wantKind(t, err, apperr.Conflict, "body.variants[0].barcode") // the same GTIN written with a leading zero
		found, i, err := db.FindVariantBySKU(ctx, tn.ID, "LS-1-BLA-M")
		if err != nil || found.ID != p.ID || found.Variants[i].Barcode != "4006381333931" {
			t.Fatalf("by SKU: %v %d %v", found.ID, i, err)
		}
		archived, err := db.ArchiveProduct(ctx, tn.ID, p.ID)
		if err != nil || archived.Status != catalog.StatusArchived {
			t.Fatalf("archive: %v %v", archived.Status, err)
		}
		other := sqldbtest.Tenant(t, db)
		_, err = db.FindProductByID(ctx, other.ID, p.ID)
		wantKind(t, err, apperr.NotFound, "")
		_, _, err = db.FindVariantBySKU(ctx, other.ID, "LS-1-BLA-M")
		wantKind(t, err, apperr.NotFound, "")
	})
}

func TestCatalog_FindProductsPages(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		s := newCatalogShop(t, db, tn.ID)
		for i := range 5 {
			cat := "dresses"
			if i%2 == 0 {
				cat = "shirts"
			}
			s.product(fmt.Sprintf("P-%d", i), fmt.Sprintf("Product %d", i), "", []string{cat}, []string{"red"}, []string{"S"})
		}
		var seen []string
		after := ""
		for {
			page, err := db.FindProducts(ctx, sqldb.ProductFilter{TenantID: tn.ID, Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				seen = append(seen, p.Handle)
				if len(p.Variants) != 1 {
					t.Fatalf("%s has %d variants", p.Handle, len(p.Variants))
				}
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(seen, []string{"P-0", "P-1", "P-2", "P-3", "P-4"}) {
			t.Fatalf("pages: %v", seen)
		}
		shirts, err := db.FindProducts(ctx, sqldb.ProductFilter{TenantID: tn.ID, Category: "shirts", Limit: 10})
		if err != nil || len(shirts) != 3 {
			t.Fatalf("shirts: %d %v", len(shirts), err)
		}
	})
}

func TestCatalog_UpsertProducts(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		newCatalogShop(t, db, tn.ID)
		first := []catalog.Product{
			{Handle: "TEE", Names: map[string]string{"en": "Tee"}, Categories: []string{"tops"}, Options: []string{"size"},
				Variants: []catalog.Variant{{SKU: "TEE-S", Options: map[string]string{"size": "S"}},
					{SKU: "TEE-M", Barcode: "4006381333932", Options: map[string]string{"size": "M"}}, // wrong check digit
					{SKU: "TEE-L", Options: map[string]string{"size": "L"}}}},
			{Handle: "BAD", Names: map[string]string{"en": "Bad"}, Categories: []string{"nope"}, Variants: []catalog.Variant{{SKU: "BAD-1"}}},
		}
		res, err := db.UpsertProducts(ctx, tn.ID, first)
		if err != nil {
			t.Fatal(err)
		}
		if !res[0].Created || res[0].Err != nil || len(res[0].VariantErrs) != 1 || res[0].VariantErrs[1] == nil {
			t.Fatalf("tee: %+v", res[0])
		}
		if !strings.Contains(apperr.Summary(res[0].VariantErrs[1]), "barcode") || res[1].Err == nil || !apperr.Is(res[1].Err, apperr.Conflict) {
			t.Fatalf("errors: %v / %v", res[0].VariantErrs[1], res[1].Err)
		}
		// Again with a Chinese name and the fixed variant: merged, not doubled.
		res, err = db.UpsertProducts(ctx, tn.ID, []catalog.Product{{Handle: "TEE", Names: map[string]string{"zh-Hant": "T恤"},
			Variants: []catalog.Variant{{SKU: "TEE-M", Barcode: "4006381333931", Options: map[string]string{"size": "M"}}}}})
		if err != nil || res[0].Created || res[0].Err != nil || len(res[0].VariantErrs) != 0 {
			t.Fatalf("second upsert: %+v %v", res, err)
		}
		p, err := db.FindProductByID(ctx, tn.ID, res[0].ProductID)
		if err != nil || p.Names["en"] != "Tee" || p.Names["zh-Hant"] != "T恤" || len(p.Variants) != 3 || p.Categories[0] != "tops" {
			t.Fatalf("merged: %+v %v", p, err)
		}
	})
}
