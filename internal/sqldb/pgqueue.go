package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pgTxQuerier runs the statements of a PostgreSQL write transaction. Writes
// queued with Tx.ExecLater wait until the transaction's next statement (or
// its commit) and then go to the server together, in one round trip: a
// purchase's dozen inserts and upserts cost one wait for the network and the
// backend instead of twelve. Every statement sends the queue first, so the
// order of the writes, and what a read sees, are as if each had run at once;
// only the moment a queued write's error is heard moves, to that next
// statement.
type pgTxQuerier struct {
	tx     pgx.Tx
	queued pgx.Batch
}

func (q *pgTxQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := q.flush(ctx); err != nil {
		return 0, err
	}
	return pgxQuerier{q.tx}.Exec(ctx, query, args...)
}

func (q *pgTxQuerier) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	if err := q.flush(ctx); err != nil {
		return nil, err
	}
	return pgxQuerier{q.tx}.Query(ctx, query, args...)
}

func (q *pgTxQuerier) QueryRow(ctx context.Context, query string, args ...any) Row {
	if err := q.flush(ctx); err != nil {
		return errRow{err}
	}
	return pgxQuerier{q.tx}.QueryRow(ctx, query, args...)
}

// queue holds back a write whose outcome nobody waits for.
func (q *pgTxQuerier) queue(query string, args ...any) {
	q.queued.Queue(query, args...)
}

// flush sends the queued writes and reads every answer; the first failure
// is the transaction's (PostgreSQL aborts it there), named by its statement.
func (q *pgTxQuerier) flush(ctx context.Context) error {
	n := q.queued.Len()
	if n == 0 {
		return nil
	}
	b := q.queued
	q.queued = pgx.Batch{}
	res := q.tx.SendBatch(ctx, &b)
	for i := range n {
		if _, err := res.Exec(); err != nil {
			_ = res.Close()
			return fmt.Errorf("sqldb: queued write %d of %d (%s): %w", i+1, n, statementHead(b.QueuedQueries[i].SQL), err)
		}
	}
	return res.Close()
}

// statementHead is the start of a statement, for an error message.
func statementHead(query string) string {
	f := strings.Fields(query)
	return strings.Join(f[:min(len(f), 4)], " ")
}

// ExecLater runs a write whose result the caller does not need: at once on
// SQLite (where a statement is a function call), queued on PostgreSQL until
// the transaction's next statement or commit (pgTxQuerier). Use it only
// where any error would fail the transaction anyway: on PostgreSQL the error
// comes back from that later statement, not from this call.
func (tx *Tx) ExecLater(ctx context.Context, query string, args ...any) error {
	if q, ok := tx.Querier.(*pgTxQuerier); ok {
		q.queue(query, args...)
		return nil
	}
	_, err := tx.Exec(ctx, query, args...)
	return err
}

// flushQueued sends what ExecLater queued; the commit path calls it.
func (tx *Tx) flushQueued(ctx context.Context) error {
	if q, ok := tx.Querier.(*pgTxQuerier); ok {
		return q.flush(ctx)
	}
	return nil
}
