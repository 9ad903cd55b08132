package sqldb

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
	"github.com/omo-platform/omo/internal/transaction"
)

// EventSource is the trait source of profile changes made by events, for
// the tenant's source priorities.
const EventSource = "segment"

// RecordEventsParams is a batch of decoded events of one tenant, sent with
// one write key.
type RecordEventsParams struct {
	TenantID string
	KeyID    string // the write key: its sales channel records Order Completed and Order Refunded
	Events   []event.Event
	Actor
}

// What became of an event.
const (
	EventAccepted  = "accepted"
	EventDuplicate = "duplicate"
	EventDropped   = "dropped"
)

// EventResult is what became of one event of a batch.
type EventResult struct {
	Status          string
	Reason          string // why it was dropped
	ID              string
	CustomerID      string
	CustomerCreated bool
	TransactionID   string   // the purchase or return an order event recorded (or found recorded)
	Notes           []string // what was not done although the event was kept, and why
}

// eventItem is one event of a batch after the checks that need no database.
type eventItem struct {
	e        *event.Event
	ip       IdentifyParams
	claims   []customer.Claim
	ignored  []customer.Ignored
	plain    bool // brings no traits: a known customer needs no write
	draft    *freshDraft
	order    *RecordParams
	orderRaw *event.Order
	prep     EventResult // what the checks before the transaction found
	res      EventResult // prep, then what the transaction did
}

// RecordEvents records a batch of events in one write transaction. Each
// event resolves to a customer (userId and anonymousId are its external ids
// user_id and anonymous_id; traits update the profile), created on first
// sight; an identify naming both ids makes one customer of them. An event
// whose messageId was recorded before is a duplicate and changes nothing.
// Order Completed and Order Refunded record a purchase or a return in the
// write key's sales channel, keyed by the order id so a resent order applies
// nothing twice. A bad event is dropped alone with its reason; an error is
// the database's, and nothing of the batch was recorded.
func (db *DB) RecordEvents(ctx context.Context, p RecordEventsParams) ([]EventResult, error) {
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	channel, err := db.keyChannelCode(ctx, p)
	if err != nil {
		return nil, err
	}
	items := prepareEvents(t, p, channel, db.Now())
	for attempt := 0; ; attempt++ {
		for i := range items {
			items[i].res = items[i].prep
			items[i].res.Notes = append([]string(nil), items[i].prep.Notes...)
		}
		err := db.WriteTx(ctx, func(tx *Tx) error { return recordEventsTx(ctx, tx, t, p, items) })
		// Two batches racing on PostgreSQL for one new order: run again and
		// find the winner's transaction.
		if IsUniqueViolation(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		out := make([]EventResult, len(items))
		for i := range items {
			out[i] = items[i].res
		}
		return out, nil
	}
}

// keyChannelCode returns the code of the sales channel the write key is
// bound to, "" when none, read only when the batch holds an order.
func (db *DB) keyChannelCode(ctx context.Context, p RecordEventsParams) (string, error) {
	need := false
	for _, e := range p.Events {
		need = need || e.Commerce == event.OrderCompleted || e.Commerce == event.OrderRefunded
	}
	if !need || p.KeyID == "" {
		return "", nil
	}
	var code *string
	err := db.Read().QueryRow(ctx, `SELECT sc.code FROM api_keys k LEFT JOIN sales_channels sc
		ON sc.tenant_id = k.tenant_id AND sc.id = k.sales_channel_id WHERE k.tenant_id = $1 AND k.id = $2`, p.TenantID, p.KeyID).Scan(&code)
	if err != nil && err != ErrNoRows {
		return "", fmt.Errorf("sqldb: key sales channel: %w", err)
	}
	if code == nil {
		return "", nil
	}
	return *code, nil
}

// prepareEvents normalises identifiers, reads orders and drafts new
// customers before and beside the write transaction.
func prepareEvents(t tenant.Tenant, p RecordEventsParams, channel string, now time.Time) []eventItem {
	items := make([]eventItem, len(p.Events))
	firstOfKey := map[string]bool{}
	for i := range p.Events {
		it := &items[i]
		it.e = &p.Events[i]
		it.res.ID = id.New()
		who := it.e.IdentityOf()
		it.res.Notes = append(it.res.Notes, who.Warnings...)
		it.ip = IdentifyParams{TenantID: t.ID, Identifiers: who.Identifiers, Traits: who.Traits, Source: EventSource, Actor: p.Actor}
		var err error
		it.claims, it.ignored, err = normalizeRequest(it.ip, t.Settings.DefaultCountry, now)
		if err != nil && who.Personal {
			it.res.Notes = append(it.res.Notes, "the email, phone or card number in traits is malformed and was not applied: "+fieldMessages(err))
			who = who.WithoutPersonal()
			it.ip.Identifiers = who.Identifiers
			it.claims, it.ignored, err = normalizeRequest(it.ip, t.Settings.DefaultCountry, now)
		}
		switch {
		case err != nil:
			it.drop("userId or anonymousId is malformed: " + fieldMessages(err))
			continue
		case len(it.claims) == 0:
			it.drop("no usable identifier: userId and anonymousId are empty or placeholders")
			continue
		}
		it.plain = it.ip.Traits.FirstName == nil && it.ip.Traits.LastName == nil && it.ip.Traits.Gender == nil &&
			it.ip.Traits.Birthday == nil && len(it.ip.Traits.Attributes) == 0 && it.e.Type != event.TypeAlias
		if k := claimsKey(it.claims); !firstOfKey[k] && it.e.Type != event.TypeAlias {
			firstOfKey[k] = true
			it.draft, _ = draftFresh(t, batchItem{p: it.ip, claims: it.claims, ignored: it.ignored}, now)
		}
		it.prepareOrder(t, channel, now)
	}
	for i := range items {
		items[i].prep = items[i].res
	}
	return items
}

func (it *eventItem) drop(reason string) {
	it.res.Status, it.res.Reason = EventDropped, reason
}

func (it *eventItem) note(format string, args ...any) {
	it.res.Notes = append(it.res.Notes, fmt.Sprintf(format, args...))
}

// fieldMessages joins the messages of an Invalid error.
func fieldMessages(err error) string {
	e, ok := apperr.As(err)
	if !ok || len(e.Fields) == 0 {
		return err.Error()
	}
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Message)
	}
	return strings.Join(parts, "; ")
}

func claimsKey(cs []customer.Claim) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Type + "\x1f" + c.Value
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x1e")
}

// prepareOrder reads an Order Completed or Order Refunded event as the
// purchase or return it records.
func (it *eventItem) prepareOrder(t tenant.Tenant, channel string, now time.Time) {
	e := it.e
	if e.Commerce != event.OrderCompleted && e.Commerce != event.OrderRefunded {
		return
	}
	o, err := event.ParseOrder(e.Commerce, e.Properties)
	if err != nil {
		it.note("no transaction: %v", err)
		return
	}
	if channel == "" {
		it.note("no transaction: the write key is bound to no sales channel (create the key with a sales_channel)")
		return
	}
	rp := &RecordParams{TenantID: t.ID, Kind: transaction.KindPurchase, SalesChannelCode: channel, ExternalID: o.ExternalID(e.Commerce),
		OccurredAt: e.Timestamp, Currency: o.Currency, TaxInclusive: false, Lines: o.Lines, Source: EventSource}
	if e.Commerce == event.OrderRefunded {
		rp.Kind = transaction.KindReturn
		rp.Original = &OriginalRef{ExternalID: o.OrderID}
	}
	if !o.Full {
		if _, _, err := checkRecord(rp, t, now); err != nil {
			it.note("no transaction: %s", fieldMessages(err))
			return
		}
	}
	it.order, it.orderRaw = rp, &o
}

// recordEventsTx runs a prepared batch inside tx.
func recordEventsTx(ctx context.Context, tx *Tx, t tenant.Tenant, p RecordEventsParams, items []eventItem) error {
	if err := lockEventKeys(ctx, tx, t.ID, items); err != nil {
		return err
	}
	if err := markDuplicates(ctx, tx, t.ID, items); err != nil {
		return err
	}
	r := &resolver{tx: tx, t: t, local: map[customer.Identifier]string{}}
	if err := r.lookup(ctx, items); err != nil {
		return err
	}
	for i := range items {
		if err := r.resolve(ctx, &items[i]); err != nil {
			return err
		}
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	var created []string
	for i := range items {
		tid, err := recordOrder(ctx, tx, t, &items[i])
		if err != nil {
			return err
		}
		if tid != "" {
			created = append(created, tid)
		}
	}
	if err := enqueueRecorded(ctx, tx, t.ID, created); err != nil {
		return err
	}
	if err := accrueEvents(ctx, tx, t.ID, items); err != nil {
		return err
	}
	return insertEvents(ctx, tx, t.ID, p.KeyID, items)
}

// lockEventKeys serialises, on PostgreSQL, batches that share a message id
// or an identifier (the same keys identifyTx locks), in one statement and a
// fixed order. SQLite has one writer and needs none.
func lockEventKeys(ctx context.Context, tx *Tx, tenantID string, items []eventItem) error {
	if tx.Engine() != Postgres {
		return nil
	}
	seen := map[string]bool{}
	for _, it := range items {
		if it.res.Status == EventDropped {
			continue
		}
		seen["event\x1f"+tenantID+"\x1f"+it.e.MessageID] = true
		for _, c := range it.claims {
			seen[tenantID+"\x1f"+c.Type+"\x1f"+c.Value] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
		FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n`, keys)
	if err != nil {
		return fmt.Errorf("sqldb: lock events: %w", err)
	}
	return nil
}

// markDuplicates marks events whose messageId was recorded before, or
// appears earlier in the same batch.
func markDuplicates(ctx context.Context, tx *Tx, tenantID string, items []eventItem) error {
	var mids []string
	first := map[string]int{}
	for i := range items {
		it := &items[i]
		if it.res.Status == EventDropped {
			continue
		}
		if _, ok := first[it.e.MessageID]; ok {
			it.res.Status = EventDuplicate
			continue
		}
		first[it.e.MessageID] = i
		mids = append(mids, it.e.MessageID)
	}
	for len(mids) > 0 {
		chunk := mids[:chunkLen(len(mids))]
		mids = mids[len(chunk):]
		args := []any{tenantID}
		for _, m := range chunk {
			args = append(args, m)
		}
		err := queryEach(ctx, tx, `SELECT message_id FROM events WHERE tenant_id = `+placeholder(tx.Engine(), 1)+
			` AND message_id IN (`+inList(tx.Engine(), 2, len(chunk))+`)`, args, func(r Rows) error {
			var m string
			err := r.Scan(&m)
			items[first[m]].res.Status = EventDuplicate
			return err
		})
		if err != nil {
			return fmt.Errorf("sqldb: find duplicate events: %w", err)
		}
	}
	for i := range items {
		if items[i].res.Status == "" {
			items[i].res.Status = EventAccepted
		}
	}
	return nil
}

// live reports whether an item still needs recording.
func (it *eventItem) live() bool { return it.res.Status == EventAccepted }
