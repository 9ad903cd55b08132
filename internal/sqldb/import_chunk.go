package sqldb

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/tenant"
	"github.com/omo-platform/omo/internal/transaction"
)

// ImportChunk is a run of an import's rows, mapped, with the checkpoint it
// moves: it is applied with the checkpoint in one transaction, or not at all.
type ImportChunk struct {
	TenantID  string
	ImportID  string
	From, To  int64 // rows consumed before and after the chunk
	Customers []ImportItem[IdentifyParams]
	Receipts  []ImportItem[RecordParams]
	Events    []ImportItem[event.Event]
	// EventChannel is the sales channel code order events record in ("": none).
	EventChannel string
	Products     []ImportItem[catalog.Product] // Params.Variants[i] came from Lines[i]
	Prices       []ImportItem[PriceImport]
	Rejections   []Rejection // rows the mapping already refused
}

// ImportItem is one thing to load and the file rows it came from (their
// fields, shown only if the item is rejected).
type ImportItem[T any] struct {
	Params T
	Lines  []int64
	Raw    [][]string
}

// ErrChunkApplied reports a chunk whose checkpoint has moved on: another
// run of the same import applied it. Skip it.
var ErrChunkApplied = errors.New("sqldb: import chunk applied already")

// importCounts are what a chunk adds to its import's counters.
type importCounts struct {
	accepted, rejected, duplicates, created, matched, transactions int64
}

// ApplyImportChunk loads a chunk: customers through the batch identify path,
// receipts through the transaction path, each item's own errors becoming
// rejections of its rows; then the rejections, the counters and the
// checkpoint, and one transaction.recorded job for the chunk's sales (while a
// module follows sales: DB.FollowSales).
func (db *DB) ApplyImportChunk(ctx context.Context, c ImportChunk) error {
	t, err := db.tenant(ctx, c.TenantID)
	if err != nil {
		return err
	}
	idents := make([]IdentifyParams, len(c.Customers))
	for i, it := range c.Customers {
		idents[i] = it.Params
	}
	items, preErrs, err := prepareBatch(t, idents, db.Now())
	if err != nil {
		return err
	}
	receipts := prepareReceipts(t, c.Receipts, db)
	evp := RecordEventsParams{TenantID: c.TenantID, Actor: Actor{Actor: "import:" + c.ImportID}}
	for _, e := range c.Events {
		evp.Events = append(evp.Events, e.Params)
	}
	events := prepareEvents(t, evp, c.EventChannel, db.Now())
	err = db.writeTxAlone(ctx, func(tx *Tx) error {
		var checkpoint int64
		if err := tx.QueryRow(ctx, `SELECT checkpoint FROM imports WHERE tenant_id = $1 AND id = $2`+lockFor(tx),
			c.TenantID, c.ImportID).Scan(&checkpoint); err != nil {
			return fmt.Errorf("sqldb: import checkpoint: %w", err)
		}
		if checkpoint != c.From {
			return ErrChunkApplied
		}
		var n importCounts
		rejections := append([]Rejection(nil), c.Rejections...)
		n.rejected = int64(len(c.Rejections))
		rj, err := applyCustomers(ctx, tx, t, c.Customers, items, preErrs, &n)
		if err != nil {
			return err
		}
		rejections = append(rejections, rj...)
		rj, ids, err := applyReceipts(ctx, tx, t, receipts, &n)
		if err != nil {
			return err
		}
		rejections = append(rejections, rj...)
		rj, err = applyEvents(ctx, tx, t, c.Events, evp, events, &n)
		if err != nil {
			return err
		}
		rejections = append(rejections, rj...)
		if rj, err = applyProducts(ctx, tx, c.TenantID, c.Products, &n); err != nil {
			return err
		}
		rejections = append(rejections, rj...)
		if rj, err = applyPrices(ctx, tx, c.TenantID, c.Prices, &n); err != nil {
			return err
		}
		rejections = append(rejections, rj...)
		return finishChunk(ctx, tx, c, rejections, n, ids)
	})
	if err == nil {
		err = db.analyzeAfterBulk(ctx, int(c.To-c.From)*min(len(c.Products), 1), "catalog_variants", "catalog_products", "catalog_search")
	}
	if err == nil {
		err = db.analyzeAfterBulk(ctx, len(c.Prices), "catalog_prices")
	}
	return err
}

// applyEvents records a chunk's events through the tracking API's path.
func applyEvents(ctx context.Context, tx *Tx, t tenant.Tenant, es []ImportItem[event.Event], p RecordEventsParams, items []eventItem, n *importCounts) ([]Rejection, error) {
	if len(es) == 0 {
		return nil, nil
	}
	for i := range items {
		items[i].res = items[i].prep
	}
	if err := recordEventsTx(ctx, tx, t, p, items); err != nil {
		return nil, err
	}
	var out []Rejection
	for i, it := range es {
		switch r := items[i].res; r.Status {
		case EventDropped:
			out = append(out, rejectItem(it.Lines, it.Raw, apperr.New(apperr.Invalid, "%s", r.Reason))...)
			n.rejected += int64(len(it.Lines))
		case EventDuplicate:
			n.duplicates += int64(len(it.Lines))
		default:
			n.accepted += int64(len(it.Lines))
			if r.CustomerCreated {
				n.created++
			}
			if r.TransactionID != "" {
				n.transactions++
			}
		}
	}
	return out, nil
}

func applyCustomers(ctx context.Context, tx *Tx, t tenant.Tenant, cs []ImportItem[IdentifyParams], items []batchItem, preErrs []error, n *importCounts) ([]Rejection, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	results, errs, err := identifyBatchTx(ctx, tx, t, items, preErrs)
	if err != nil {
		return nil, err
	}
	var out []Rejection
	for i, it := range cs {
		switch {
		case errs[i] != nil:
			out = append(out, rejectItem(it.Lines, it.Raw, errs[i])...)
			n.rejected += int64(len(it.Lines))
		case results[i].Created:
			n.created++
			n.accepted += int64(len(it.Lines))
		default:
			n.matched++
			n.accepted += int64(len(it.Lines))
		}
	}
	return out, nil
}

// preparedReceipt is a receipt checked outside the transaction.
type preparedReceipt struct {
	item   ImportItem[RecordParams]
	totals transaction.Totals
	claims []customer.Claim
	hash   string
	err    error
}

func prepareReceipts(t tenant.Tenant, rs []ImportItem[RecordParams], db *DB) []preparedReceipt {
	out := make([]preparedReceipt, len(rs))
	now := db.Now()
	for i, r := range rs {
		p := r.Params
		out[i].totals, out[i].claims, out[i].err = checkRecord(&p, t, now)
		out[i].item.Params, out[i].item.Lines, out[i].item.Raw = p, r.Lines, r.Raw
		out[i].hash = recordHash(p)
	}
	return out
}

func applyReceipts(ctx context.Context, tx *Tx, t tenant.Tenant, rs []preparedReceipt, n *importCounts) ([]Rejection, []string, error) {
	var out []Rejection
	var ids []string
	// Lines go in at the end, in large multi-row inserts: an import links no
	// return to a purchase, so nothing in the chunk reads them back.
	var lineRows [][]any
	tx.lineRows = &lineRows
	defer func() { tx.lineRows = nil }()
	// A chunk holds many receipts of few customers: once a customer's
	// identifiers and traits have been applied, later receipts naming the
	// same ones would change nothing, and take the customer by id.
	known := map[string]string{}
	for _, r := range rs {
		lines := int64(len(r.item.Lines))
		err := r.err
		var res *RecordResult
		if err == nil {
			p, claims, key := r.item.Params, r.claims, identityKey(r.item.Params.Customer, r.claims)
			if cid, ok := known[key]; ok && key != "" {
				p.Customer, p.CustomerID, claims = nil, cid, nil
			}
			res, err = recordTx(ctx, tx, t, p, r.totals, claims, r.hash)
			if err == nil && res.Created && key != "" && res.Transaction.CustomerID != "" {
				known[key] = res.Transaction.CustomerID
			}
		}
		switch {
		case err != nil && apperr.KindOf(err) == apperr.Internal:
			return nil, nil, err // the database is in trouble: fail the chunk
		case err != nil:
			out = append(out, rejectItem(r.item.Lines, r.item.Raw, err)...)
			n.rejected += lines
		case !res.Created:
			n.duplicates += lines
		default:
			n.accepted += lines
			n.transactions++
			if res.CustomerCreated {
				n.created++
			} else if res.Transaction.CustomerID != "" {
				n.matched++
			}
			ids = append(ids, res.Transaction.ID)
		}
	}
	if err := insertLines(ctx, tx, lineRows); err != nil {
		return nil, nil, err
	}
	return out, ids, nil
}

// identityKey is what makes two receipts' customers the same request: the
// normalised identifiers and the traits ("" when there is no customer).
func identityKey(c *IdentifyParams, claims []customer.Claim) string {
	if c == nil || len(claims) == 0 || len(c.Consents) > 0 {
		return ""
	}
	raw, err := json.Marshal(struct {
		Claims []customer.Claim
		Traits customer.Traits
		Source string
	}{claims, c.Traits, c.Source})
	if err != nil {
		return ""
	}
	return string(raw)
}

// rejectItem turns an item's error into a rejection of each of its rows.
func rejectItem(lines []int64, raw [][]string, err error) []Rejection {
	reason := apperr.Summary(err)
	out := make([]Rejection, len(lines))
	for i, l := range lines {
		out[i] = Rejection{Line: l, Reason: reason, Raw: RawCSV(raw[i])}
	}
	return out
}

func finishChunk(ctx context.Context, tx *Tx, c ImportChunk, rejections []Rejection, n importCounts, ids []string) error {
	rows := make([][]any, len(rejections))
	for i, r := range rejections {
		rows[i] = []any{c.TenantID, c.ImportID, r.Line, r.Reason, r.Raw}
	}
	if err := insertRows(ctx, tx, "import_rejections", "tenant_id, import_id, line, reason, raw", rows, " ON CONFLICT DO NOTHING"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE imports SET checkpoint = $3, rows_read = rows_read + $4, accepted = accepted + $5,
		rejected = rejected + $6, duplicates = duplicates + $7, customers_created = customers_created + $8,
		customers_matched = customers_matched + $9, transactions_created = transactions_created + $10
		WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.ImportID, c.To, c.To-c.From, n.accepted, n.rejected, n.duplicates,
		n.created, n.matched, n.transactions); err != nil {
		return err
	}
	return enqueueRecorded(ctx, tx, c.TenantID, ids)
}

// RawCSV shows a row's fields as one CSV line for the rejection report.
func RawCSV(fields []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(fields)
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}
