package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
)

const productColumns = `tenant_id, id, handle, status, names, descriptions, categories, attributes, images, options, created_at, updated_at`

const variantColumns = `id, product_id, sku, barcode, options, attributes, images, status, gift_card, tax_code, position, created_at, updated_at`

// decodeJSON decodes each stored JSON text into the destination of the same
// position.
func decodeJSON(what string, raws []string, dests ...any) error {
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), dests[i]); err != nil {
			return fmt.Errorf("sqldb: %s: %w", what, err)
		}
	}
	return nil
}

func scanProduct(r Row) (catalog.Product, error) {
	var p catalog.Product
	var names, descs, cats, attrs, images, options string
	if err := r.Scan(&p.TenantID, &p.ID, &p.Handle, &p.Status, &names, &descs, &cats, &attrs, &images, &options,
		&p.CreatedAt, &p.UpdatedAt); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, decodeJSON("product "+p.ID, []string{names, descs, cats, attrs, images, options},
		&p.Names, &p.Descriptions, &p.Categories, &p.Attributes, &p.Images, &p.Options)
}

func scanVariant(r Row) (catalog.Variant, error) {
	var v catalog.Variant
	var options, attrs, images string
	if err := r.Scan(&v.ID, &v.ProductID, &v.SKU, &v.Barcode, &options, &attrs, &images, &v.Status, &v.GiftCard, &v.TaxCode,
		&v.Position, &v.CreatedAt, &v.UpdatedAt); err != nil {
		return v, err
	}
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, decodeJSON("variant "+v.ID, []string{options, attrs, images}, &v.Options, &v.Attributes, &v.Images)
}

// CreateProduct stores a new product with its variants. Invalid fields are
// Invalid; a category that does not exist, or a SKU, barcode or handle
// another product has, is a Conflict naming the field.
func (db *DB) CreateProduct(ctx context.Context, p catalog.Product) (catalog.Product, error) {
	if err := p.Validate("body"); err != nil {
		return p, err
	}
	p.ID, p.CreatedAt = id.New(), db.Now()
	p.UpdatedAt = p.CreatedAt
	for i := range p.Variants {
		p.Variants[i].ID = ""
	}
	saved := p
	err := db.WriteTx(ctx, func(tx *Tx) error {
		saved = p
		saved.Variants = slices.Clone(p.Variants)
		w, err := beginCatalogWrite(ctx, tx, p.TenantID)
		if err != nil {
			return err
		}
		if err := w.checkProduct(ctx, &saved, "body"); err != nil {
			return err
		}
		return w.saveProduct(ctx, &saved, true)
	})
	return saved, uniqueConflict(err, "a product clashes with this one's handle, SKUs or barcodes")
}

// uniqueConflict turns a unique violation that slipped past the checks (a
// concurrent write) into a Conflict.
func uniqueConflict(err error, msg string) error {
	if IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "%s", msg)
	}
	return err
}

// FindProductByID returns a product with all its variants (archived ones
// too), or NotFound.
func (db *DB) FindProductByID(ctx context.Context, tenantID, productID string) (catalog.Product, error) {
	return findProduct(ctx, db.Read(), tenantID, productID)
}

func findProduct(ctx context.Context, q Querier, tenantID, productID string) (catalog.Product, error) {
	p, err := scanProduct(q.QueryRow(ctx, `SELECT `+productColumns+` FROM catalog_products WHERE tenant_id = $1 AND id = $2`, tenantID, productID))
	if errors.Is(err, ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "no product with id %s", id.Format(id.Product, productID))
	}
	if err != nil {
		return p, err
	}
	byProduct, err := variantsOf(ctx, q, tenantID, []string{p.ID})
	p.Variants = byProduct[p.ID]
	return p, err
}

// variantsOf loads the variants of some products, by position.
func variantsOf(ctx context.Context, q Querier, tenantID string, productIDs []string) (map[string][]catalog.Variant, error) {
	out := map[string][]catalog.Variant{}
	if len(productIDs) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, pid := range productIDs {
		args = append(args, pid)
	}
	err := queryEach(ctx, q, `SELECT `+variantColumns+` FROM catalog_variants WHERE tenant_id = $1 AND product_id IN (`+
		placeholders(2, len(productIDs))+`) ORDER BY product_id, position`, args, func(r Rows) error {
		v, err := scanVariant(r)
		out[v.ProductID] = append(out[v.ProductID], v)
		return err
	})
	return out, err
}

// ProductFilter pages through a tenant's products, oldest first.
type ProductFilter struct {
	TenantID string
	Status   string // optional
	Category string // optional: products in this category (not below it)
	Limit    int
	After    string // the last product id of the previous page
}

// FindProducts lists products with their variants.
func (db *DB) FindProducts(ctx context.Context, f ProductFilter) ([]catalog.Product, error) {
	query := `SELECT ` + productColumns + ` FROM catalog_products p WHERE tenant_id = $1 AND id > $2`
	args := []any{f.TenantID, f.After, f.Limit}
	if f.Status != "" {
		args = append(args, f.Status)
		query += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Category != "" {
		args = append(args, f.Category)
		query += fmt.Sprintf(` AND EXISTS (SELECT 1 FROM catalog_product_categories c WHERE c.tenant_id = p.tenant_id
			AND c.category_code = $%d AND c.product_id = p.id)`, len(args))
	}
	var out []catalog.Product
	var ids []string
	err := queryEach(ctx, db.Read(), query+` ORDER BY id LIMIT $3`, args, func(r Rows) error {
		p, err := scanProduct(r)
		out = append(out, p)
		ids = append(ids, p.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	byProduct, err := variantsOf(ctx, db.Read(), f.TenantID, ids)
	for i := range out {
		out[i].Variants = byProduct[out[i].ID]
	}
	return out, err
}

// UpdateProduct applies edit to a product and stores it if it stays valid.
// Variants are matched to the stored ones by SKU (a variant keeps its id);
// a stored variant the edited list leaves out is kept, archived, so orders
// and prices that name its SKU still find it.
func (db *DB) UpdateProduct(ctx context.Context, tenantID, productID string, edit func(*catalog.Product)) (catalog.Product, error) {
	var out catalog.Product
	err := db.WriteTx(ctx, func(tx *Tx) error {
		old, err := findProduct(ctx, tx, tenantID, productID)
		if err != nil {
			return err
		}
		p := old
		p.Variants = slices.Clone(old.Variants)
		edit(&p)
		p.ID, p.TenantID, p.CreatedAt, p.UpdatedAt = old.ID, old.TenantID, old.CreatedAt, tx.Now()
		p.Variants = mergeVariants(old.Variants, p.Variants)
		if err := p.Validate("body"); err != nil {
			return err
		}
		w, err := beginCatalogWrite(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := w.checkProduct(ctx, &p, "body"); err != nil {
			return err
		}
		out = p
		return w.saveProduct(ctx, &out, false)
	})
	return out, uniqueConflict(err, "a product clashes with this one's handle, SKUs or barcodes")
}

// mergeVariants gives edited variants the ids of stored ones of the same
// SKU, and appends stored variants the edit left out, archived.
func mergeVariants(stored, edited []catalog.Variant) []catalog.Variant {
	bySKU := map[string]catalog.Variant{}
	for _, v := range stored {
		bySKU[v.SKU] = v
	}
	out := make([]catalog.Variant, 0, len(edited)+len(stored))
	kept := map[string]bool{}
	for _, v := range edited {
		v.ID = ""
		if s, ok := bySKU[v.SKU]; ok && !kept[v.SKU] {
			v.ID, v.CreatedAt = s.ID, s.CreatedAt
		}
		kept[v.SKU] = true
		out = append(out, v)
	}
	for _, s := range stored {
		if !kept[s.SKU] {
			s.Status = catalog.StatusArchived
			out = append(out, s)
		}
	}
	return out
}

// ArchiveProduct ends a product's life: it and its variants no longer sell
// or show in search, and stay for order history.
func (db *DB) ArchiveProduct(ctx context.Context, tenantID, productID string) (catalog.Product, error) {
	return db.UpdateProduct(ctx, tenantID, productID, func(p *catalog.Product) { p.Status = catalog.StatusArchived })
}

// FindVariantBySKU returns the product of a SKU, and the variant's index in
// its Variants; NotFound when no variant has the SKU.
func (db *DB) FindVariantBySKU(ctx context.Context, tenantID, sku string) (catalog.Product, int, error) {
	var productID string
	err := db.Read().QueryRow(ctx, `SELECT product_id FROM catalog_variants WHERE tenant_id = $1 AND sku = $2`, tenantID, sku).Scan(&productID)
	if errors.Is(err, ErrNoRows) {
		return catalog.Product{}, -1, apperr.New(apperr.NotFound, "no variant with SKU %q", sku)
	}
	if err != nil {
		return catalog.Product{}, -1, err
	}
	p, err := findProduct(ctx, db.Read(), tenantID, productID)
	if err != nil {
		return p, -1, err
	}
	return p, slices.IndexFunc(p.Variants, func(v catalog.Variant) bool { return v.SKU == sku }), nil
}
