package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
)

// chunkLen is how many of n rows or values the next multi-row INSERT or IN
// list takes: all of them up to exactShapes (the handful of rows a sale
// writes go in one statement), else a power of two up to maxInsertRows, so
// that few statement shapes exist and each is prepared once.
func chunkLen(n int) int {
	if n <= exactShapes {
		return n
	}
	return min(maxInsertRows, 1<<(bits.Len(uint(n))-1))
}

// exactShapes is the largest row count that gets a statement of its own size.
const exactShapes = 16

// batchItem is one IdentifyBatch request after normalisation.
type batchItem struct {
	p       IdentifyParams
	claims  []customer.Claim
	ignored []customer.Ignored
	// draft holds the rows the item writes if it turns out to be a new
	// customer. It is built before the transaction, beside the single SQLite
	// writer, which then only checks and inserts.
	draft *freshDraft
}

// freshDraft is a new customer's rows, ready to insert.
type freshDraft struct {
	result      *IdentifyResult
	customerRow []any
	idRows      [][]any
	termRows    [][]any
	auditRow    []any
}

// mayBeFresh reports whether an item can take the set-based path at all.
func (it batchItem) mayBeFresh() bool { return len(it.claims) > 0 && len(it.p.Consents) == 0 }

// draftFresh builds the rows of a new customer for the item.
func draftFresh(t tenant.Tenant, it batchItem, now time.Time) (*freshDraft, error) {
	c := &customer.Customer{TenantID: t.ID, ID: id.New(), CreatedAt: now, UpdatedAt: now}
	c.SurvivorID = c.ID
	var traitChanges, changes []customer.Change
	c.Traits, c.TraitSources, traitChanges = customer.ApplyTraits(customer.Traits{}, nil, customer.TraitUpdate{
		Traits: it.p.Traits, Source: it.p.Source, At: now, Priority: t.Settings.Priority})
	d := &freshDraft{}
	for _, cl := range it.claims {
		c.Identifiers = append(c.Identifiers, cl.Identifier)
		changes = append(changes, customer.Change{Field: "identifiers." + cl.Type, After: cl.Value})
		d.idRows = append(d.idRows, []any{c.TenantID, cl.Type, cl.Value, c.ID, it.p.Source, now})
	}
	changes = append(changes, traitChanges...)
	attrs, sources, err := traitJSON(c)
	if err != nil {
		return nil, err
	}
	tr := c.Traits
	d.customerRow = []any{c.TenantID, c.ID, c.ID, tr.FirstName, tr.LastName, tr.Gender, tr.Birthday, tr.Locale,
		tr.HomeLocation, attrs, sources, now, now}
	for _, term := range searchTerms(c.Traits) {
		d.termRows = append(d.termRows, []any{c.TenantID, term, c.ID})
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return nil, err
	}
	a := it.p.Actor
	d.auditRow = []any{c.TenantID, id.New(), c.ID, "created", string(raw), a.Actor, a.RequestID, now}
	d.result = &IdentifyResult{Profile: &Profile{Customer: *c, RequestedID: c.ID, Consents: []customer.Consent{}},
		Created: true, Ignored: it.ignored}
	return d, nil
}

// identifyFresh writes, set-based, the items of a batch that are certainly
// new customers: none of their identifiers is owned, flagged or erased, none
// is shared with another item of the batch, they carry no consents and fit
// the limits. It returns the indexes it handled; the caller runs the others
// one by one. Fresh items share nothing with the others, so order is kept.
func identifyFresh(ctx context.Context, tx *Tx, t tenant.Tenant, items []batchItem, skip []bool) (map[int]*IdentifyResult, error) {
	known, err := knownClaims(ctx, tx, t, items, skip)
	if err != nil {
		return nil, err
	}
	seen := map[customer.Identifier]int{}
	for i, it := range items {
		for _, c := range it.claims {
			if !skip[i] {
				seen[c.Identifier]++
			}
		}
	}
	fresh := map[int]*IdentifyResult{}
	var drafts []*freshDraft
	for i, it := range items {
		if skip[i] || it.draft == nil || !isFresh(it, known, seen, t.Settings) {
			continue
		}
		drafts = append(drafts, it.draft)
		fresh[i] = it.draft.result
	}
	return fresh, insertFresh(ctx, tx, drafts)
}

func isFresh(it batchItem, known map[customer.Identifier]bool, seen map[customer.Identifier]int, s tenant.Settings) bool {
	if !it.mayBeFresh() {
		return false
	}
	classes := map[string]int{}
	for _, c := range it.claims {
		if known[c.Identifier] || seen[c.Identifier] > 1 {
			return false
		}
		classes[c.LimitClass()]++
	}
	for class, n := range classes {
		if n > s.Limit(class) {
			return false
		}
	}
	return true
}

// knownClaims reports which claims of the batch are owned (flagged or not)
// or erased, with one query per identifier type and chunk.
func knownClaims(ctx context.Context, tx *Tx, t tenant.Tenant, items []batchItem, skip []bool) (map[customer.Identifier]bool, error) {
	byType := map[string][]string{}
	for i, it := range items {
		for _, c := range it.claims {
			if !skip[i] {
				byType[c.Type] = append(byType[c.Type], c.Value)
			}
		}
	}
	// Most tenants have erased no one: then there is nothing to hash and look up.
	var anyErased int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM identifier_tombstones WHERE tenant_id = $1 LIMIT 1) e`, t.ID).Scan(&anyErased); err != nil {
		return nil, err
	}
	known := map[customer.Identifier]bool{}
	for typ, values := range byType {
		for len(values) > 0 {
			chunk := values[:chunkLen(len(values))]
			values = values[len(chunk):]
			if err := markOwned(ctx, tx, t.ID, typ, chunk, known); err != nil {
				return nil, err
			}
			if anyErased == 0 {
				continue
			}
			if err := markErased(ctx, tx, t, typ, chunk, known); err != nil {
				return nil, err
			}
		}
	}
	return known, nil
}

// inList is the placeholders of an IN list whose first parameter is number first.
func inList(e Engine, first, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = placeholder(e, first+i)
	}
	return strings.Join(parts, ", ")
}

func markOwned(ctx context.Context, tx *Tx, tenantID, typ string, values []string, known map[customer.Identifier]bool) error {
	args := []any{tenantID, typ}
	for _, v := range values {
		args = append(args, v)
	}
	return queryEach(ctx, tx, `SELECT value FROM customer_identifiers WHERE tenant_id = $1 AND type = $2 AND value IN (`+
		inList(tx.Engine(), 3, len(values))+`)`, args, func(r Rows) error {
		var v string
		err := r.Scan(&v)
		known[customer.Identifier{Type: typ, Value: v}] = true
		return err
	})
}

func markErased(ctx context.Context, tx *Tx, t tenant.Tenant, typ string, values []string, known map[customer.Identifier]bool) error {
	args := []any{t.ID, typ}
	byHash := map[string]string{}
	for _, v := range values {
		h := tombstoneHash(t.Pepper, customer.Identifier{Type: typ, Value: v})
		byHash[string(h)] = v
		args = append(args, h)
	}
	return queryEach(ctx, tx, `SELECT value_hash FROM identifier_tombstones WHERE tenant_id = $1 AND type = $2 AND value_hash IN (`+
		inList(tx.Engine(), 3, len(values))+`)`, args, func(r Rows) error {
		var h []byte
		err := r.Scan(&h)
		known[customer.Identifier{Type: typ, Value: byHash[string(h)]}] = true
		return err
	})
}

// insertFresh writes the drafted customers with multi-row inserts.
func insertFresh(ctx context.Context, tx *Tx, drafts []*freshDraft) error {
	var custRows, idRows, termRows, auditRows [][]any
	for _, d := range drafts {
		custRows = append(custRows, d.customerRow)
		idRows = append(idRows, d.idRows...)
		termRows = append(termRows, d.termRows...)
		auditRows = append(auditRows, d.auditRow)
	}
	for _, ins := range []struct {
		table, columns, suffix string
		rows                   [][]any
	}{
		{"customers", "tenant_id, id, survivor_id, first_name, last_name, gender, birthday, locale, home_location, attributes, trait_sources, created_at, updated_at", "", custRows},
		{"customer_identifiers", "tenant_id, type, value, customer_id, source, created_at", "", idRows},
		{"customer_search_terms", "tenant_id, term, customer_id", " ON CONFLICT DO NOTHING", termRows},
		{"audit_log", "tenant_id, id, customer_id, action, changes, actor, request_id, created_at", "", auditRows},
	} {
		if err := insertRows(ctx, tx, ins.table, ins.columns, ins.rows, ins.suffix); err != nil {
			return fmt.Errorf("sqldb: bulk insert %s: %w", ins.table, err)
		}
	}
	return nil
}
