package sqldb

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/event"
)

// EventFilter pages through the events of the customer an id resolves to
// (and of every customer merged into it), newest first.
type EventFilter struct {
	TenantID   string
	CustomerID string
	Name       string    // the event's name (track event, page or screen name), exact
	Type       string    // identify, track… ("" for all)
	Since      time.Time // occurred at or after (zero: no bound)
	Until      time.Time // occurred before (zero: no bound)
	Limit      int
	Before     TimeCursor
}

const eventSelect = `SELECT tenant_id, id, message_id, type, name, user_id, anonymous_id, customer_id, occurred_at, original_timestamp,
	sent_at, received_at, properties, traits, context, integrations, commerce, transaction_id, key_id FROM events`

func scanEvent(r Row) (event.Event, error) {
	var e event.Event
	var props, traits, ctx, integ string
	var tid *string
	err := r.Scan(&e.TenantID, &e.ID, &e.MessageID, &e.Type, &e.Name, &e.UserID, &e.AnonymousID, &e.CustomerID, &e.Timestamp,
		&e.OriginalTimestamp, &e.SentAt, &e.ReceivedAt, &props, &traits, &ctx, &integ, &e.Commerce, &tid, &e.KeyID)
	e.Properties, e.Traits, e.Context, e.Integrations = json.RawMessage(props), json.RawMessage(traits), json.RawMessage(ctx), json.RawMessage(integ)
	if tid != nil {
		e.TransactionID = *tid
	}
	e.Timestamp, e.ReceivedAt = e.Timestamp.UTC(), e.ReceivedAt.UTC()
	for _, p := range []**time.Time{&e.OriginalTimestamp, &e.SentAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	return e, err
}

// FindEvents lists a customer's events, newest first, following merges.
func (db *DB) FindEvents(ctx context.Context, f EventFilter) ([]event.Event, error) {
	p, err := db.FindCustomerByID(ctx, f.TenantID, f.CustomerID)
	if err != nil {
		return nil, err
	}
	return findGroupEvents(ctx, db.Read(), f, p.ID)
}

func findGroupEvents(ctx context.Context, q Querier, f EventFilter, survivorID string) ([]event.Event, error) {
	at, bid := f.Before.bounds()
	where := []string{`tenant_id = $1`, `customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)`,
		`(occurred_at < $3 OR (occurred_at = $3 AND id < $4))`}
	args := []any{f.TenantID, survivorID, at, bid}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Name != "" {
		add(`name = ?`, f.Name)
	}
	if f.Type != "" {
		add(`type = ?`, f.Type)
	}
	if !f.Since.IsZero() {
		add(`occurred_at >= ?`, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add(`occurred_at < ?`, f.Until.UTC())
	}
	args = append(args, f.Limit)
	var out []event.Event
	err := queryEach(ctx, q, eventSelect+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY occurred_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args, func(r Rows) error {
		e, err := scanEvent(r)
		out = append(out, e)
		return err
	})
	return out, err
}
