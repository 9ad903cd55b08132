package sqldb

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
)

// UpsertResult is what UpsertProducts did with one product.
type UpsertResult struct {
	ProductID string
	Created   bool
	// Err refuses the whole product; VariantErrs refuse single variants
	// (by their index in the product given) while the rest is stored.
	Err         error
	VariantErrs map[int]error
}

// MaxUpsertProducts bounds one UpsertProducts call.
const MaxUpsertProducts = 2000

// UpsertProducts creates or updates products by handle, as a bulk import
// does, in one transaction: a product whose handle exists is merged into it
// (names, descriptions and attributes by key; categories, images and
// options replaced when given; status when given), and its variants are
// created or replaced by SKU; stored variants the product does not name
// stay as they are. A product or variant that cannot be stored is reported
// in its result and the others are stored. Every product needs a handle.
func (db *DB) UpsertProducts(ctx context.Context, tenantID string, ps []catalog.Product) ([]UpsertResult, error) {
	if len(ps) > MaxUpsertProducts {
		return nil, apperr.Field("products", "at most 2000 products in one call", len(ps))
	}
	var out []UpsertResult
	err := db.writeTxAlone(ctx, func(tx *Tx) error {
		if tx.Engine() == Postgres {
			// A bulk load grows the tables under statements whose cached
			// generic plans were made when they were small (a sequential
			// scan per SKU looked up): plan each one for what is there.
			if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
				return err
			}
		}
		var err error
		out, err = upsertProductsTx(ctx, tx, tenantID, ps)
		return err
	})
	if err == nil {
		err = db.analyzeAfterBulk(ctx, variantCount(ps), "catalog_variants", "catalog_products", "catalog_search")
	}
	return out, err
}

// bulkRows is how many rows a bulk write must write for analyzeAfterBulk
// to refresh the statistics.
const bulkRows = 1000

// analyzeAfterBulk refreshes PostgreSQL's statistics of tables after a bulk
// write of rows rows. Autovacuum does it too, but later (or never, where it
// is off), and not at all for a tenant whose rows are a small part of a
// large table: the planner then takes the new tenant for a handful of rows
// and plans a lookup by SKU as a scan of all the tenant's variants. New
// statistics also make every session plan its cached statements again.
func (db *DB) analyzeAfterBulk(ctx context.Context, rows int, tables ...string) error {
	if db.engine != Postgres || rows < bulkRows {
		return nil
	}
	for _, t := range tables {
		if _, err := db.pool.Exec(ctx, `ANALYZE `+t); err != nil {
			return err
		}
	}
	return nil
}

func upsertProductsTx(ctx context.Context, tx *Tx, tenantID string, ps []catalog.Product) ([]UpsertResult, error) {
	out := make([]UpsertResult, len(ps))
	if len(ps) == 0 {
		return out, nil
	}
	w, err := beginCatalogWrite(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		out[i], err = w.upsertProduct(ctx, ps[i])
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// upsertProduct stores one product of a bulk upsert; the error is the
// database's (the result carries the product's own problems).
func (w *catalogWriter) upsertProduct(ctx context.Context, in catalog.Product) (UpsertResult, error) {
	res := UpsertResult{VariantErrs: map[int]error{}}
	in.TenantID = w.tenantID
	if in.Handle == "" {
		res.Err = apperr.Field("product.handle", "a handle groups an import's rows into a product", nil)
		return res, nil
	}
	stored, found, err := w.productByHandle(ctx, in.Handle)
	if err != nil {
		return res, err
	}
	p, origin := mergeProduct(stored, found, in, w.tx.Now())
	for attempt := 0; ; attempt++ {
		bad, whole, err := w.productProblems(ctx, &p, origin)
		if err != nil {
			return res, err
		}
		if whole == nil && len(bad) > 0 && attempt == 3 {
			whole = apperr.New(apperr.Invalid, "the product's variants are not valid")
		}
		if whole != nil {
			res.Err = whole
			return res, nil
		}
		if len(bad) == 0 {
			break
		}
		maps.Copy(res.VariantErrs, bad)
		p.Variants, origin = dropVariants(p.Variants, origin, bad)
	}
	if !found && len(p.Variants) == 0 {
		res.Err = apperr.New(apperr.Invalid, "the product has no valid variant")
		return res, nil
	}
	res.ProductID, res.Created = p.ID, !found
	return res, w.saveProduct(ctx, &p, !found)
}

// productProblems validates a merged product, then checks it against the
// catalog, and sorts the problems into those of single variants and those
// of the whole product; err is the database's.
func (w *catalogWriter) productProblems(ctx context.Context, p *catalog.Product, origin []int) (map[int]error, error, error) {
	if err := p.Validate("product"); err != nil {
		bad, whole := splitErrors(err, origin)
		return bad, whole, nil
	}
	err := w.checkProduct(ctx, p, "product")
	if err != nil && apperr.KindOf(err) == apperr.Internal {
		return nil, nil, err
	}
	bad, whole := splitErrors(err, origin)
	return bad, whole, nil
}

func (w *catalogWriter) productByHandle(ctx context.Context, handle string) (catalog.Product, bool, error) {
	var productID string
	err := w.tx.QueryRow(ctx, `SELECT id FROM catalog_products WHERE tenant_id = $1 AND handle = $2 AND handle <> ''`, w.tenantID, handle).Scan(&productID)
	if errors.Is(err, ErrNoRows) {
		return catalog.Product{}, false, nil
	}
	if err != nil {
		return catalog.Product{}, false, err
	}
	p, err := findProduct(ctx, w.tx, w.tenantID, productID)
	return p, err == nil, err
}

// mergeProduct lays an upsert over the stored product. origin gives, for
// each variant of the result, its index in the upsert (-1: stored, not
// named by the upsert).
func mergeProduct(stored catalog.Product, found bool, in catalog.Product, now time.Time) (catalog.Product, []int) {
	p := in
	p.UpdatedAt = now
	if !found {
		p.ID, p.CreatedAt = id.New(), now
		p.Variants = slices.Clone(in.Variants)
		origin := make([]int, len(in.Variants))
		for i := range in.Variants {
			p.Variants[i].ID = ""
			origin[i] = i
		}
		return p, origin
	}
	p = stored
	p.UpdatedAt = now
	if in.Status != "" {
		p.Status = in.Status
	}
	p.Names = mergeTexts(stored.Names, in.Names)
	p.Descriptions = mergeTexts(stored.Descriptions, in.Descriptions)
	p.Attributes = mergeTexts(stored.Attributes, in.Attributes)
	if len(in.Categories) > 0 {
		p.Categories = in.Categories
	}
	if len(in.Images) > 0 {
		p.Images = in.Images
	}
	if len(in.Options) > 0 {
		p.Options = in.Options
	}
	p.Variants = slices.Clone(stored.Variants)
	origin := make([]int, len(p.Variants))
	for i := range origin {
		origin[i] = -1
	}
	claimed := map[int]bool{}
	for i, v := range in.Variants {
		j := slices.IndexFunc(p.Variants, func(s catalog.Variant) bool { return s.SKU == v.SKU })
		if j < 0 || claimed[j] {
			// New, or a second variant of the upsert with the same SKU:
			// appended, so validation names the duplicate.
			v.ID = ""
			p.Variants, origin = append(p.Variants, v), append(origin, i)
			continue
		}
		v.ID, v.CreatedAt = p.Variants[j].ID, p.Variants[j].CreatedAt
		if v.Status == "" { // an upsert that does not say keeps the status
			v.Status = p.Variants[j].Status
		}
		p.Variants[j], origin[j], claimed[j] = v, i, true
	}
	return p, origin
}

func mergeTexts(stored, in map[string]string) map[string]string {
	if len(in) == 0 {
		return stored
	}
	out := maps.Clone(stored)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, in)
	return out
}

var variantField = regexp.MustCompile(`^product\.variants\[(\d+)\]\.?(.*)$`)

// splitErrors sorts a product's field errors into those of single upserted
// variants (by upsert index, worded for that row) and the rest, which
// refuse the product.
func splitErrors(err error, origin []int) (map[int]error, error) {
	bad := map[int]error{}
	if err == nil {
		return bad, nil
	}
	e, ok := apperr.As(err)
	if !ok {
		return bad, err
	}
	var rest []apperr.FieldError
	for _, f := range e.Fields {
		m := variantField.FindStringSubmatch(f.Location)
		if m == nil {
			rest = append(rest, f)
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(origin) || origin[i] < 0 {
			rest = append(rest, f)
			continue
		}
		loc := m[2]
		if loc == "" {
			loc = "variant"
		}
		bad[origin[i]] = &apperr.Error{Kind: e.Kind, Message: "the variant is not valid", Fields: []apperr.FieldError{{Location: loc, Message: f.Message, Value: f.Value}}}
	}
	if len(rest) > 0 || len(e.Fields) == 0 {
		return bad, &apperr.Error{Kind: e.Kind, Message: e.Message, Fields: rest}
	}
	return bad, nil
}

func dropVariants(vs []catalog.Variant, origin []int, bad map[int]error) ([]catalog.Variant, []int) {
	var outV []catalog.Variant
	var outO []int
	for i, v := range vs {
		if _, drop := bad[origin[i]]; drop && origin[i] >= 0 {
			continue
		}
		outV, outO = append(outV, v), append(outO, origin[i])
	}
	return outV, outO
}

func variantCount(ps []catalog.Product) int {
	n := 0
	for _, p := range ps {
		n += len(p.Variants)
	}
	return n
}
