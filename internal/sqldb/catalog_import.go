package sqldb

import (
	"context"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
)

// PriceImport is one price of a prices import: its list and its price.
type PriceImport struct {
	ListID string
	Price  catalog.Price
}

// applyProducts upserts an import chunk's products by handle. Each item's
// Params.Variants[i] came from the file row Lines[i]: a problem of the
// whole product rejects all its rows, a problem of one variant its row.
func applyProducts(ctx context.Context, tx *Tx, tenantID string, items []ImportItem[catalog.Product], n *importCounts) ([]Rejection, error) {
	if len(items) == 0 {
		return nil, nil
	}
	if tx.Engine() == Postgres {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil { // see UpsertProducts
			return nil, err
		}
	}
	w, err := beginCatalogWrite(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []Rejection
	for _, it := range items {
		res, err := w.upsertProduct(ctx, it.Params)
		if err != nil {
			return nil, err
		}
		if res.Err != nil {
			out = append(out, rejectItem(it.Lines, it.Raw, res.Err)...)
			n.rejected += int64(len(it.Lines))
			continue
		}
		for i, line := range it.Lines {
			if verr, bad := res.VariantErrs[i]; bad {
				out = append(out, rejectItem([]int64{line}, it.Raw[i:i+1], verr)...)
				n.rejected++
			} else {
				n.accepted++
			}
		}
	}
	return out, nil
}

// applyPrices sets an import chunk's prices; a price for a SKU the catalog
// does not have is rejected.
func applyPrices(ctx context.Context, tx *Tx, tenantID string, items []ImportItem[PriceImport], n *importCounts) ([]Rejection, error) {
	if len(items) == 0 {
		return nil, nil
	}
	prices := make([]catalog.Price, len(items))
	for i, it := range items {
		prices[i] = it.Params.Price
	}
	missing, err := unknownSKUs(ctx, tx, tenantID, prices)
	if err != nil {
		return nil, err
	}
	var out []Rejection
	unknown := map[int]bool{}
	for _, i := range missing {
		unknown[i] = true
		out = append(out, rejectItem(items[i].Lines, items[i].Raw, apperr.New(apperr.Invalid, "no variant has SKU %q; import products first", prices[i].SKU))...)
		n.rejected += int64(len(items[i].Lines))
	}
	now := tx.Now()
	for i, it := range items {
		if unknown[i] {
			continue
		}
		if err := upsertPrice(ctx, tx, tenantID, it.Params.ListID, it.Params.Price, now); err != nil {
			return nil, err
		}
		n.accepted += int64(len(it.Lines))
	}
	return out, nil
}
