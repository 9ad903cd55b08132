package sqldb

import (
	"context"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
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
	type prepared struct {
		claims  []customer.Claim
		ignored []customer.Ignored
	}
	pre := make([]prepared, len(ps))
	preErrs := make([]error, len(ps))
	for i, p := range ps {
		if p.TenantID != t.ID {
			return nil, nil, apperr.New(apperr.Invalid, "a batch belongs to one tenant (item %d differs)", i)
		}
		pre[i].claims, pre[i].ignored, preErrs[i] = normalizeRequest(p, t.Settings.DefaultCountry, db.Now())
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		results, errs = make([]*IdentifyResult, len(ps)), append([]error(nil), preErrs...)
		for i, p := range ps {
			if errs[i] != nil {
				continue
			}
			results[i], errs[i] = identifyTx(ctx, tx, t, p, pre[i].claims, append([]customer.Ignored(nil), pre[i].ignored...))
			if errs[i] != nil && apperr.KindOf(errs[i]) == apperr.Internal {
				return errs[i] // the database is in trouble: fail the batch
			}
		}
		return nil
	})
	return results, errs, err
}
