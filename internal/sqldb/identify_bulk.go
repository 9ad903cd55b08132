package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
)

// bulkChunk bounds the values of one IN list and the rows of one INSERT.
const bulkChunk = 400

// batchItem is one IdentifyBatch request after normalisation.
type batchItem struct {
	p       IdentifyParams
	claims  []customer.Claim
	ignored []customer.Ignored
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
	var customers []*customer.Customer
	var changes [][]customer.Change
	now := tx.Now()
	for i, it := range items {
		if skip[i] || !isFresh(it, known, seen, t.Settings) {
			continue
		}
		c := &customer.Customer{TenantID: t.ID, ID: id.New(), CreatedAt: now, UpdatedAt: now}
		c.SurvivorID = c.ID
		var ch, traitChanges []customer.Change
		c.Traits, c.TraitSources, traitChanges = customer.ApplyTraits(customer.Traits{}, nil, customer.TraitUpdate{
			Traits: it.p.Traits, Source: it.p.Source, At: now, Priority: t.Settings.Priority})
		for _, cl := range it.claims {
			c.Identifiers = append(c.Identifiers, cl.Identifier)
			ch = append(ch, customer.Change{Field: "identifiers." + cl.Type, After: cl.Value})
		}
		ch = append(ch, traitChanges...)
		customers, changes = append(customers, c), append(changes, ch)
		fresh[i] = &IdentifyResult{Profile: &Profile{Customer: *c, RequestedID: c.ID, Consents: []customer.Consent{}},
			Created: true, Ignored: it.ignored}
	}
	return fresh, insertFresh(ctx, tx, items, customers, changes, fresh)
}

func isFresh(it batchItem, known map[customer.Identifier]bool, seen map[customer.Identifier]int, s tenant.Settings) bool {
	if len(it.claims) == 0 || len(it.p.Consents) > 0 {
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
	known := map[customer.Identifier]bool{}
	for typ, values := range byType {
		for start := 0; start < len(values); start += bulkChunk {
			chunk := values[min(start, len(values)):min(start+bulkChunk, len(values))]
			if err := markOwned(ctx, tx, t.ID, typ, chunk, known); err != nil {
				return nil, err
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

// insertFresh writes the fresh customers with multi-row inserts.
func insertFresh(ctx context.Context, tx *Tx, items []batchItem, cs []*customer.Customer, changes [][]customer.Change, fresh map[int]*IdentifyResult) error {
	var custRows, idRows, termRows, auditRows [][]any
	source, actors := map[string]string{}, map[string]Actor{}
	for i, r := range fresh {
		source[r.Profile.ID], actors[r.Profile.ID] = items[i].p.Source, items[i].p.Actor
	}
	for k, c := range cs {
		attrs, sources, err := traitJSON(c)
		if err != nil {
			return err
		}
		t := c.Traits
		custRows = append(custRows, []any{c.TenantID, c.ID, c.ID, t.FirstName, t.LastName, t.Gender, t.Birthday, t.Locale,
			t.HomeLocation, attrs, sources, c.CreatedAt, c.UpdatedAt})
		for _, i := range c.Identifiers {
			idRows = append(idRows, []any{c.TenantID, i.Type, i.Value, c.ID, source[c.ID], c.CreatedAt})
		}
		for _, term := range searchTerms(c.Traits) {
			termRows = append(termRows, []any{c.TenantID, term, c.ID})
		}
		raw, err := json.Marshal(changes[k])
		if err != nil {
			return err
		}
		a := actors[c.ID]
		auditRows = append(auditRows, []any{c.TenantID, id.New(), c.ID, "created", string(raw), a.Actor, a.RequestID, c.CreatedAt})
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
		for start := 0; start < len(ins.rows); start += bulkChunk {
			if err := insertRows(ctx, tx, ins.table, ins.columns, ins.rows[start:min(start+bulkChunk, len(ins.rows))], ins.suffix); err != nil {
				return fmt.Errorf("sqldb: bulk insert %s: %w", ins.table, err)
			}
		}
	}
	return nil
}
