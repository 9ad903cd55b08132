package sqldb

import (
	"context"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/tenant"
)

// IdentifyBatch identifies many customers of one tenant in one transaction:
// the importer's path. A bad item is rejected alone (its error is in errs at
// the same index) and the good ones are kept. Items are applied in order, so
// a later item sees earlier ones. No savepoint per item is needed: identifyTx
// reports an item's own errors before its first write, and any error after
// that is the database's, which fails the whole batch.
func (db *DB) IdentifyBatch(ctx context.Context, ps []IdentifyParams) (results []*IdentifyResult, errs []error, err error) {
	if len(ps) == 0 {
		return nil, nil, nil
	}
	t, err := db.tenant(ctx, ps[0].TenantID)
	if err != nil {
		return nil, nil, err
	}
	items, preErrs, err := prepareBatch(t, ps, db.Now())
	if err != nil {
		return nil, nil, err
	}
	err = db.writeTxAlone(ctx, func(tx *Tx) error {
		var err error
		results, errs, err = identifyBatchTx(ctx, tx, t, items, preErrs)
		return err
	})
	return results, errs, err
}

// prepareBatch normalises a batch and drafts its new customers, before and
// beside the write transaction.
func prepareBatch(t tenant.Tenant, ps []IdentifyParams, now time.Time) ([]batchItem, []error, error) {
	items := make([]batchItem, len(ps))
	preErrs := make([]error, len(ps))
	for i, p := range ps {
		if p.TenantID != t.ID {
			return nil, nil, apperr.New(apperr.Invalid, "a batch belongs to one tenant (item %d differs)", i)
		}
		items[i].p = p
		items[i].claims, items[i].ignored, preErrs[i] = normalizeRequest(p, t.Settings.DefaultCountry, now)
		if preErrs[i] == nil && items[i].mayBeFresh() {
			// A draft that fails (attributes that are not JSON) leaves the
			// item to the one-by-one path, which reports the error.
			items[i].draft, _ = draftFresh(t, items[i], now)
		}
	}
	return items, preErrs, nil
}

// identifyBatchTx runs a prepared batch inside tx: new customers set-based,
// the rest one by one, in order.
func identifyBatchTx(ctx context.Context, tx *Tx, t tenant.Tenant, items []batchItem, preErrs []error) ([]*IdentifyResult, []error, error) {
	results, errs := make([]*IdentifyResult, len(items)), append([]error(nil), preErrs...)
	skip := make([]bool, len(items))
	for i := range skip {
		skip[i] = errs[i] != nil
	}
	fresh, err := identifyFresh(ctx, tx, t, items, skip)
	if err != nil {
		return nil, nil, err
	}
	for i, it := range items {
		if r, ok := fresh[i]; ok {
			results[i] = r
			continue
		}
		if skip[i] {
			continue
		}
		results[i], errs[i] = identifyTx(ctx, tx, t, it.p, it.claims, append([]customer.Ignored(nil), it.ignored...))
		if errs[i] != nil && apperr.KindOf(errs[i]) == apperr.Internal {
			return nil, nil, errs[i] // the database is in trouble: fail the batch
		}
	}
	return results, errs, nil
}
