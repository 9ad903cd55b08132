package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// JobOptions configure the job client.
type JobOptions struct {
	// Workers run jobs; nil makes an insert-only client (an API-only process).
	Workers *river.Workers
	// Periodic jobs are the scheduler; they run on the elected leader only.
	Periodic []*river.PeriodicJob
	// MaxWorkers is the default queue's concurrency.
	MaxWorkers int
	Logger     *slog.Logger
	// OnEvent, when set, is told of every finished job (for metrics).
	OnEvent func(kind string, state rivertype.JobState, took time.Duration)
}

// jobs wraps River's client for either engine; River's client is generic over
// the transaction type, which differs between the two drivers.
type jobs struct {
	sqlite  *river.Client[*sql.Tx]
	pg      *river.Client[pgx.Tx]
	opts    JobOptions
	cancel  func()
	running atomic.Bool
}

// UseJobs creates the job client. Call it once, before WriteTx calls that
// Enqueue and before StartJobs.
func (db *DB) UseJobs(opts JobOptions) error {
	cfg := &river.Config{
		Logger:               opts.Logger,
		SkipUnknownJobCheck:  opts.Workers == nil,
		JobTimeout:           5 * time.Minute,
		RescueStuckJobsAfter: 10 * time.Minute,
		PeriodicJobs:         opts.Periodic,
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Workers != nil {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(1, opts.MaxWorkers)}}
		cfg.FetchPollInterval = 200 * time.Millisecond
		cfg.FetchCooldown = 20 * time.Millisecond
	}
	j := &jobs{opts: opts}
	var err error
	if db.engine == Postgres {
		j.pg, err = river.NewClient(riverpgxv5.New(db.pool), cfg)
	} else {
		cfg.PollOnly = true
		j.sqlite, err = river.NewClient(riversqlite.New(db.writer), cfg)
	}
	if err != nil {
		return fmt.Errorf("sqldb: job client: %w", err)
	}
	db.jobs = j
	return nil
}

// insertMany inserts the jobs a transaction enqueued, in that transaction.
// Jobs are inserted once per commit rather than per Enqueue call: River's
// insert is its costliest statement on SQLite, and a group commit of dozens
// of writes then pays for it once.
func (j *jobs) insertMany(ctx context.Context, sqlTx *sql.Tx, pgxTx pgx.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	var err error
	if j.pg != nil {
		_, err = j.pg.InsertManyFastTx(ctx, pgxTx, params)
	} else {
		_, err = j.sqlite.InsertManyFastTx(ctx, sqlTx, params)
	}
	if err != nil {
		return fmt.Errorf("sqldb: enqueue %d jobs: %w", len(params), err)
	}
	return nil
}

// StartJobs starts working jobs and the periodic scheduler.
func (db *DB) StartJobs(ctx context.Context) error {
	j := db.jobs
	if j == nil || j.opts.Workers == nil {
		return fmt.Errorf("sqldb: StartJobs needs UseJobs with workers")
	}
	var events <-chan *river.Event
	var cancel func()
	var err error
	kinds := []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled}
	if j.pg != nil {
		events, cancel = j.pg.Subscribe(kinds...)
		err = j.pg.Start(ctx)
	} else {
		events, cancel = j.sqlite.Subscribe(kinds...)
		err = j.sqlite.Start(ctx)
	}
	if err != nil {
		cancel()
		return fmt.Errorf("sqldb: start jobs: %w", err)
	}
	j.cancel = cancel
	j.running.Store(true)
	go j.forward(events)
	return nil
}

func (j *jobs) forward(events <-chan *river.Event) {
	for ev := range events {
		if j.opts.OnEvent != nil && ev.Job != nil {
			var took time.Duration
			if ev.JobStats != nil {
				took = ev.JobStats.RunDuration
			}
			j.opts.OnEvent(ev.Job.Kind, ev.Job.State, took)
		}
	}
}

// StopJobs waits for running jobs to finish (up to ctx), then stops.
func (db *DB) StopJobs(ctx context.Context) error {
	j := db.jobs
	if j == nil {
		return nil
	}
	var err error
	if j.pg != nil {
		err = j.pg.Stop(ctx)
	} else {
		err = j.sqlite.Stop(ctx)
	}
	if j.cancel != nil {
		j.cancel()
	}
	j.running.Store(false)
	return err
}

// JobsRunning reports whether the job workers are running (for readiness).
func (db *DB) JobsRunning() bool { return db.jobs != nil && db.jobs.running.Load() }
