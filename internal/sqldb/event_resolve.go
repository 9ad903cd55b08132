package sqldb

import (
	"context"
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/tenant"
	"github.com/omo-platform/omo/internal/transaction"
)

// resolver finds the customer of each event of a batch. Most events name
// a known customer and bring no traits, or are a new visitor's first
// event: those are answered from one lookup per identifier type and
// multi-row inserts. The rest (traits to apply, ids of two customers to
// merge, new ids for a known customer) go through identifyTx one by one, in
// order, so a later event sees what an earlier one did.
type resolver struct {
	tx      *Tx
	t       tenant.Tenant
	known   map[customer.Identifier]ownerRow // before the batch
	local   map[customer.Identifier]string   // set by this batch
	pending []*freshDraft                    // new customers not yet inserted
}

type ownerRow struct {
	customerID string
	special    bool // flagged as shared, or erased: identifyTx decides
}

// lookup reads the owners of every identifier the batch names.
func (r *resolver) lookup(ctx context.Context, items []eventItem) error {
	r.known = map[customer.Identifier]ownerRow{}
	byType := map[string][]string{}
	seen := map[customer.Identifier]bool{}
	for _, it := range items {
		if !it.live() {
			continue
		}
		for _, c := range it.claims {
			if !seen[c.Identifier] {
				seen[c.Identifier] = true
				byType[c.Type] = append(byType[c.Type], c.Value)
			}
		}
	}
	var anyErased int
	if err := r.tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM identifier_tombstones WHERE tenant_id = $1 LIMIT 1) e`, r.t.ID).Scan(&anyErased); err != nil {
		return err
	}
	for typ, values := range byType {
		for len(values) > 0 {
			chunk := values[:chunkLen(len(values))]
			values = values[len(chunk):]
			if err := r.owners(ctx, typ, chunk); err != nil {
				return err
			}
			if anyErased == 0 {
				continue
			}
			erased := map[customer.Identifier]bool{}
			if err := markErased(ctx, r.tx, r.t, typ, chunk, erased); err != nil {
				return err
			}
			for i := range erased {
				r.known[i] = ownerRow{special: true}
			}
		}
	}
	return nil
}

func (r *resolver) owners(ctx context.Context, typ string, values []string) error {
	args := []any{r.t.ID, typ}
	for _, v := range values {
		args = append(args, v)
	}
	e := r.tx.Engine()
	return queryEach(ctx, r.tx, `SELECT value, customer_id, flagged_at IS NOT NULL FROM customer_identifiers WHERE tenant_id = `+
		placeholder(e, 1)+` AND type = `+placeholder(e, 2)+` AND value IN (`+inList(e, 3, len(values))+`)`, args, func(rs Rows) error {
		var v string
		var o ownerRow
		err := rs.Scan(&v, &o.customerID, &o.special)
		r.known[customer.Identifier{Type: typ, Value: v}] = o
		return err
	})
}

// owner is who holds an identifier now: "" for no one, special for an
// identifier identifyTx must judge.
func (r *resolver) owner(i customer.Identifier) (string, bool) {
	if c, ok := r.local[i]; ok {
		return c, false
	}
	o := r.known[i]
	return o.customerID, o.special
}

// resolve finds or creates the customer of one event.
func (r *resolver) resolve(ctx context.Context, it *eventItem) error {
	if !it.live() {
		return nil
	}
	owners := map[string]bool{}
	special := false
	for _, c := range it.claims {
		o, sp := r.owner(c.Identifier)
		special = special || sp
		owners[o] = true
	}
	switch {
	case !special && len(owners) == 1 && !owners[""] && it.plain:
		for o := range owners {
			it.res.CustomerID = o
		}
		return nil
	case !special && len(owners) == 1 && owners[""] && it.draft != nil && fitsLimits(it.claims, r.t.Settings):
		id := it.draft.result.Profile.ID
		r.pending = append(r.pending, it.draft)
		for _, c := range it.claims {
			r.local[c.Identifier] = id
		}
		it.res.CustomerID, it.res.CustomerCreated = id, true
		return nil
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	res, err := identifyTx(ctx, r.tx, r.t, it.ip, it.claims, append([]customer.Ignored(nil), it.ignored...))
	if err != nil {
		if apperr.KindOf(err) == apperr.Internal {
			return err
		}
		it.drop("the customer could not be resolved: " + fieldMessages(err))
		return nil
	}
	target := res.Profile.ID
	merged := map[string]bool{}
	for _, m := range res.Merged {
		merged[m] = true
	}
	for i, c := range r.local {
		if merged[c] {
			r.local[i] = target
		}
	}
	for i, o := range r.known {
		if merged[o.customerID] {
			r.local[i] = target
		}
	}
	for _, c := range it.claims {
		r.local[c.Identifier] = target
	}
	it.res.CustomerID, it.res.CustomerCreated = target, res.Created
	return nil
}

func fitsLimits(claims []customer.Claim, s tenant.Settings) bool {
	classes := map[string]int{}
	for _, c := range claims {
		classes[c.LimitClass()]++
	}
	for class, n := range classes {
		if n > s.Limit(class) {
			return false
		}
	}
	return true
}

// flush inserts the new customers drafted so far.
func (r *resolver) flush(ctx context.Context) error {
	if len(r.pending) == 0 {
		return nil
	}
	err := insertFresh(ctx, r.tx, r.pending)
	r.pending = r.pending[:0]
	return err
}

// recordOrder records the purchase or return of an order event. Its errors
// about the sale become notes (the event is kept); it returns the id of a
// transaction it created, and a database error.
func recordOrder(ctx context.Context, tx *Tx, t tenant.Tenant, it *eventItem) (string, error) {
	if !it.live() || it.order == nil {
		return "", nil
	}
	rp := *it.order
	rp.CustomerID = it.res.CustomerID
	if it.orderRaw.Full {
		lines, err := remainingLines(ctx, tx, t.ID, it.orderRaw.OrderID)
		switch {
		case err != nil && apperr.KindOf(err) != apperr.Internal:
			it.note("no transaction: %s", err.Error())
			return "", nil
		case err != nil:
			return "", err
		case lines == nil:
			it.note("no transaction: Order Refunded lists no products and no order %q was recorded", it.orderRaw.OrderID)
			return "", nil
		}
		rp.Lines = lines
		if rp.Currency, err = orderCurrency(ctx, tx, t.ID, it.orderRaw.OrderID); err != nil {
			return "", err
		}
	}
	totals, _, err := checkRecord(&rp, t, tx.Now())
	if err != nil {
		it.note("no transaction: %s", fieldMessages(err))
		return "", nil
	}
	hashed := rp
	hashed.CustomerID = "" // a resend recorded on a since-merged customer is the same sale
	res, err := recordTx(ctx, tx, t, rp, totals, nil, recordHash(hashed))
	switch {
	case err != nil && apperr.KindOf(err) != apperr.Internal:
		it.note("no transaction: %s", fieldMessages(err))
		return "", nil
	case err != nil:
		return "", err
	}
	it.res.TransactionID = res.Transaction.ID
	if !res.Created {
		it.note("order %q was recorded before as this transaction; nothing applied twice", it.orderRaw.OrderID)
		return "", nil
	}
	return res.Transaction.ID, nil
}

// remainingLines are the lines of a recorded order not yet returned, as
// return lines (discount and tax in proportion); nil when no such order.
func remainingLines(ctx context.Context, tx *Tx, tenantID, orderID string) ([]transaction.Line, error) {
	var tid string
	err := tx.QueryRow(ctx, `SELECT id FROM transactions WHERE tenant_id = $1 AND external_id = $2 AND kind = 'purchase'`, tenantID, orderID).Scan(&tid)
	if err == ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	orig, err := findTransaction(ctx, tx, tenantID, tid)
	if err != nil {
		return nil, err
	}
	var out []transaction.Line
	for _, l := range orig.Lines {
		q := l.Quantity - l.Returned
		if q <= 0 {
			continue
		}
		out = append(out, transaction.Line{SKU: l.SKU, Name: l.Name, Category: l.Category, Quantity: q, UnitPrice: l.UnitPrice,
			Discount: l.Discount * q / l.Quantity, Tax: l.Tax * q / l.Quantity, OriginalLine: l.Number})
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Conflict, "order %q was returned in full already", orderID)
	}
	return out, nil
}

func orderCurrency(ctx context.Context, tx *Tx, tenantID, orderID string) (string, error) {
	var c string
	err := tx.QueryRow(ctx, `SELECT currency FROM transactions WHERE tenant_id = $1 AND external_id = $2`, tenantID, orderID).Scan(&c)
	return c, err
}

// insertEvents writes the batch's recorded events with multi-row inserts.
func insertEvents(ctx context.Context, tx *Tx, tenantID, keyID string, items []eventItem) error {
	rows := make([][]any, 0, len(items))
	for i := range items {
		it := &items[i]
		if !it.live() {
			continue
		}
		e := it.e
		var tid *string
		if it.res.TransactionID != "" {
			tid = &it.res.TransactionID
		}
		rows = append(rows, []any{tenantID, it.res.ID, e.MessageID, e.Type, e.Name, e.UserID, e.AnonymousID, it.res.CustomerID,
			e.Timestamp, e.OriginalTimestamp, e.SentAt, e.ReceivedAt, string(e.Properties), string(e.Traits),
			string(e.Context), string(e.Integrations), e.Commerce, tid, keyID})
	}
	if err := insertRows(ctx, tx, "events", eventColumns, rows, ""); err != nil {
		return fmt.Errorf("sqldb: insert events: %w", err)
	}
	return nil
}

const eventColumns = `tenant_id, id, message_id, type, name, user_id, anonymous_id, customer_id, occurred_at, original_timestamp,
	sent_at, received_at, properties, traits, context, integrations, commerce, transaction_id, key_id`
