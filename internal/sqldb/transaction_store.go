package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/transaction"
)

// returnLink is a return matched to its original purchase, not yet applied.
type returnLink struct {
	orig transaction.Transaction
	take map[int]int64 // quantity taken per original line number
}

// matchReturn finds the purchase a return names, locks its lines against a
// concurrent return, and checks that nothing is returned beyond what was
// bought; it writes nothing. It returns nil, with no error, when the
// purchase is not known (yet): POS data is full of returns whose sale
// predates the system, and those are recorded unlinked.
func matchReturn(ctx context.Context, tx *Tx, tenantID string, tr *transaction.Transaction, ref OriginalRef) (*returnLink, error) {
	origID, err := findOriginalID(ctx, tx, tenantID, tr.SalesChannelID, ref)
	if err != nil || origID == "" {
		return nil, err
	}
	// Lock the purchase's lines before reading what is left to return, so
	// that two returns of the same line cannot both take the last unit.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM transaction_lines WHERE tenant_id = $1 AND transaction_id = $2`+lockFor(tx), tenantID, origID); err != nil {
		return nil, err
	}
	orig, err := findTransaction(ctx, tx, tenantID, origID)
	if err != nil {
		return nil, err
	}
	if orig.Kind != transaction.KindPurchase {
		return nil, apperr.Field("body.original", "names a return, not a purchase", ref.String())
	}
	if orig.Currency != tr.Currency {
		return nil, apperr.Field("body.currency", fmt.Sprintf("the original purchase was in %s", orig.Currency), tr.Currency)
	}
	take, err := transaction.MatchReturn(orig.Lines, tr.Lines, "body.lines")
	if err != nil {
		return nil, err
	}
	return &returnLink{orig: orig, take: take}, nil
}

// apply takes the returned quantities from the purchase's lines and links
// the return (and its customer, when it names none) to the purchase.
func (l *returnLink) apply(ctx context.Context, tx *Tx, tr *transaction.Transaction) error {
	for line, q := range l.take {
		if _, err := tx.Exec(ctx, `UPDATE transaction_lines SET returned = returned + $4
			WHERE tenant_id = $1 AND transaction_id = $2 AND line_number = $3`, tr.TenantID, l.orig.ID, line, q); err != nil {
			return err
		}
	}
	tr.OriginalID = l.orig.ID
	if tr.CustomerID == "" {
		tr.CustomerID = l.orig.CustomerID
	}
	return nil
}

func findOriginalID(ctx context.Context, tx *Tx, tenantID, channelID string, ref OriginalRef) (string, error) {
	var query string
	var args []any
	switch {
	case ref.TransactionID != "":
		query, args = `SELECT id FROM transactions WHERE tenant_id = $1 AND id = $2`, []any{tenantID, ref.TransactionID}
	case ref.ExternalID != "":
		query, args = `SELECT id FROM transactions WHERE tenant_id = $1 AND external_id = $2`, []any{tenantID, ref.ExternalID}
	case ref.ReceiptNumber != "":
		locID := ""
		if ref.LocationCode != "" {
			l, err := findLocation(ctx, tx, tenantID, "code", ref.LocationCode)
			if apperr.Is(err, apperr.NotFound) {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			locID = l.ID
		}
		query, args = `SELECT id FROM transactions WHERE tenant_id = $1 AND receipt_key = $2`,
			[]any{tenantID, *receiptKey(channelID, locID, ref.Register, ref.ReceiptNumber)}
	default:
		return "", apperr.Field("body.original", "name the purchase by transaction_id, external_id or receipt_number", nil)
	}
	var origID string
	err := tx.QueryRow(ctx, query, args...).Scan(&origID)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	return origID, err
}

func insertTransaction(ctx context.Context, tx *Tx, t transaction.Transaction, key *string, originalRef, hash string) error {
	err := tx.ExecLater(ctx, `INSERT INTO transactions (tenant_id, id, kind, sales_channel_id, location_id, register, receipt_number,
		external_id, receipt_key, occurred_at, utc_offset, currency, tax_inclusive, subtotal, discount_total, tax_total, total,
		customer_id, associate_id, original_id, original_ref, source, request_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
		t.TenantID, t.ID, t.Kind, t.SalesChannelID, nullable(t.LocationID), t.Register, nullable(t.ReceiptNumber),
		nullable(t.ExternalID), key, t.OccurredAt, t.UTCOffset, t.Currency, t.TaxInclusive, t.Totals.Subtotal,
		t.Totals.Discount, t.Totals.Tax, t.Totals.Total, nullable(t.CustomerID), t.AssociateID, nullable(t.OriginalID),
		originalRef, t.Source, hash, t.CreatedAt)
	if err != nil {
		return err
	}
	lines := make([][]any, len(t.Lines))
	for i, l := range t.Lines {
		var orig *int
		if l.OriginalLine > 0 {
			orig = &l.OriginalLine
		}
		lines[i] = []any{t.TenantID, t.ID, l.Number, l.SKU, l.Name, l.Category, l.Quantity, l.UnitPrice, l.Discount, l.Tax, l.Total, orig}
	}
	if tx.lineRows != nil && t.OriginalID == "" {
		*tx.lineRows = append(*tx.lineRows, lines...)
	} else if err := insertLines(ctx, tx, lines); err != nil {
		return err
	}
	tenders := make([][]any, len(t.Tenders))
	for i, td := range t.Tenders {
		tenders[i] = []any{t.TenantID, t.ID, i + 1, td.Type, td.Amount, td.Reference}
	}
	return insertRows(ctx, tx, "transaction_tenders", "tenant_id, transaction_id, position, type, amount, reference", tenders, "")
}

func insertLines(ctx context.Context, tx *Tx, rows [][]any) error {
	return insertRows(ctx, tx, "transaction_lines",
		"tenant_id, transaction_id, line_number, sku, name, category, quantity, unit_price, discount, tax, total, original_line", rows, "")
}

// addCustomerSales adds a transaction to its customer's purchase aggregates.
func addCustomerSales(ctx context.Context, tx *Tx, t transaction.Transaction) error {
	if t.CustomerID == "" {
		return nil
	}
	var purchases, returns, spent, refunded int64
	var at *time.Time // a return is no purchase: it leaves first and last alone
	if t.Kind == transaction.KindPurchase {
		purchases, spent, at = 1, t.Totals.Total, &t.OccurredAt
	} else {
		returns, refunded = 1, t.Totals.Total
	}
	return tx.ExecLater(ctx, `INSERT INTO customer_sales (tenant_id, customer_id, currency, sales_channel_id, location_id,
			purchases, returns, spent, refunded, first_purchase_at, last_purchase_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (tenant_id, customer_id, currency, sales_channel_id, location_id) DO UPDATE SET
			purchases = customer_sales.purchases + excluded.purchases,
			returns = customer_sales.returns + excluded.returns,
			spent = customer_sales.spent + excluded.spent,
			refunded = customer_sales.refunded + excluded.refunded,
			first_purchase_at = CASE WHEN customer_sales.first_purchase_at IS NULL OR excluded.first_purchase_at < customer_sales.first_purchase_at
				THEN excluded.first_purchase_at ELSE customer_sales.first_purchase_at END,
			last_purchase_at = CASE WHEN customer_sales.last_purchase_at IS NULL OR excluded.last_purchase_at > customer_sales.last_purchase_at
				THEN excluded.last_purchase_at ELSE customer_sales.last_purchase_at END`,
		t.TenantID, t.CustomerID, t.Currency, t.SalesChannelID, t.LocationID, purchases, returns, spent, refunded, at, at)
}

const transactionColumns = `tenant_id, id, kind, sales_channel_id, location_id, register, receipt_number, external_id,
	occurred_at, utc_offset, currency, tax_inclusive, subtotal, discount_total, tax_total, total, customer_id, associate_id,
	original_id, source, created_at`

func scanTransaction(r Row) (transaction.Transaction, error) {
	var t transaction.Transaction
	var loc, receipt, ext, cust, orig *string
	err := r.Scan(&t.TenantID, &t.ID, &t.Kind, &t.SalesChannelID, &loc, &t.Register, &receipt, &ext, &t.OccurredAt, &t.UTCOffset,
		&t.Currency, &t.TaxInclusive, &t.Totals.Subtotal, &t.Totals.Discount, &t.Totals.Tax, &t.Totals.Total, &cust,
		&t.AssociateID, &orig, &t.Source, &t.CreatedAt)
	for _, f := range []struct {
		dst *string
		src *string
	}{{&t.LocationID, loc}, {&t.ReceiptNumber, receipt}, {&t.ExternalID, ext}, {&t.CustomerID, cust}, {&t.OriginalID, orig}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	t.OccurredAt = t.OccurredAt.UTC()
	return t, err
}

// FindTransactionByID returns a transaction with its lines and tenders.
func (db *DB) FindTransactionByID(ctx context.Context, tenantID, transactionID string) (transaction.Transaction, error) {
	return findTransaction(ctx, db.Read(), tenantID, transactionID)
}

func findTransaction(ctx context.Context, q Querier, tenantID, transactionID string) (transaction.Transaction, error) {
	t, err := scanTransaction(q.QueryRow(ctx, `SELECT `+transactionColumns+` FROM transactions WHERE tenant_id = $1 AND id = $2`,
		tenantID, transactionID))
	if errors.Is(err, ErrNoRows) {
		return t, apperr.New(apperr.NotFound, "no transaction with id %s", id.Format(id.Transaction, transactionID))
	}
	if err != nil {
		return t, err
	}
	ts := []*transaction.Transaction{&t}
	return t, loadTransactionDetails(ctx, q, tenantID, ts)
}

// loadTransactionDetails fills the lines and tenders of transactions, with
// one query for each.
func loadTransactionDetails(ctx context.Context, q Querier, tenantID string, ts []*transaction.Transaction) error {
	if len(ts) == 0 {
		return nil
	}
	byID := map[string]*transaction.Transaction{}
	args := []any{tenantID}
	for _, t := range ts {
		byID[t.ID] = t
		args = append(args, t.ID)
	}
	in := inList(engineOf(q), 2, len(ts))
	err := queryEach(ctx, q, `SELECT transaction_id, line_number, sku, name, category, quantity, unit_price, discount, tax, total,
		original_line, returned FROM transaction_lines WHERE tenant_id = $1 AND transaction_id IN (`+in+`) ORDER BY transaction_id, line_number`,
		args, func(r Rows) error {
			var tid string
			var l transaction.Line
			var orig *int
			err := r.Scan(&tid, &l.Number, &l.SKU, &l.Name, &l.Category, &l.Quantity, &l.UnitPrice, &l.Discount, &l.Tax, &l.Total, &orig, &l.Returned)
			if orig != nil {
				l.OriginalLine = *orig
			}
			byID[tid].Lines = append(byID[tid].Lines, l)
			return err
		})
	if err != nil {
		return err
	}
	return queryEach(ctx, q, `SELECT transaction_id, type, amount, reference FROM transaction_tenders
		WHERE tenant_id = $1 AND transaction_id IN (`+in+`) ORDER BY transaction_id, position`, args, func(r Rows) error {
		var tid string
		var td transaction.Tender
		err := r.Scan(&tid, &td.Type, &td.Amount, &td.Reference)
		byID[tid].Tenders = append(byID[tid].Tenders, td)
		return err
	})
}

// engineOf tells which dialect a querier speaks.
func engineOf(q Querier) Engine {
	switch v := q.(type) {
	case *Tx:
		return v.Engine()
	case pgxQuerier, *pgTxQuerier:
		return Postgres
	case uncancelled:
		return engineOf(v.q)
	}
	return SQLite
}
