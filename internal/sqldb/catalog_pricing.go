package sqldb

import (
	"context"
	"errors"
	"time"

	"github.com/omo-platform/omo/internal/catalog"
)

// PriceQuery asks what one buyer pays for some SKUs now.
type PriceQuery struct {
	TenantID     string
	CustomerID   string    // "" for a guest; member-tier lists follow this customer's live loyalty tier
	SalesChannel string    // sales channel code ("" = lists for any channel only)
	Currency     string    // ISO 4217
	At           time.Time // zero means db.Now()
	SKUs         []string
}

// SKUPrice is the price that won for one SKU, with the variant facts checkout needs.
type SKUPrice struct {
	SKU, VariantID, ProductID string
	Name                      string // in English, or the first name the product has
	Category                  string // the variant's primary category code, for loyalty rules
	GiftCard                  bool
	TaxCode                   string // "" means the standard rate
	Currency                  string
	Amount                    int64 // unit price in minor units
	CompareAt                 int64 // 0 when none
	TaxInclusive              bool  // the list's prices include tax
	PriceListID               string
	PriceListCode             string
	Rule                      string // why this list won, e.g. "member tier GOLD list gold-hkd (priority 20) beat web-hkd"
}

// maxPricedSKUs bounds one PriceSKUs call (a cart's lines).
const maxPricedSKUs = 500

// PriceSKUs prices SKUs for one buyer. SKUs that are unknown, not active, or have no applicable
// price are absent from the map. q is db.Read() or a write transaction (*Tx) of the caller.
//
// It is one indexed query: the variants of the SKUs with their products,
// every price they have in the currency with its list's definition, and
// (as an uncorrelated subquery, run once) the customer's current tier,
// followed through a merge to the surviving customer. The SKU list is
// given for the prices too, so that PostgreSQL starts from the SKUs
// whatever its statistics say. Which list wins is catalog.Resolve.
func (db *DB) PriceSKUs(ctx context.Context, q Querier, p PriceQuery) (map[string]SKUPrice, error) {
	out := map[string]SKUPrice{}
	skus := dedupe(p.SKUs)
	if len(skus) == 0 {
		return out, nil
	}
	if len(skus) > maxPricedSKUs {
		return nil, errors.New("sqldb: PriceSKUs: more than 500 SKUs in one call")
	}
	at := p.At
	if at.IsZero() {
		at = db.Now()
	}
	args := []any{p.TenantID, p.CustomerID, p.Currency}
	for _, s := range skus {
		args = append(args, s)
	}
	offers := map[string][]catalog.Offer{}
	facts := map[string]SKUPrice{}
	var tier string
	err := queryEach(ctx, q, `SELECT v.sku, v.id, v.product_id, p.names, p.categories, v.gift_card, v.tax_code,
			l.id, l.code, l.name, l.currency, l.sales_channels, l.tiers, l.starts_at, l.ends_at, l.priority, l.tax_inclusive, l.status,
			pr.amount, pr.compare_at,
			COALESCE((SELECT t.code FROM customers c
				JOIN loyalty_members m ON m.tenant_id = c.tenant_id AND m.customer_id = c.survivor_id
				JOIN loyalty_tiers t ON t.tenant_id = m.tenant_id AND t.id = m.tier_id
				WHERE c.tenant_id = $1 AND c.id = $2), '')
		FROM catalog_variants v
		JOIN catalog_products p ON p.tenant_id = v.tenant_id AND p.id = v.product_id
		JOIN catalog_prices pr ON pr.tenant_id = v.tenant_id AND pr.sku = v.sku
		JOIN catalog_price_lists l ON l.tenant_id = pr.tenant_id AND l.id = pr.price_list_id
		WHERE v.tenant_id = $1 AND v.sku IN (`+placeholders(4, len(skus))+`) AND pr.sku IN (`+placeholders(4, len(skus))+`)
			AND v.status = 'active' AND p.status = 'active' AND l.currency = $3 AND l.status = 'active'`, args, func(r Rows) error {
		sp, o, t, err := scanPricedRow(r)
		if err != nil {
			return err
		}
		tier = t
		facts[sp.SKU] = sp
		offers[sp.SKU] = append(offers[sp.SKU], o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	buyer := catalog.Buyer{SalesChannel: p.SalesChannel, Currency: p.Currency, Tier: tier, At: at}
	for sku, os := range offers {
		res, ok := catalog.Resolve(os, buyer)
		if !ok {
			continue
		}
		sp := facts[sku]
		w := res.Winner
		sp.Currency, sp.Amount, sp.CompareAt, sp.TaxInclusive = w.List.Currency, w.Amount, w.CompareAt, w.List.TaxInclusive
		sp.PriceListID, sp.PriceListCode, sp.Rule = w.List.ID, w.List.Code, res.Rule
		out[sku] = sp
	}
	return out, nil
}

// scanPricedRow reads one row of PriceSKUs: the variant's facts, one offer,
// and the buyer's tier code.
func scanPricedRow(r Rows) (SKUPrice, catalog.Offer, string, error) {
	var sp SKUPrice
	var o catalog.Offer
	var names, cats, channels, tiers, tier string
	l := &o.List
	if err := r.Scan(&sp.SKU, &sp.VariantID, &sp.ProductID, &names, &cats, &sp.GiftCard, &sp.TaxCode,
		&l.ID, &l.Code, &l.Name, &l.Currency, &channels, &tiers, &l.StartsAt, &l.EndsAt, &l.Priority, &l.TaxInclusive, &l.Status,
		&o.Amount, &o.CompareAt, &tier); err != nil {
		return sp, o, "", err
	}
	var nameMap map[string]string
	var catList []string
	if err := decodeJSON("variant "+sp.VariantID, []string{names, cats, channels, tiers}, &nameMap, &catList, &l.SalesChannels, &l.Tiers); err != nil {
		return sp, o, "", err
	}
	sp.Name = catalog.Name(nameMap, catalog.English)
	if len(catList) > 0 {
		sp.Category = catList[0]
	}
	return sp, o, tier, nil
}

func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
