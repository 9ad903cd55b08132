package job

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/omo-platform/omo/internal/sqldb"
)

// UnpaidOrders cancels orders whose asynchronous payment (Alipay, WeChat
// Pay, 3-D Secure) did not arrive within the brand's payment window,
// giving their stock, points and coupons back.
type UnpaidOrders struct{}

// Kind names the job.
func (UnpaidOrders) Kind() string { return "orders.unpaid" }

type unpaidOrdersWorker struct {
	river.WorkerDefaults[UnpaidOrders]
	db   *sqldb.DB
	void sqldb.VoidPayment
}

func (w *unpaidOrdersWorker) Work(ctx context.Context, _ *river.Job[UnpaidOrders]) error {
	_, err := w.db.CancelUnpaidOrders(ctx, w.db.Now(), w.void)
	return err
}

// RefundRetry sends again the provider refunds that failed after their
// return, cancellation or exchange was recorded.
type RefundRetry struct{}

// Kind names the job.
func (RefundRetry) Kind() string { return "payments.refund_retry" }

type refundRetryWorker struct {
	river.WorkerDefaults[RefundRetry]
	db     *sqldb.DB
	refund sqldb.RefundFunc
}

func (w *refundRetryWorker) Work(ctx context.Context, _ *river.Job[RefundRetry]) error {
	if w.refund == nil {
		return nil
	}
	_, err := w.db.RetryRefunds(ctx, w.db.Now(), w.refund)
	return err
}
