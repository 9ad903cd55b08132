package ingest

import (
	"context"
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/sqldb"
)

// addProductRow adds a variant row to its product in the chunk, merging
// the product's fields (a row may leave out what an earlier row of the
// same product gave). A product's rows stay in one chunk when they are
// together in the file; rows of a product met again in a later chunk are
// merged into it by its handle.
func (l *loader) addProductRow(ctx context.Context, row Row) error {
	p, err := l.mapper.productRow(row)
	if err != nil {
		l.reject(int64(row.Line), err.Error(), row.Raw)
		return nil
	}
	i, ok := l.products[p.Handle]
	if !ok && l.pos-1-l.chunk.From >= ChunkRows {
		if err := l.flush(ctx, l.pos-1); err != nil {
			return err
		}
	}
	if !ok {
		i = len(l.chunk.Products)
		l.products[p.Handle] = i
		first := p
		first.Variants = nil
		l.chunk.Products = append(l.chunk.Products, sqldb.ImportItem[catalog.Product]{Params: first})
	}
	it := &l.chunk.Products[i]
	mergeProductRow(&it.Params, p)
	it.Lines = append(it.Lines, int64(row.Line))
	it.Raw = append(it.Raw, row.Raw)
	return nil
}

// mergeProductRow lays a row's product fields over what earlier rows gave
// (texts and attributes by key; lists and status when given) and adds its
// variant.
func mergeProductRow(dst *catalog.Product, row catalog.Product) {
	if row.Status != "" {
		dst.Status = row.Status
	}
	dst.Names = mergeKeys(dst.Names, row.Names)
	dst.Descriptions = mergeKeys(dst.Descriptions, row.Descriptions)
	dst.Attributes = mergeKeys(dst.Attributes, row.Attributes)
	for _, list := range []struct{ dst, src *[]string }{{&dst.Categories, &row.Categories}, {&dst.Images, &row.Images}, {&dst.Options, &row.Options}} {
		if len(*list.src) > 0 {
			*list.dst = *list.src
		}
	}
	dst.Variants = append(dst.Variants, row.Variants...)
}

func mergeKeys(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// priceList is what a prices import needs of a list: its id and how many
// decimals its currency has; err when the file names a list that does not
// exist.
type priceList struct {
	id     string
	digits int
	err    error
}

func (l *loader) addPriceRow(ctx context.Context, row Row) error {
	pr, err := l.mapper.priceRow(row)
	if err != nil {
		l.reject(int64(row.Line), err.Error(), row.Raw)
		return nil
	}
	list, err := l.priceList(ctx, pr.list)
	if err != nil {
		return err
	}
	if list.err != nil {
		l.reject(int64(row.Line), list.err.Error(), row.Raw)
		return nil
	}
	price, err := l.mapper.price(pr, list.digits)
	if err != nil {
		l.reject(int64(row.Line), err.Error(), row.Raw)
		return nil
	}
	l.chunk.Prices = append(l.chunk.Prices, sqldb.ImportItem[sqldb.PriceImport]{Params: sqldb.PriceImport{ListID: list.id, Price: price},
		Lines: []int64{int64(row.Line)}, Raw: [][]string{row.Raw}})
	return nil
}

// priceList looks a list up once per import; the error is the database's.
func (l *loader) priceList(ctx context.Context, code string) (priceList, error) {
	if pl, ok := l.lists[code]; ok {
		return pl, nil
	}
	if l.lists == nil {
		l.lists = map[string]priceList{}
	}
	found, err := l.db.FindPriceListByCode(ctx, l.im.TenantID, code)
	var pl priceList
	switch {
	case apperr.Is(err, apperr.NotFound):
		pl.err = fmt.Errorf("price_list %q: no price list has this code; create it first", code)
	case err != nil:
		return pl, err
	default:
		pl.id, pl.digits = found.ID, money.Digits(found.Currency)
	}
	l.lists[code] = pl
	return pl, nil
}
