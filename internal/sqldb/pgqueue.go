package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgTxQuerier runs a PostgreSQL write transaction on one connection, driven
// by hand so that statements travel together. BEGIN waits for the first
// statement; writes queued with Tx.ExecLater wait for the next statement
// that needs an answer; COMMIT goes with the last of them. Each of those
// groups is one round trip: a purchase (BEGIN and its resend check; its
// sale rows and member read; its dozen ledger and aggregate writes and
// COMMIT) takes three instead of nineteen, and the backend answers a pipeline
// without waking for each statement. Statements keep their order, so what a
// read sees is as if every write had run at once; only the moment a queued
// write's error is heard moves, to the statement it travelled with.
type pgTxQuerier struct {
	conn   *pgx.Conn
	queued pgx.Batch
	begun  bool // BEGIN has been sent
}

func newPGTx(conn *pgx.Conn) *pgTxQuerier {
	q := &pgTxQuerier{conn: conn}
	q.queued.Queue("begin")
	return q
}

func (q *pgTxQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if q.queued.Len() == 0 {
		return pgxQuerier{q.conn}.Exec(ctx, query, args...)
	}
	q.queued.Queue(query, args...)
	tag, err := q.sendAll(ctx)
	return tag.RowsAffected(), err
}

func (q *pgTxQuerier) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	if q.queued.Len() == 0 {
		return pgxQuerier{q.conn}.Query(ctx, query, args...)
	}
	q.queued.Queue(query, args...)
	res, err := q.send(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := res.Query()
	if err != nil {
		_ = res.Close()
		return nil, err
	}
	return batchRows{Rows: rows, res: res}, nil
}

func (q *pgTxQuerier) QueryRow(ctx context.Context, query string, args ...any) Row {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return errRow{err}
	}
	return firstRow{rows}
}

// send sends everything queued (the caller's statement last) and reads the
// answers of all but the last; the first failure is the transaction's
// (PostgreSQL skips the rest), named by its statement.
func (q *pgTxQuerier) send(ctx context.Context) (pgx.BatchResults, error) {
	b := q.queued
	q.queued = pgx.Batch{}
	q.begun = true
	res := q.conn.SendBatch(ctx, &b)
	for i := range len(b.QueuedQueries) - 1 {
		if _, err := res.Exec(); err != nil {
			_ = res.Close()
			return nil, queuedError(b, i, err)
		}
	}
	return res, nil
}

// sendAll sends everything queued and reads every answer: the last
// statement's tag, or the first failure.
func (q *pgTxQuerier) sendAll(ctx context.Context) (pgconn.CommandTag, error) {
	last := q.queued
	res, err := q.send(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := res.Exec()
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return tag, queuedError(last, last.Len()-1, err)
	}
	return tag, nil
}

// queuedError names the statement of a pipeline that failed.
func queuedError(b pgx.Batch, i int, err error) error {
	return fmt.Errorf("sqldb: statement %d of %d sent together (%s): %w", i+1, b.Len(), statementHead(b.QueuedQueries[i].SQL), err)
}

// commit sends what is queued with COMMIT.
func (q *pgTxQuerier) commit(ctx context.Context) error {
	if !q.begun && q.queued.Len() == 1 {
		return nil // only BEGIN is queued: nothing ran, nothing to end
	}
	q.queued.Queue("commit")
	tag, err := q.sendAll(ctx)
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	return err
}

// rollback ends a transaction that failed (or panicked); the queue is
// dropped. A connection left inside a transaction is closed by the pool
// on release, never reused.
func (q *pgTxQuerier) rollback(ctx context.Context) {
	q.queued = pgx.Batch{}
	if q.begun {
		_, _ = q.conn.Exec(context.WithoutCancel(ctx), "rollback")
	}
}

// flush sends the queued writes on their own (before River inserts jobs
// through the connection).
func (q *pgTxQuerier) flush(ctx context.Context) error {
	if q.queued.Len() == 0 {
		return nil
	}
	_, err := q.sendAll(ctx)
	return err
}

// statementHead is the start of a statement, for an error message.
func statementHead(query string) string {
	f := strings.Fields(query)
	return strings.Join(f[:min(len(f), 4)], " ")
}

// batchRows are the rows of a batch's last statement; closing them ends the
// batch.
type batchRows struct {
	pgx.Rows
	res pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	_ = r.res.Close()
}

// firstRow is QueryRow over Rows, with ErrNoRows when there is none.
type firstRow struct{ rows Rows }

func (r firstRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// pgConnTx is the pgx.Tx River inserts jobs through: the connection of a
// transaction begun by hand (pgTxQuerier), which River must neither end nor
// nest.
type pgConnTx struct{ c *pgx.Conn }

var errConnTx = errors.New("sqldb: the transaction is driven by pgTxQuerier")

var _ pgx.Tx = pgConnTx{}

func (t pgConnTx) Begin(context.Context) (pgx.Tx, error) { return nil, errConnTx }
func (t pgConnTx) Commit(context.Context) error          { return errConnTx }
func (t pgConnTx) Rollback(context.Context) error        { return errConnTx }
func (t pgConnTx) LargeObjects() pgx.LargeObjects        { return pgx.LargeObjects{} }
func (t pgConnTx) Conn() *pgx.Conn                       { return t.c }

func (t pgConnTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, columns, src)
}

func (t pgConnTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}

func (t pgConnTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}

func (t pgConnTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t pgConnTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}

func (t pgConnTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}

// ExecLater runs a write whose result the caller does not need: at once on
// SQLite (where a statement is a function call), queued on PostgreSQL until
// the transaction's next statement or commit (pgTxQuerier). Use it only
// where any error would fail the transaction anyway: on PostgreSQL the error
// comes back from that later statement, not from this call.
func (tx *Tx) ExecLater(ctx context.Context, query string, args ...any) error {
	if q, ok := tx.Querier.(*pgTxQuerier); ok {
		q.queued.Queue(query, args...)
		return nil
	}
	_, err := tx.Exec(ctx, query, args...)
	return err
}
