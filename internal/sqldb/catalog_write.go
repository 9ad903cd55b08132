package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
)

// catalogWriter is one write transaction's hold on a tenant's catalog: the
// catalog version its writes carry and the doc numbers it hands out. It
// raises the version in catalog_search_state first, which on PostgreSQL
// locks the tenant's row until the commit: catalog writes of a tenant
// commit one after another, in version order, so a search cache that has
// read up to version v has seen every write of version v or below.
type catalogWriter struct {
	tx         *Tx
	tenantID   string
	slot       int64
	version    int64
	categories map[string]string // code → parent, loaded on first use
}

// docBits is how many low bits of a doc number the tenant's own counter
// takes; the tenant's slot is above them, so a tenant's docs are one range.
const docBits = 32

func beginCatalogWrite(ctx context.Context, tx *Tx, tenantID string) (*catalogWriter, error) {
	w := &catalogWriter{tx: tx, tenantID: tenantID}
	for range 5 {
		err := tx.QueryRow(ctx, `UPDATE catalog_search_state SET version = version + 1 WHERE tenant_id = $1 RETURNING slot, version`,
			tenantID).Scan(&w.slot, &w.version)
		if err == nil {
			return w, nil
		}
		if !errors.Is(err, ErrNoRows) {
			return nil, err
		}
		// A tenant's first catalog write takes the next free slot. Two
		// tenants taking the same slot at once on PostgreSQL: one insert
		// does nothing, and that tenant tries the next slot.
		if _, err := tx.Exec(ctx, `INSERT INTO catalog_search_state (tenant_id, slot, next_doc, version)
			SELECT $1, COALESCE(MAX(slot), 0) + 1, 0, 0 FROM catalog_search_state WHERE true ON CONFLICT DO NOTHING`, tenantID); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("sqldb: no catalog slot for the tenant after 5 tries")
}

// newDocs hands out n doc numbers.
func (w *catalogWriter) newDocs(ctx context.Context, n int) ([]int64, error) {
	var last int64
	if err := w.tx.QueryRow(ctx, `UPDATE catalog_search_state SET next_doc = next_doc + $2 WHERE tenant_id = $1 RETURNING next_doc`,
		w.tenantID, n).Scan(&last); err != nil {
		return nil, err
	}
	if last >= 1<<docBits {
		return nil, apperr.New(apperr.Conflict, "the catalog has had %d variants; it cannot number more", last)
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = w.slot<<docBits | (last - int64(n) + 1 + int64(i))
	}
	return out, nil
}

// categoryParents returns the tenant's categories (code → parent code).
func (w *catalogWriter) categoryParents(ctx context.Context) (map[string]string, error) {
	if w.categories != nil {
		return w.categories, nil
	}
	m, err := categoryParents(ctx, w.tx, w.tenantID)
	w.categories = m
	return m, err
}

func categoryParents(ctx context.Context, q Querier, tenantID string) (map[string]string, error) {
	m := map[string]string{}
	err := queryEach(ctx, q, `SELECT code, parent_code FROM catalog_categories WHERE tenant_id = $1`, []any{tenantID}, func(r Rows) error {
		var code, parent string
		err := r.Scan(&code, &parent)
		m[code] = parent
		return err
	})
	return m, err
}

// checkProduct checks what a product needs of the rest of the catalog: its
// categories exist, and no other product has its SKUs, barcodes or handle.
func (w *catalogWriter) checkProduct(ctx context.Context, p *catalog.Product, base string) error {
	cats, err := w.categoryParents(ctx)
	if err != nil {
		return err
	}
	var fields []apperr.FieldError
	for i, c := range p.Categories {
		if _, ok := cats[c]; !ok {
			fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s.categories[%d]", base, i), Message: "no category has this code", Value: c})
		}
	}
	owners, err := w.variantOwners(ctx, p)
	if err != nil {
		return err
	}
	for i, v := range p.Variants {
		if other, ok := owners["sku:"+v.SKU]; ok && other != p.ID {
			fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s.variants[%d].sku", base, i),
				Message: "product " + id.Format(id.Product, other) + " has this SKU", Value: v.SKU})
		}
		if g := gtinOf(v.Barcode); g != "" {
			if other, ok := owners["gtin:"+g]; ok && other != p.ID {
				fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s.variants[%d].barcode", base, i),
					Message: "a variant of product " + id.Format(id.Product, other) + " has this barcode", Value: v.Barcode})
			}
		}
	}
	if p.Handle != "" {
		var other string
		err := w.tx.QueryRow(ctx, `SELECT id FROM catalog_products WHERE tenant_id = $1 AND handle = $2 AND handle <> ''`, w.tenantID, p.Handle).Scan(&other)
		if err == nil && other != p.ID {
			fields = append(fields, apperr.FieldError{Location: base + ".handle", Message: "product " + id.Format(id.Product, other) + " has this handle", Value: p.Handle})
		} else if err != nil && !errors.Is(err, ErrNoRows) {
			return err
		}
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Conflict, Message: "the product clashes with the catalog", Fields: fields}
	}
	return nil
}

// variantOwners finds which products hold the product's SKUs and barcodes:
// "sku:<sku>" and "gtin:<gtin>" → product id.
func (w *catalogWriter) variantOwners(ctx context.Context, p *catalog.Product) (map[string]string, error) {
	skus, gtins := make([]any, 0, len(p.Variants)), make([]any, 0, len(p.Variants))
	for _, v := range p.Variants {
		skus = append(skus, v.SKU)
		if g := gtinOf(v.Barcode); g != "" {
			gtins = append(gtins, g)
		}
	}
	out := map[string]string{}
	collect := func(kind, column string, values []any) error {
		if len(values) == 0 {
			return nil
		}
		// "<> ''" lets the partial index on gtin serve the query.
		return queryEach(ctx, w.tx, `SELECT `+column+`, product_id FROM catalog_variants WHERE tenant_id = $1 AND `+column+` <> '' AND `+
			column+` IN (`+placeholders(2, len(values))+`)`, append([]any{w.tenantID}, values...), func(r Rows) error {
			var key, owner string
			err := r.Scan(&key, &owner)
			out[kind+key] = owner
			return err
		})
	}
	if err := collect("sku:", "sku", skus); err != nil {
		return nil, err
	}
	return out, collect("gtin:", "gtin", gtins)
}

func gtinOf(barcode string) string {
	g, err := catalog.NormalizeGTIN(barcode)
	if err != nil {
		return ""
	}
	return g
}

// placeholders returns "$from, $from+1, …" for n values.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqldb: catalog JSON: %v", err)) // maps and slices of strings always marshal
	}
	return string(raw)
}

// storedMap and storedList keep empty values as {} and [] rather than null.
func storedMap(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	return jsonText(m)
}

func storedList(l []string) string {
	if l == nil {
		return "[]"
	}
	return jsonText(l)
}

// saveProduct writes a product and its variants. old is the stored product
// (nil for a new one); variants whose ID is set exist already.
func (w *catalogWriter) saveProduct(ctx context.Context, p *catalog.Product, isNew bool) error {
	args := []any{w.tenantID, p.ID, p.Handle, p.Status, storedMap(p.Names), storedMap(p.Descriptions), storedList(p.Categories),
		storedMap(p.Attributes), storedList(p.Images), storedList(p.Options), p.CreatedAt, p.UpdatedAt}
	// The update sets created_at to itself: PostgreSQL must see every parameter.
	q := `UPDATE catalog_products SET handle = $3, status = $4, names = $5, descriptions = $6, categories = $7, attributes = $8,
		images = $9, options = $10, created_at = $11, updated_at = $12 WHERE tenant_id = $1 AND id = $2`
	if isNew {
		q = `INSERT INTO catalog_products (tenant_id, id, handle, status, names, descriptions, categories, attributes, images, options,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	}
	if _, err := w.tx.Exec(ctx, q, args...); err != nil {
		return err
	}
	if err := w.linkCategories(ctx, p, isNew); err != nil {
		return err
	}
	var fresh []int
	for i := range p.Variants {
		if p.Variants[i].ID == "" {
			fresh = append(fresh, i)
		}
	}
	docs, err := w.newDocs(ctx, len(fresh))
	if err != nil {
		return err
	}
	for i := range p.Variants {
		doc := int64(0)
		if j := slices.Index(fresh, i); j >= 0 {
			doc = docs[j]
		}
		if err := w.saveVariant(ctx, p, &p.Variants[i], i, doc); err != nil {
			return err
		}
	}
	return nil
}

func (w *catalogWriter) linkCategories(ctx context.Context, p *catalog.Product, isNew bool) error {
	if !isNew {
		if _, err := w.tx.Exec(ctx, `DELETE FROM catalog_product_categories WHERE tenant_id = $1 AND product_id = $2`, w.tenantID, p.ID); err != nil {
			return err
		}
	}
	for _, c := range p.Categories {
		if _, err := w.tx.Exec(ctx, `INSERT INTO catalog_product_categories (tenant_id, category_code, product_id) VALUES ($1, $2, $3)`,
			w.tenantID, c, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// searchTokens are what the text index holds for a variant: the product's
// names in every language, the variant's option values, SKU and barcode.
func searchTokens(p *catalog.Product, v *catalog.Variant) string {
	texts := make([]string, 0, len(p.Names)+len(v.Options))
	for _, lang := range slices.Sorted(maps.Keys(p.Names)) {
		texts = append(texts, p.Names[lang])
	}
	for _, o := range p.Options {
		texts = append(texts, v.Options[o])
	}
	return strings.Join(catalog.IndexTokens(texts, v.SKU, v.Barcode), " ")
}

// saveVariant writes one variant: a new one (ID "") gets an id and the doc
// given; an existing one keeps both.
func (w *catalogWriter) saveVariant(ctx context.Context, p *catalog.Product, v *catalog.Variant, position int, doc int64) error {
	isNew := v.ID == ""
	if isNew {
		v.ID, v.CreatedAt = id.New(), p.UpdatedAt
	} else if err := w.tx.QueryRow(ctx, `SELECT doc FROM catalog_variants WHERE tenant_id = $1 AND id = $2`, w.tenantID, v.ID).Scan(&doc); err != nil {
		return fmt.Errorf("sqldb: variant %s: %w", v.ID, err)
	}
	v.ProductID, v.Position, v.UpdatedAt = p.ID, position, p.UpdatedAt
	tokens := searchTokens(p, v)
	args := []any{w.tenantID, v.ID, p.ID, doc, v.SKU, v.Barcode, gtinOf(v.Barcode), storedMap(v.Options), storedMap(v.Attributes),
		storedList(v.Images), v.Status, v.GiftCard, v.TaxCode, v.Position, w.version, tokens, v.CreatedAt, v.UpdatedAt}
	q := `UPDATE catalog_variants SET product_id = $3, sku = $5, barcode = $6, gtin = $7, options = $8, attributes = $9, images = $10,
		status = $11, gift_card = $12, tax_code = $13, position = $14, version = $15, search_tokens = $16, created_at = $17, updated_at = $18
		WHERE tenant_id = $1 AND id = $2 AND doc = $4`
	if isNew {
		q = `INSERT INTO catalog_variants (tenant_id, id, product_id, doc, sku, barcode, gtin, options, attributes, images, status,
			gift_card, tax_code, position, version, search_tokens, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`
	}
	if _, err := w.tx.Exec(ctx, q, args...); err != nil {
		return err
	}
	return w.indexDoc(ctx, doc, tokens, isNew)
}

// tenantLexeme is the token every PostgreSQL text index entry of a tenant
// carries, so that the index itself keeps tenants apart.
func tenantLexeme(tenantID string) string { return "§t" + tenantID }

// indexDoc puts a variant's tokens in the text index: catalog_search, an
// FTS5 table on SQLite (its rowid is the doc) and a tsvector table on
// PostgreSQL.
func (w *catalogWriter) indexDoc(ctx context.Context, doc int64, tokens string, isNew bool) error {
	if w.tx.Engine() == Postgres {
		lexemes := append(strings.Fields(tokens), tenantLexeme(w.tenantID))
		_, err := w.tx.Exec(ctx, `INSERT INTO catalog_search (tenant_id, doc, tokens) VALUES ($1, $2, array_to_tsvector($3::text[]))
			ON CONFLICT (tenant_id, doc) DO UPDATE SET tokens = excluded.tokens`, w.tenantID, doc, lexemes)
		return err
	}
	if !isNew {
		if _, err := w.tx.Exec(ctx, `DELETE FROM catalog_search WHERE rowid = $1`, doc); err != nil {
			return err
		}
	}
	_, err := w.tx.Exec(ctx, `INSERT INTO catalog_search (rowid, tokens) VALUES ($1, $2)`, doc, tokens)
	return err
}
