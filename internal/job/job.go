// Package job holds OMO's background work: River workers for the facts
// domains enqueue in their own transactions, and the periodic jobs of the
// scheduler. Workers call the store; they hold no state of their own.
package job

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/ingest"
	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/transaction"
)

// Options are what some workers need beyond the database.
type Options struct {
	// VoidPayment cancels the open payment of an order cancelled unpaid
	// at its provider; without it the orders are cancelled and a payment
	// that succeeds later is refunded.
	VoidPayment sqldb.VoidPayment
	// Refund sends provider refunds again that failed after their return
	// was recorded; without it they wait for a person.
	Refund sqldb.RefundFunc
}

// Workers returns every worker, ready for sqldb.JobOptions.
func Workers(db *sqldb.DB) *river.Workers { return WorkersWith(db, Options{}) }

// WorkersWith is Workers with options.
func WorkersWith(db *sqldb.DB, o Options) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &erasedWorker{db: db})
	river.AddWorker(w, &idempotencyCleanupWorker{db: db})
	river.AddWorker(w, &transactionRecordedWorker{db: db})
	river.AddWorker(w, &importWorker{db: db})
	river.AddWorker(w, &uploadCleanupWorker{db: db})
	river.AddWorker(w, &tierChangedWorker{})
	river.AddWorker(w, &loyaltyMaturityWorker{db: db})
	river.AddWorker(w, &loyaltyExpiryWorker{db: db})
	river.AddWorker(w, &tierReviewWorker{db: db})
	river.AddWorker(w, &unpaidOrdersWorker{db: db, void: o.VoidPayment})
	river.AddWorker(w, &reservationExpiryWorker{db: db})
	river.AddWorker(w, &refundRetryWorker{db: db, refund: o.Refund})
	river.AddWorker(w, &stockFactsWorker{})
	return w
}

// Periodic returns the scheduler's jobs.
func Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return IdempotencyCleanup{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return UploadCleanup{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return LoyaltyMaturity{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return LoyaltyExpiry{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return TierReview{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return UnpaidOrders{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return ReservationExpiry{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return RefundRetry{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// erasedWorker scrubs what an erasure leaves outside the customer rows.
type erasedWorker struct {
	river.WorkerDefaults[customer.ErasedJob]
	db *sqldb.DB
}

func (w *erasedWorker) Work(ctx context.Context, j *river.Job[customer.ErasedJob]) error {
	return w.db.ScrubErased(ctx, j.Args)
}

// IdempotencyCleanup removes idempotency records past their replay window.
type IdempotencyCleanup struct{}

// Kind names the job.
func (IdempotencyCleanup) Kind() string { return "idempotency.cleanup" }

type idempotencyCleanupWorker struct {
	river.WorkerDefaults[IdempotencyCleanup]
	db *sqldb.DB
}

func (w *idempotencyCleanupWorker) Work(ctx context.Context, _ *river.Job[IdempotencyCleanup]) error {
	_, err := w.db.DeleteExpiredIdempotencyKeys(ctx)
	return err
}

// TransactionReaction is a module's follow-up to a recorded transaction.
// Reactions must be idempotent: a job may run again after a crash.
type TransactionReaction func(ctx context.Context, db *sqldb.DB, j transaction.RecordedJob) error

// transactionReactions are the modules that follow sales asynchronously.
// None is wired yet: loyalty earns and claws back inside the sale's own
// database transaction (the balance is in the response), and segments and
// journeys attach here. While the list is empty no transaction.recorded job
// is queued at all (sqldb.DB.FollowSales); a module that registers here turns
// it on for every process at start.
var transactionReactions []TransactionReaction

// FollowsSales reports whether any module reacts to recorded transactions;
// `omo serve` passes it to sqldb.DB.FollowSales.
func FollowsSales() bool { return len(transactionReactions) > 0 }

// transactionRecordedWorker runs the reactions to one recorded transaction.
type transactionRecordedWorker struct {
	river.WorkerDefaults[transaction.RecordedJob]
	db *sqldb.DB
}

func (w *transactionRecordedWorker) Work(ctx context.Context, j *river.Job[transaction.RecordedJob]) error {
	if len(transactionReactions) == 0 {
		return nil // loyalty earns in the sale's own transaction; nothing else follows sales yet
	}
	for _, tid := range j.Args.TransactionIDs {
		if _, err := w.db.FindTransactionByID(ctx, j.Args.TenantID, tid); err != nil {
			return err // the job is written with the transactions, so they must exist
		}
	}
	for _, react := range transactionReactions {
		if err := react(ctx, w.db, j.Args); err != nil {
			return err
		}
	}
	return nil
}

// importWorker runs a batch import. Imports are long: no job timeout, and a
// run that River rescues after a crash resumes from the import's checkpoint.
type importWorker struct {
	river.WorkerDefaults[sqldb.ImportJob]
	db *sqldb.DB
}

func (w *importWorker) Timeout(*river.Job[sqldb.ImportJob]) time.Duration { return -1 }

func (w *importWorker) Work(ctx context.Context, j *river.Job[sqldb.ImportJob]) error {
	return ingest.Run(ctx, w.db, j.Args.TenantID, j.Args.ImportID)
}

// UploadCleanup removes the stored parts of uploads that never became an
// import (the process died mid-upload).
type UploadCleanup struct{}

// Kind names the job.
func (UploadCleanup) Kind() string { return "imports.upload_cleanup" }

type uploadCleanupWorker struct {
	river.WorkerDefaults[UploadCleanup]
	db *sqldb.DB
}

func (w *uploadCleanupWorker) Work(ctx context.Context, _ *river.Job[UploadCleanup]) error {
	_, err := w.db.DeleteAbandonedImportFiles(ctx)
	return err
}

// tierChangedWorker delivers a member's tier change to the modules that
// react to it. None is wired yet (journeys and clienteling attach here); the
// fact is recorded from the first day so that they see every change.
type tierChangedWorker struct {
	river.WorkerDefaults[sqldb.TierChangedJob]
}

func (w *tierChangedWorker) Work(context.Context, *river.Job[sqldb.TierChangedJob]) error { return nil }

// LoyaltyMaturity makes pending points available once their return window
// has passed, releases points holds past their expiry, and converts
// referrals whose friend's first purchase has passed its return window.
type LoyaltyMaturity struct{}

// Kind names the job.
func (LoyaltyMaturity) Kind() string { return "loyalty.maturity" }

type loyaltyMaturityWorker struct {
	river.WorkerDefaults[LoyaltyMaturity]
	db *sqldb.DB
}

func (w *loyaltyMaturityWorker) Work(ctx context.Context, _ *river.Job[LoyaltyMaturity]) error {
	if _, err := w.db.MatureLoyaltyPoints(ctx, w.db.Now()); err != nil {
		return err
	}
	if _, err := w.db.ReleaseExpiredHolds(ctx, w.db.Now()); err != nil { // a payment that never completed loses no points
		return err
	}
	_, err := w.db.ConvertReferrals(ctx, w.db.Now()) // referrals whose first purchase passed its return window
	return err
}

// LoyaltyExpiry expires lots past their expiry date, and the points of
// members inactive longer than the program allows.
type LoyaltyExpiry struct{}

// Kind names the job.
func (LoyaltyExpiry) Kind() string { return "loyalty.expiry" }

type loyaltyExpiryWorker struct {
	river.WorkerDefaults[LoyaltyExpiry]
	db *sqldb.DB
}

func (w *loyaltyExpiryWorker) Timeout(*river.Job[LoyaltyExpiry]) time.Duration {
	return 30 * time.Minute
}

func (w *loyaltyExpiryWorker) Work(ctx context.Context, _ *river.Job[LoyaltyExpiry]) error {
	_, err := w.db.ExpireLoyaltyPoints(ctx, w.db.Now())
	return err
}

// TierReview reviews the tiers of members whose qualification period has
// ended (keep, or one tier down).
type TierReview struct{}

// Kind names the job.
func (TierReview) Kind() string { return "loyalty.tier_review" }

type tierReviewWorker struct {
	river.WorkerDefaults[TierReview]
	db *sqldb.DB
}

func (w *tierReviewWorker) Timeout(*river.Job[TierReview]) time.Duration { return 30 * time.Minute }

func (w *tierReviewWorker) Work(ctx context.Context, _ *river.Job[TierReview]) error {
	_, err := w.db.ReviewLoyaltyTiers(ctx, w.db.Now())
	return err
}

// ReservationExpiry releases stock reservations past their expiry: an
// abandoned cart, a VIP who did not come for the size held for them.
type ReservationExpiry struct{}

// Kind names the job.
func (ReservationExpiry) Kind() string { return "inventory.reservation_expiry" }

type reservationExpiryWorker struct {
	river.WorkerDefaults[ReservationExpiry]
	db *sqldb.DB
}

func (w *reservationExpiryWorker) Work(ctx context.Context, _ *river.Job[ReservationExpiry]) error {
	_, err := w.db.ReleaseExpiredReservations(ctx, w.db.Now())
	return err
}

// stockFactsWorker delivers low-stock and back-in-stock facts to the
// modules that react to them. None is wired yet (back-in-stock messages and
// replenishment attach here); the facts are stored and readable through
// GET /v1/inventory/facts from the first day.
type stockFactsWorker struct {
	river.WorkerDefaults[inventory.FactsJob]
}

func (w *stockFactsWorker) Work(context.Context, *river.Job[inventory.FactsJob]) error { return nil }
