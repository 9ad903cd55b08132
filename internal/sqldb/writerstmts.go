package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// writerStmts keeps statements prepared on SQLite's single writer connection
// from one transaction to the next: preparing a multi-row INSERT costs about
// as much as running it. The writer connection is busy while a transaction is
// open, so a statement first met inside one is prepared for that transaction
// only and remembered; once the transaction ends, the batcher prepares the
// remembered ones on the connection, and later transactions borrow them with
// Tx.StmtContext, which reuses the connection's prepared statement.
type writerStmts struct {
	mu     sync.Mutex
	writer *sql.DB
	ready  map[string]*sql.Stmt
	wanted []string
}

func newWriterStmts(writer *sql.DB) *writerStmts {
	return &writerStmts{writer: writer, ready: map[string]*sql.Stmt{}}
}

// forTx is the statement cache of one writer transaction.
func (w *writerStmts) forTx(stx *sql.Tx) *stmtCache {
	return newStmtCache(func(ctx context.Context, query string) (*sql.Stmt, error) {
		w.mu.Lock()
		st, ok := w.ready[query]
		if !ok && len(w.ready)+len(w.wanted) < maxCachedStmts {
			w.wanted = append(w.wanted, query)
		}
		w.mu.Unlock()
		if ok {
			return stx.StmtContext(ctx, st), nil
		}
		return stx.PrepareContext(ctx, query)
	})
}

// prepareWanted prepares the statements met since the last call; the batcher
// calls it between transactions, when the writer connection is free.
func (w *writerStmts) prepareWanted(ctx context.Context) {
	w.mu.Lock()
	wanted := w.wanted
	w.wanted = nil
	w.mu.Unlock()
	for _, q := range wanted {
		if _, ok := w.ready[q]; ok {
			continue
		}
		st, err := w.writer.PrepareContext(ctx, q)
		if err != nil {
			continue // the transaction that met it reported the error
		}
		w.mu.Lock()
		w.ready[q] = st
		w.mu.Unlock()
	}
}

func (w *writerStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.ready {
		_ = st.Close()
	}
	w.ready = map[string]*sql.Stmt{}
}
