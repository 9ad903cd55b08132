package sqldb

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/transaction"
)

// SalesRow is a customer's purchase aggregates for one currency, sales
// channel and location ("" for none), summed over the merge group.
type SalesRow struct {
	Currency       string
	SalesChannelID string
	LocationID     string
	Purchases      int64
	Returns        int64
	Spent          int64 // totals of purchases
	Refunded       int64 // totals of returns
	FirstPurchase  *time.Time
	LastPurchase   *time.Time
}

// FindCustomerSales returns the purchase aggregates of the customer an id
// resolves to, over every customer merged into it, by currency, sales
// channel and location.
func (db *DB) FindCustomerSales(ctx context.Context, tenantID, customerID string) ([]SalesRow, error) {
	p, err := db.FindCustomerByID(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	type key struct{ cur, ch, loc string }
	sums := map[key]*SalesRow{}
	err = queryEach(ctx, db.Read(), `SELECT currency, sales_channel_id, location_id, purchases, returns, spent, refunded,
		first_purchase_at, last_purchase_at FROM customer_sales
		WHERE tenant_id = $1 AND customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)`,
		[]any{tenantID, p.ID}, func(r Rows) error {
			var s SalesRow
			if err := r.Scan(&s.Currency, &s.SalesChannelID, &s.LocationID, &s.Purchases, &s.Returns, &s.Spent, &s.Refunded,
				&s.FirstPurchase, &s.LastPurchase); err != nil {
				return err
			}
			k := key{s.Currency, s.SalesChannelID, s.LocationID}
			if sums[k] == nil {
				sums[k] = &SalesRow{Currency: s.Currency, SalesChannelID: s.SalesChannelID, LocationID: s.LocationID}
			}
			addSales(sums[k], s)
			return nil
		})
	out := make([]SalesRow, 0, len(sums))
	for _, s := range sums {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if a.SalesChannelID != b.SalesChannelID {
			return a.SalesChannelID < b.SalesChannelID
		}
		return a.LocationID < b.LocationID
	})
	return out, err
}

func addSales(dst *SalesRow, s SalesRow) {
	dst.Purchases += s.Purchases
	dst.Returns += s.Returns
	dst.Spent += s.Spent
	dst.Refunded += s.Refunded
	if s.FirstPurchase != nil && (dst.FirstPurchase == nil || s.FirstPurchase.Before(*dst.FirstPurchase)) {
		t := s.FirstPurchase.UTC()
		dst.FirstPurchase = &t
	}
	if s.LastPurchase != nil && (dst.LastPurchase == nil || s.LastPurchase.After(*dst.LastPurchase)) {
		t := s.LastPurchase.UTC()
		dst.LastPurchase = &t
	}
}

// TransactionFilter pages through the transactions of the customer an id
// resolves to (and of every customer merged into it), newest first.
type TransactionFilter struct {
	TenantID   string
	CustomerID string
	Limit      int
	Before     TimeCursor
}

// TimeCursor is a position in a newest-first list: the time and id of the
// last item of the previous page (zero for the first page).
type TimeCursor struct {
	At time.Time
	ID string
}

func (c TimeCursor) bounds() (time.Time, string) {
	if c.At.IsZero() {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ""
	}
	return c.At.UTC(), c.ID
}

// FindTransactions lists a customer's transactions, newest first, with lines and tenders.
func (db *DB) FindTransactions(ctx context.Context, f TransactionFilter) ([]transaction.Transaction, error) {
	p, err := db.FindCustomerByID(ctx, f.TenantID, f.CustomerID)
	if err != nil {
		return nil, err
	}
	return findGroupTransactions(ctx, db.Read(), f.TenantID, p.ID, f.Before, f.Limit)
}

func findGroupTransactions(ctx context.Context, q Querier, tenantID, survivorID string, before TimeCursor, limit int) ([]transaction.Transaction, error) {
	at, bid := before.bounds()
	var out []transaction.Transaction
	err := queryEach(ctx, q, `SELECT `+transactionColumns+` FROM transactions
		WHERE tenant_id = $1 AND customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)
			AND (occurred_at < $3 OR (occurred_at = $3 AND id < $4))
		ORDER BY occurred_at DESC, id DESC LIMIT $5`, []any{tenantID, survivorID, at, bid, limit}, func(r Rows) error {
		t, err := scanTransaction(r)
		out = append(out, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	ptrs := make([]*transaction.Transaction, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, loadTransactionDetails(ctx, q, tenantID, ptrs)
}

// TimelineItem is one thing that happened to a customer: a transaction or a
// change to the profile.
type TimelineItem struct {
	Type        string // "transaction", "profile_change" or "event"
	At          time.Time
	ID          string
	Transaction *transaction.Transaction
	Change      *AuditEntry
	Event       *event.Event
}

// FindTimeline merges a customer's transactions, profile changes (audit
// entries) and behavioural events newest first.
func (db *DB) FindTimeline(ctx context.Context, f TransactionFilter) ([]TimelineItem, error) {
	p, err := db.FindCustomerByID(ctx, f.TenantID, f.CustomerID)
	if err != nil {
		return nil, err
	}
	q := db.Read()
	ts, err := findGroupTransactions(ctx, q, f.TenantID, p.ID, f.Before, f.Limit)
	if err != nil {
		return nil, err
	}
	var items []TimelineItem
	for i := range ts {
		items = append(items, TimelineItem{Type: "transaction", At: ts[i].OccurredAt, ID: ts[i].ID, Transaction: &ts[i]})
	}
	at, bid := f.Before.bounds()
	err = queryEach(ctx, q, `SELECT id, customer_id, action, changes, actor, request_id, created_at FROM audit_log
		WHERE tenant_id = $1 AND customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)
			AND (created_at < $3 OR (created_at = $3 AND id < $4))
		ORDER BY created_at DESC, id DESC LIMIT $5`, []any{f.TenantID, p.ID, at, bid, f.Limit}, func(r Rows) error {
		var e AuditEntry
		var changes string
		if err := r.Scan(&e.ID, &e.CustomerID, &e.Action, &changes, &e.Actor, &e.RequestID, &e.CreatedAt); err != nil {
			return err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		items = append(items, TimelineItem{Type: "profile_change", At: e.CreatedAt, ID: e.ID, Change: &e})
		return json.Unmarshal([]byte(changes), &e.Changes)
	})
	if err != nil {
		return nil, err
	}
	evs, err := findGroupEvents(ctx, q, EventFilter{TenantID: f.TenantID, Limit: f.Limit, Before: f.Before}, p.ID)
	for i := range evs {
		items = append(items, TimelineItem{Type: "event", At: evs[i].Timestamp, ID: evs[i].ID, Event: &evs[i]})
	}
	sort.Slice(items, func(i, j int) bool {
		if !items[i].At.Equal(items[j].At) {
			return items[i].At.After(items[j].At)
		}
		return items[i].ID > items[j].ID
	})
	if len(items) > f.Limit {
		items = items[:f.Limit]
	}
	return items, err
}
