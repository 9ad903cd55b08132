package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/sqldb"
)

// ChunkRows is how many rows an import commits at a time (a receipt is never
// split, so a chunk may hold a few more).
const ChunkRows = 10000

// Run runs an import from its checkpoint to the end of its file. It is safe
// to run again after a crash, and beside another run of the same import:
// each chunk commits with the checkpoint it moves, so a row is applied once.
// A file that cannot be read at all fails the import with the reason.
func Run(ctx context.Context, db *sqldb.DB, tenantID, importID string) error {
	im, err := db.StartImport(ctx, tenantID, importID)
	if err != nil || im.Status == "completed" || im.Status == "failed" {
		return err
	}
	if failure, err := run(ctx, db, im); err != nil || failure != "" {
		if errors.Is(err, sqldb.ErrChunkApplied) {
			return nil // another run is ahead of this one and will finish the import
		}
		if err != nil {
			return err // the database or the context: the job retries
		}
		return db.FinishImport(ctx, tenantID, importID, failure)
	}
	return db.FinishImport(ctx, tenantID, importID, "")
}

// run returns a failure to record when the file itself is unusable.
func run(ctx context.Context, db *sqldb.DB, im sqldb.Import) (string, error) {
	var m Mapping
	if err := json.Unmarshal([]byte(im.Mapping), &m); err != nil {
		return "the stored mapping is not JSON: " + err.Error(), nil
	}
	if err := m.Validate(); err != nil {
		return "the mapping is not valid: " + err.Error(), nil
	}
	mapper, err := newRowMapper(m)
	if err != nil {
		return err.Error(), nil
	}
	r, err := Decompress(db.ImportFile(ctx, im))
	if err != nil {
		return err.Error(), nil
	}
	rows, err := NewReader(r, m)
	if err != nil {
		return err.Error(), nil
	}
	l := &loader{db: db, im: im, m: m, mapper: mapper, rows: rows}
	return l.load(ctx)
}

// loader reads rows into chunks and applies them.
type loader struct {
	db     *sqldb.DB
	im     sqldb.Import
	m      Mapping
	mapper *rowMapper
	rows   RowReader
	pos    int64 // rows consumed
	chunk  sqldb.ImportChunk
	// receipts finds a chunk's receipt by key: a file may interleave the
	// lines of receipts, and a receipt's lines are gathered within a chunk.
	receipts map[string]int
	// products finds a chunk's product by handle, as receipts do.
	products map[string]int
	// lists are the price lists a prices import named, by code.
	lists map[string]priceList
	// Chunks are applied, in order, by one goroutine while the next is read
	// and mapped: reading and writing overlap on two cores.
	queue  chan sqldb.ImportChunk
	done   chan error
	failed atomic.Bool
}

// startApplier runs the goroutine that applies chunks in order. After an
// error it applies nothing more and reports the error at the end.
func (l *loader) startApplier(ctx context.Context) {
	l.queue, l.done = make(chan sqldb.ImportChunk, 1), make(chan error, 1)
	go func() {
		var err error
		for c := range l.queue {
			if err == nil {
				if err = l.db.ApplyImportChunk(ctx, c); err != nil {
					l.failed.Store(true)
				}
			}
		}
		l.done <- err
	}()
}

func (l *loader) load(ctx context.Context) (string, error) {
	l.newChunk(l.im.Checkpoint)
	l.startApplier(ctx)
	failure, err := l.read(ctx)
	close(l.queue)
	if aerr := <-l.done; aerr != nil {
		return "", aerr // ErrChunkApplied: another run of this import is ahead; it finishes
	}
	return failure, err
}

func (l *loader) read(ctx context.Context) (string, error) {
	for !l.failed.Load() {
		row, err := l.rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			return fmt.Sprintf("reading stopped after row %d: %v", l.pos, err), nil
		}
		l.pos++
		if l.pos <= l.im.Checkpoint {
			continue // committed by an earlier run
		}
		if re != nil {
			l.reject(int64(re.Line), re.Reason, re.Raw)
		} else if err := l.add(ctx, row); err != nil {
			return "", err
		}
		if l.m.Kind != KindTransactions && l.m.Kind != KindProducts && l.pos-l.chunk.From >= ChunkRows {
			if err := l.flush(ctx, l.pos); err != nil {
				return "", err
			}
		}
	}
	if l.failed.Load() {
		return "", nil // the applier reports why
	}
	return "", l.flush(ctx, l.pos)
}

func (l *loader) newChunk(from int64) {
	l.chunk = sqldb.ImportChunk{TenantID: l.im.TenantID, ImportID: l.im.ID, From: from, EventChannel: l.m.Fields["sales_channel"].Value}
	l.receipts = map[string]int{}
	l.products = map[string]int{}
}

// add maps a row: a customer, or a line of the open receipt (closing it when
// the row starts another).
func (l *loader) add(ctx context.Context, row Row) error {
	raw := row.Raw
	switch l.m.Kind {
	case KindCustomers:
		p, err := l.mapper.customerRow(row)
		if err != nil {
			l.reject(int64(row.Line), err.Error(), row.Raw)
			return nil
		}
		p.TenantID = l.im.TenantID
		p.Actor = sqldb.Actor{Actor: "import:" + l.im.ID}
		l.chunk.Customers = append(l.chunk.Customers, sqldb.ImportItem[sqldb.IdentifyParams]{Params: p, Lines: []int64{int64(row.Line)}, Raw: [][]string{raw}})
	case KindTransactions:
		s, err := l.mapper.transactionRow(row)
		if err != nil {
			l.reject(int64(row.Line), err.Error(), row.Raw)
			return nil
		}
		i, ok := l.receipts[s.key]
		if !ok && l.pos-1-l.chunk.From >= ChunkRows {
			// This row starts a receipt and the chunk is full: the rows
			// before it close the chunk.
			if err := l.flush(ctx, l.pos-1); err != nil {
				return err
			}
		}
		if !ok {
			s.params.TenantID = l.im.TenantID
			s.params.Actor = sqldb.Actor{Actor: "import:" + l.im.ID}
			i = len(l.chunk.Receipts)
			l.receipts[s.key] = i
			l.chunk.Receipts = append(l.chunk.Receipts, sqldb.ImportItem[sqldb.RecordParams]{Params: s.params})
		}
		r := &l.chunk.Receipts[i]
		r.Params.Lines = append(r.Params.Lines, s.line)
		r.Lines = append(r.Lines, int64(row.Line))
		r.Raw = append(r.Raw, raw)
	case KindEvents:
		e, err := l.mapper.eventRow(row, time.Now().UTC())
		if err != nil {
			l.reject(int64(row.Line), err.Error(), row.Raw)
			return nil
		}
		l.chunk.Events = append(l.chunk.Events, sqldb.ImportItem[event.Event]{Params: e, Lines: []int64{int64(row.Line)}, Raw: [][]string{raw}})
	case KindProducts:
		return l.addProductRow(ctx, row)
	case KindPrices:
		return l.addPriceRow(ctx, row)
	}
	return nil
}

func (l *loader) reject(line int64, reason string, raw []string) {
	l.chunk.Rejections = append(l.chunk.Rejections, sqldb.Rejection{Line: line, Reason: reason, Raw: sqldb.RawCSV(raw)})
}

// flush applies the chunk up to row to (rows consumed) and starts the next.
func (l *loader) flush(ctx context.Context, to int64) error {
	l.chunk.To = to
	if to <= l.chunk.From {
		return nil
	}
	select {
	case l.queue <- l.chunk:
	case <-ctx.Done():
		return ctx.Err()
	}
	l.newChunk(to)
	return nil
}
