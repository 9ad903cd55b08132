package sqldb

import (
	"context"
	"time"
)

// RefundFunc sends a refund to its provider (the api layer's payer, for
// the jobs).
type RefundFunc func(ctx context.Context, r RefundRequest) (PayResult, error)

// refundRetryWindow bounds how long a provider refund that failed (the
// provider was down, say) is sent again: after it, it needs a person.
const refundRetryWindow = 3 * 24 * time.Hour

// RetryRefunds sends again the provider refunds that failed or never got
// their answer after the return, cancellation or exchange that made them
// committed, with the refund's own idempotency key (so the provider never
// refunds twice), and records what the provider answers. The job runs it
// every ten minutes.
func (db *DB) RetryRefunds(ctx context.Context, now time.Time, refund RefundFunc, only ...string) (int, error) {
	q := `SELECT f.tenant_id, f.id, f.amount, p.provider, p.reference, p.account FROM refunds f
		JOIN payments p ON p.tenant_id = f.tenant_id AND p.id = f.payment_id
		WHERE f.status IN ('pending', 'failed') AND f.created_at >= $1 AND f.created_at <= $2 AND p.provider NOT IN ('points', 'offline', 'exchange')`
	args := []any{now.Add(-refundRetryWindow), now.Add(-time.Minute)}
	if len(only) > 0 {
		q += ` AND f.tenant_id = $3`
		args = append(args, only[0])
	}
	type due struct {
		tenantID, id, provider, reference, account string
		amount                                     int64
	}
	var list []due
	if err := queryEach(ctx, db.Read(), q+` ORDER BY f.created_at LIMIT 200`, args, func(r Rows) error {
		var d due
		err := r.Scan(&d.tenantID, &d.id, &d.amount, &d.provider, &d.reference, &d.account)
		list = append(list, d)
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		res, err := refund(ctx, RefundRequest{Provider: d.provider, Reference: d.reference, Account: d.account, Amount: d.amount,
			IdempotencyKey: "refund:" + d.id})
		status := "failed"
		if err == nil && res.Status != PayFailed {
			status, n = PaySucceeded, n+1
		}
		if _, err := db.exec(ctx, `UPDATE refunds SET status = $3, reference = $4 WHERE tenant_id = $1 AND id = $2`,
			d.tenantID, d.id, status, res.Reference); err != nil {
			return n, err
		}
	}
	return n, nil
}
