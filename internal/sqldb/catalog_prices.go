package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
)

const priceListColumns = `tenant_id, id, code, name, currency, sales_channels, tiers, starts_at, ends_at, priority, tax_inclusive, status,
	created_at, updated_at`

func scanPriceList(r Row) (catalog.PriceList, error) {
	var l catalog.PriceList
	var channels, tiers string
	if err := r.Scan(&l.TenantID, &l.ID, &l.Code, &l.Name, &l.Currency, &channels, &tiers, &l.StartsAt, &l.EndsAt, &l.Priority,
		&l.TaxInclusive, &l.Status, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return l, err
	}
	l.StartsAt, l.EndsAt, l.CreatedAt, l.UpdatedAt = utcPtr(l.StartsAt), utcPtr(l.EndsAt), l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return l, decodeJSON("price list "+l.ID, []string{channels, tiers}, &l.SalesChannels, &l.Tiers)
}

// CreatePriceList stores a new price list. Its sales channels and tiers
// must exist (Invalid, naming the field); a code in use is a Conflict.
func (db *DB) CreatePriceList(ctx context.Context, l catalog.PriceList) (catalog.PriceList, error) {
	if err := l.Validate("body"); err != nil {
		return l, err
	}
	l.ID, l.CreatedAt = id.New(), db.Now()
	l.UpdatedAt = l.CreatedAt
	err := db.WriteTx(ctx, func(tx *Tx) error {
		if err := checkListScope(ctx, tx, l); err != nil {
			return err
		}
		return savePriceList(ctx, tx, l, true)
	})
	if IsUniqueViolation(err) {
		return l, apperr.New(apperr.Conflict, "a price list with code %q exists already", l.Code)
	}
	return l, err
}

func savePriceList(ctx context.Context, tx *Tx, l catalog.PriceList, isNew bool) error {
	q := `UPDATE catalog_price_lists SET code = $3, name = $4, currency = $5, sales_channels = $6, tiers = $7, starts_at = $8, ends_at = $9,
		priority = $10, tax_inclusive = $11, status = $12, created_at = $13, updated_at = $14 WHERE tenant_id = $1 AND id = $2`
	if isNew {
		q = `INSERT INTO catalog_price_lists (` + priceListColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	}
	_, err := tx.Exec(ctx, q, l.TenantID, l.ID, l.Code, l.Name, l.Currency, storedList(l.SalesChannels), storedList(l.Tiers),
		utcPtr(l.StartsAt), utcPtr(l.EndsAt), l.Priority, l.TaxInclusive, l.Status, l.CreatedAt, l.UpdatedAt)
	return err
}

// checkListScope checks that a list's sales channels and tiers exist: a
// list naming a code that does not would silently never apply.
func checkListScope(ctx context.Context, tx *Tx, l catalog.PriceList) error {
	var fields []apperr.FieldError
	check := func(field, table string, codes []string, what string) error {
		for i, c := range codes {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE tenant_id = $1 AND code = $2`, l.TenantID, c).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("body.%s[%d]", field, i), Message: "no " + what + " has this code", Value: c})
			}
		}
		return nil
	}
	if err := check("sales_channels", "sales_channels", l.SalesChannels, "sales channel"); err != nil {
		return err
	}
	if err := check("tiers", "loyalty_tiers", l.Tiers, "loyalty tier"); err != nil {
		return err
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the price list names what does not exist", Fields: fields}
	}
	return nil
}

// FindPriceListByID returns a price list, or NotFound.
func (db *DB) FindPriceListByID(ctx context.Context, tenantID, listID string) (catalog.PriceList, error) {
	return findPriceList(ctx, db.Read(), tenantID, "id", listID)
}

// FindPriceListByCode returns a price list by its code, or NotFound.
func (db *DB) FindPriceListByCode(ctx context.Context, tenantID, code string) (catalog.PriceList, error) {
	return findPriceList(ctx, db.Read(), tenantID, "code", code)
}

func findPriceList(ctx context.Context, q Querier, tenantID, by, value string) (catalog.PriceList, error) {
	l, err := scanPriceList(q.QueryRow(ctx, `SELECT `+priceListColumns+` FROM catalog_price_lists WHERE tenant_id = $1 AND `+by+` = $2`, tenantID, value))
	if errors.Is(err, ErrNoRows) {
		if by == "code" {
			return l, apperr.New(apperr.NotFound, "no price list with code %q", value)
		}
		return l, apperr.New(apperr.NotFound, "no price list with id %s", id.Format(id.PriceList, value))
	}
	return l, err
}

// PriceListFilter pages through a tenant's price lists by code.
type PriceListFilter struct {
	TenantID string
	Currency string // optional
	Limit    int
	After    string // the last code of the previous page
}

// FindPriceLists lists price lists by code.
func (db *DB) FindPriceLists(ctx context.Context, f PriceListFilter) ([]catalog.PriceList, error) {
	query := `SELECT ` + priceListColumns + ` FROM catalog_price_lists WHERE tenant_id = $1 AND code > $2`
	args := []any{f.TenantID, f.After, f.Limit}
	if f.Currency != "" {
		args = append(args, f.Currency)
		query += ` AND currency = $4`
	}
	var out []catalog.PriceList
	err := queryEach(ctx, db.Read(), query+` ORDER BY code LIMIT $3`, args, func(r Rows) error {
		l, err := scanPriceList(r)
		out = append(out, l)
		return err
	})
	return out, err
}

// UpdatePriceList applies edit to a price list. The currency never changes:
// its prices are amounts in it.
func (db *DB) UpdatePriceList(ctx context.Context, tenantID, listID string, edit func(*catalog.PriceList)) (catalog.PriceList, error) {
	var l catalog.PriceList
	err := db.WriteTx(ctx, func(tx *Tx) error {
		old, err := findPriceList(ctx, tx, tenantID, "id", listID)
		if err != nil {
			return err
		}
		l = old
		edit(&l)
		l.ID, l.TenantID, l.CreatedAt, l.UpdatedAt = old.ID, old.TenantID, old.CreatedAt, tx.Now()
		if err := l.Validate("body"); err != nil {
			return err
		}
		if l.Currency != old.Currency {
			return apperr.Field("body.currency", "a list's currency never changes (its prices are in it); make a new list", l.Currency)
		}
		if err := checkListScope(ctx, tx, l); err != nil {
			return err
		}
		return savePriceList(ctx, tx, l, false)
	})
	if IsUniqueViolation(err) {
		return l, apperr.New(apperr.Conflict, "a price list with code %q exists already", l.Code)
	}
	return l, err
}

// MaxPricesPerCall bounds one SetPrices call.
const MaxPricesPerCall = 1000

// SetPrices creates or replaces prices of a list, all or none. Each SKU
// must be a variant of the catalog (a price for a typo would never sell);
// problems are named as body.prices[i].<field>.
func (db *DB) SetPrices(ctx context.Context, tenantID, listID string, prices []catalog.Price) (int, error) {
	if len(prices) == 0 || len(prices) > MaxPricesPerCall {
		return 0, apperr.Field("body.prices", fmt.Sprintf("1 to %d prices", MaxPricesPerCall), len(prices))
	}
	var fields []apperr.FieldError
	seen := map[string]int{}
	for i := range prices {
		base := fmt.Sprintf("body.prices[%d]", i)
		if err := prices[i].Validate(base); err != nil {
			e, _ := apperr.As(err)
			fields = append(fields, e.Fields...)
		}
		if j, dup := seen[prices[i].SKU]; dup {
			fields = append(fields, apperr.FieldError{Location: base + ".sku", Message: fmt.Sprintf("prices[%d] has this SKU already", j), Value: prices[i].SKU})
		}
		seen[prices[i].SKU] = i
	}
	if len(fields) > 0 {
		return 0, &apperr.Error{Kind: apperr.Invalid, Message: "the prices are not valid", Fields: fields}
	}
	now := db.Now()
	err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := findPriceList(ctx, tx, tenantID, "id", listID); err != nil {
			return err
		}
		missing, err := unknownSKUs(ctx, tx, tenantID, prices)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			for _, i := range missing {
				fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("body.prices[%d].sku", i), Message: "no variant has this SKU", Value: prices[i].SKU})
			}
			return &apperr.Error{Kind: apperr.Invalid, Message: "prices name SKUs the catalog does not have", Fields: fields}
		}
		for _, p := range prices {
			if err := upsertPrice(ctx, tx, tenantID, listID, p, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.analyzeAfterBulk(ctx, len(prices), "catalog_prices")
	}
	return len(prices), err
}

func upsertPrice(ctx context.Context, tx *Tx, tenantID, listID string, p catalog.Price, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO catalog_prices (tenant_id, sku, price_list_id, amount, compare_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, sku, price_list_id) DO UPDATE SET amount = excluded.amount, compare_at = excluded.compare_at,
		updated_at = excluded.updated_at`, tenantID, p.SKU, listID, p.Amount, p.CompareAt, now)
	return err
}

// unknownSKUs returns the indexes of prices whose SKU no variant has.
func unknownSKUs(ctx context.Context, q Querier, tenantID string, prices []catalog.Price) ([]int, error) {
	known := map[string]bool{}
	for start := 0; start < len(prices); start += 500 {
		chunk := prices[start:min(start+500, len(prices))]
		args := []any{tenantID}
		for _, p := range chunk {
			args = append(args, p.SKU)
		}
		err := queryEach(ctx, q, `SELECT sku FROM catalog_variants WHERE tenant_id = $1 AND sku IN (`+placeholders(2, len(chunk))+`)`, args,
			func(r Rows) error {
				var sku string
				err := r.Scan(&sku)
				known[sku] = true
				return err
			})
		if err != nil {
			return nil, err
		}
	}
	var out []int
	for i, p := range prices {
		if !known[p.SKU] {
			out = append(out, i)
		}
	}
	return out, nil
}

// DeletePrice removes a SKU's price from a list; NotFound when it has none.
func (db *DB) DeletePrice(ctx context.Context, tenantID, listID, sku string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM catalog_prices WHERE tenant_id = $1 AND price_list_id = $2 AND sku = $3`, tenantID, listID, sku)
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "the list has no price for SKU %q", sku)
		}
		return err
	})
}

// PriceFilter pages through a list's prices by SKU.
type PriceFilter struct {
	TenantID, ListID string
	Limit            int
	After            string // the last SKU of the previous page
}

// FindPrices lists a price list's prices by SKU; NotFound for another
// tenant's list.
func (db *DB) FindPrices(ctx context.Context, f PriceFilter) ([]catalog.Price, error) {
	if _, err := db.FindPriceListByID(ctx, f.TenantID, f.ListID); err != nil {
		return nil, err
	}
	var out []catalog.Price
	err := queryEach(ctx, db.Read(), `SELECT sku, amount, compare_at, updated_at FROM catalog_prices
		WHERE tenant_id = $1 AND price_list_id = $2 AND sku > $3 ORDER BY sku LIMIT $4`, []any{f.TenantID, f.ListID, f.After, f.Limit},
		func(r Rows) error {
			var p catalog.Price
			err := r.Scan(&p.SKU, &p.Amount, &p.CompareAt, &p.UpdatedAt)
			p.UpdatedAt = p.UpdatedAt.UTC()
			out = append(out, p)
			return err
		})
	return out, err
}
