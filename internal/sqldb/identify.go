package sqldb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
)

// IdentifyParams is one identify request.
type IdentifyParams struct {
	TenantID    string
	Identifiers customer.IdentifierInput
	Traits      customer.Traits
	Consents    []customer.ConsentInput
	Source      string // the system that sent it (pos, web, app, import…), for trait priority
	Actor
}

// IdentifyResult is the customer a request resolved to and what happened.
type IdentifyResult struct {
	Profile *Profile
	Created bool
	Merged  []string // customers merged into Profile by this request
	Ignored []customer.Ignored
}

// Identify resolves identifiers to one customer, creating it or merging the
// customers they point at, then applies traits and consents. It returns
// Invalid for malformed input, Conflict when every identifier belongs to an
// erased person and no fresh consent came with them.
func (db *DB) Identify(ctx context.Context, p IdentifyParams) (*IdentifyResult, error) {
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	claims, ignored, err := normalizeRequest(p, t.Settings.DefaultCountry, db.Now())
	if err != nil {
		return nil, err
	}
	if res, ok, err := identifyUnchanged(ctx, db.readPoint(), t, p, claims, ignored); ok || err != nil {
		return res, err
	}
	var res *IdentifyResult
	err = db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		res, err = identifyTx(ctx, tx, t, p, claims, append([]customer.Ignored(nil), ignored...))
		return err
	})
	return res, err
}

// identifyUnchanged answers, from a reader and without the writer, the
// common request that re-identifies one known customer and changes nothing:
// no merge, no new identifier, no new trait value, no consent. It reports
// false whenever anything would change; the write path then decides again
// inside its transaction.
func identifyUnchanged(ctx context.Context, q Querier, t tenant.Tenant, p IdentifyParams, claims []customer.Claim, ignored []customer.Ignored) (*IdentifyResult, bool, error) {
	if len(p.Consents) > 0 || len(claims) == 0 {
		return nil, false, nil
	}
	erased, _, err := tombstoned(ctx, q, t, claims)
	if err != nil || len(erased) > 0 {
		return nil, false, err
	}
	m, err := matchClaims(ctx, q, "", t, claims, append([]customer.Ignored(nil), ignored...))
	if err != nil {
		return nil, false, err
	}
	plan := customer.PlanIdentify(m.matches, m.owners, t.Settings.Limit)
	if plan.TargetID == "" || len(plan.MergeIDs) > 0 || len(plan.Attach) > 0 {
		return nil, false, nil
	}
	target := m.customers[plan.TargetID]
	if _, _, changes := customer.ApplyTraits(target.Traits, target.TraitSources, customer.TraitUpdate{
		Traits: p.Traits, Source: p.Source, At: time.Now(), Priority: t.Settings.Priority}); len(changes) > 0 {
		return nil, false, nil
	}
	history, err := consentHistory(ctx, q, t.ID, target.ID)
	if err != nil {
		return nil, false, err
	}
	prof := &Profile{Customer: *target, RequestedID: target.ID, Consents: customer.CurrentConsents(history)}
	return &IdentifyResult{Profile: prof, Ignored: append(m.ignored, plan.Ignored...)}, true, nil
}

// normalizeRequest checks an identify request before any database work.
func normalizeRequest(p IdentifyParams, country string, now time.Time) ([]customer.Claim, []customer.Ignored, error) {
	if p.Identifiers.Empty() {
		return nil, nil, apperr.Field("body.identifiers", "at least one identifier is required", nil)
	}
	claims, ignored, err := customer.NormalizeIdentifiers(p.Identifiers, country)
	if err != nil {
		return nil, nil, err
	}
	return claims, ignored, customer.ValidateConsents(p.Consents, now, "body.consents")
}

// identifyTx resolves one request inside tx. Its contract, which
// IdentifyBatch relies on: every error about the request itself (no usable
// identifier, erased identifiers) is returned before the first write; an
// error after a write is the database's.
func identifyTx(ctx context.Context, tx *Tx, t tenant.Tenant, p IdentifyParams, claims []customer.Claim, ignored []customer.Ignored) (*IdentifyResult, error) {
	if err := lockClaims(ctx, tx, t.ID, claims); err != nil {
		return nil, err
	}
	claims, ignored, err := admitErased(ctx, tx, t, claims, ignored, p.Consents)
	if err != nil {
		return nil, err
	}
	m, err := matchClaims(ctx, tx, lockFor(tx), t, claims, ignored)
	if err != nil {
		return nil, err
	}
	plan := customer.PlanIdentify(m.matches, m.owners, t.Settings.Limit)
	plan.Ignored = append(m.ignored, plan.Ignored...)
	if plan.TargetID == "" && len(plan.Attach) == 0 {
		return nil, noUsableIdentifier(plan.Ignored)
	}
	if plan.TargetID == "" {
		return createCustomer(ctx, tx, t, p, plan)
	}
	return updateMatched(ctx, tx, t, p, plan, m.customers)
}

// createCustomer writes a new customer with its identifiers and traits.
func createCustomer(ctx context.Context, tx *Tx, t tenant.Tenant, p IdentifyParams, plan customer.Plan) (*IdentifyResult, error) {
	now := tx.Now()
	c := &customer.Customer{TenantID: t.ID, ID: id.New(), CreatedAt: now, UpdatedAt: now}
	c.SurvivorID = c.ID
	var changes []customer.Change
	c.Traits, c.TraitSources, changes = customer.ApplyTraits(customer.Traits{}, nil, customer.TraitUpdate{
		Traits: p.Traits, Source: p.Source, At: now, Priority: t.Settings.Priority})
	if err := insertCustomer(ctx, tx, c); err != nil {
		return nil, err
	}
	idChanges, err := attachIdentifiers(ctx, tx, c, plan.Attach, p.Source)
	if err != nil {
		return nil, err
	}
	if err := writeAudit(ctx, tx, t.ID, c.ID, "created", append(idChanges, changes...), p.Actor); err != nil {
		return nil, err
	}
	consents, err := recordConsents(ctx, tx, t.ID, c.ID, p.Consents, p.Actor)
	if err != nil {
		return nil, err
	}
	prof := &Profile{Customer: *c, RequestedID: c.ID, Consents: customer.CurrentConsents(consents)}
	return &IdentifyResult{Profile: prof, Created: true, Ignored: plan.Ignored}, nil
}

// updateMatched merges what the plan says into the matched customer, then
// attaches new identifiers and applies traits and consents.
func updateMatched(ctx context.Context, tx *Tx, t tenant.Tenant, p IdentifyParams, plan customer.Plan, loaded map[string]*customer.Customer) (*IdentifyResult, error) {
	res := &IdentifyResult{Ignored: plan.Ignored}
	target := loaded[plan.TargetID]
	groupID := id.New()
	for _, mid := range plan.MergeIDs {
		if err := mergeInto(ctx, tx, t, target, loaded[mid], plan.Linkers[mid], groupID, p.Actor); err != nil {
			return nil, err
		}
		res.Merged = append(res.Merged, mid)
	}
	changes, err := attachIdentifiers(ctx, tx, target, plan.Attach, p.Source)
	if err != nil {
		return nil, err
	}
	traitChanges, err := applyTraits(ctx, tx, t, target, p.Traits, p.Source, false)
	if err != nil {
		return nil, err
	}
	if changes = append(changes, traitChanges...); len(changes) > 0 {
		if err := writeAudit(ctx, tx, t.ID, target.ID, "identified", changes, p.Actor); err != nil {
			return nil, err
		}
	}
	if _, err := recordConsents(ctx, tx, t.ID, target.ID, p.Consents, p.Actor); err != nil {
		return nil, err
	}
	history, err := consentHistory(ctx, tx, t.ID, target.ID)
	if err != nil {
		return nil, err
	}
	res.Profile = &Profile{Customer: *target, RequestedID: target.ID, Consents: customer.CurrentConsents(history)}
	return res, nil
}

// attachIdentifiers gives identifiers to a customer in one statement.
func attachIdentifiers(ctx context.Context, tx *Tx, c *customer.Customer, ids []customer.Identifier, source string) ([]customer.Change, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	now := tx.Now()
	var changes []customer.Change
	rows := make([][]any, 0, len(ids))
	for _, i := range ids {
		rows = append(rows, []any{c.TenantID, i.Type, i.Value, c.ID, source, now})
		c.Identifiers = append(c.Identifiers, i)
		changes = append(changes, customer.Change{Field: "identifiers." + i.Type, After: i.Value})
	}
	if err := insertRows(ctx, tx, "customer_identifiers", "tenant_id, type, value, customer_id, source, created_at", rows, ""); err != nil {
		return nil, fmt.Errorf("sqldb: attach identifier: %w", err)
	}
	return changes, nil
}

func applyTraits(ctx context.Context, tx *Tx, t tenant.Tenant, c *customer.Customer, in customer.Traits, source string, force bool) ([]customer.Change, error) {
	traits, sources, changes := customer.ApplyTraits(c.Traits, c.TraitSources, customer.TraitUpdate{
		Traits: in, Source: source, At: tx.Now(), Priority: t.Settings.Priority})
	if len(changes) == 0 && !force {
		return nil, nil
	}
	c.Traits, c.TraitSources = traits, sources
	return changes, saveTraits(ctx, tx, c)
}

// lockClaims serialises identify calls that share an identifier, on
// PostgreSQL, so that two requests cannot both create a customer for the same
// new email. Locks are taken in a fixed order to avoid deadlocks. SQLite has
// one writer and needs none.
func lockClaims(ctx context.Context, tx *Tx, tenantID string, claims []customer.Claim) error {
	if tx.Engine() != Postgres {
		return nil
	}
	keys := make([]string, 0, len(claims))
	for _, c := range claims {
		keys = append(keys, tenantID+"\x1f"+c.Type+"\x1f"+c.Value)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Queued: the lock is taken, in this order, before the statement
		// it travels with runs (pgTxQuerier).
		if err := tx.ExecLater(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k); err != nil {
			return fmt.Errorf("sqldb: lock identifier: %w", err)
		}
	}
	return nil
}

// tombstoneHash keys an erased identifier by HMAC with the tenant's pepper:
// it can tell that a value was erased but cannot be read back.
func tombstoneHash(pepper []byte, i customer.Identifier) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(i.Type + "\x00" + i.Value))
	return m.Sum(nil)
}

// admitErased drops identifiers of erased people unless the request brings a
// consent granted after the erasure, in which case the tombstone is lifted.
func admitErased(ctx context.Context, tx *Tx, t tenant.Tenant, claims []customer.Claim, ignored []customer.Ignored, consents []customer.ConsentInput) ([]customer.Claim, []customer.Ignored, error) {
	erased, hashes, err := tombstoned(ctx, tx, t, claims)
	if err != nil || len(erased) == 0 {
		return claims, ignored, err
	}
	kept := claims[:0:0]
	for i, c := range claims {
		erasedAt, ok := erased[c.Type+"\x1f"+string(hashes[i])]
		switch {
		case !ok:
			kept = append(kept, c)
		case !customer.HasFreshGrant(consents, erasedAt, tx.Now()):
			ignored = append(ignored, customer.Ignored{Field: c.Field, Value: c.Value, Reason: "erased",
				Detail: "belonged to a person whose data was erased; send it with a fresh consent to re-create"})
		default:
			if err := tx.ExecLater(ctx, `DELETE FROM identifier_tombstones WHERE tenant_id = $1 AND type = $2 AND value_hash = $3`,
				t.ID, c.Type, hashes[i]); err != nil {
				return nil, nil, err
			}
			kept = append(kept, c)
		}
	}
	return kept, ignored, nil
}

// tombstoned finds which claims belong to erased people, in one query. It
// returns erased_at by type and hash, and each claim's hash.
func tombstoned(ctx context.Context, q Querier, t tenant.Tenant, claims []customer.Claim) (map[string]time.Time, [][]byte, error) {
	hashes := make([][]byte, len(claims))
	pairs := make([][2]any, len(claims))
	for i, c := range claims {
		hashes[i] = tombstoneHash(t.Pepper, c.Identifier)
		pairs[i] = [2]any{c.Type, hashes[i]}
	}
	erased := map[string]time.Time{}
	if len(claims) == 0 {
		return erased, hashes, nil
	}
	query, args := pointLookups(`SELECT type, value_hash, erased_at FROM identifier_tombstones WHERE tenant_id = $1 AND type = %s AND value_hash = %s`,
		t.ID, pairs)
	err := queryEach(ctx, q, query, args, func(r Rows) error {
		var typ string
		var h []byte
		var at time.Time
		err := r.Scan(&typ, &h, &at)
		erased[typ+"\x1f"+string(h)] = at
		return err
	})
	return erased, hashes, err
}

// lockFor is the row-lock clause of the engine: PostgreSQL locks the rows a
// write will change; SQLite's single writer needs none.
func lockFor(tx *Tx) string {
	if tx.Engine() == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// claimMatch is what matchClaims learned.
type claimMatch struct {
	matches   []customer.Match
	owners    map[string]customer.Owner
	customers map[string]*customer.Customer // the owners, loaded (and locked on PostgreSQL)
	ignored   []customer.Ignored
}

// matchClaims finds each claim's owner in one query, drops flagged (shared)
// identifiers from matching, and loads each owner.
func matchClaims(ctx context.Context, tx Querier, lock string, t tenant.Tenant, claims []customer.Claim, ignored []customer.Ignored) (claimMatch, error) {
	m := claimMatch{owners: map[string]customer.Owner{}, customers: map[string]*customer.Customer{}, ignored: ignored}
	type owner struct {
		id      string
		flagged bool
	}
	found := map[customer.Identifier]owner{}
	if len(claims) > 0 {
		pairs := make([][2]any, len(claims))
		for i, c := range claims {
			pairs[i] = [2]any{c.Type, c.Value}
		}
		query, args := pointLookups(`SELECT type, value, customer_id, flagged_at FROM customer_identifiers WHERE tenant_id = $1 AND type = %s AND value = %s`,
			t.ID, pairs)
		err := queryEach(ctx, tx, query, args, func(r Rows) error {
			var i customer.Identifier
			var o owner
			var flaggedAt *time.Time
			err := r.Scan(&i.Type, &i.Value, &o.id, &flaggedAt)
			o.flagged = flaggedAt != nil
			found[i] = o
			return err
		})
		if err != nil {
			return m, fmt.Errorf("sqldb: match identifiers: %w", err)
		}
	}
	for _, c := range claims {
		o := found[c.Identifier]
		if o.flagged {
			m.ignored = append(m.ignored, customer.Ignored{Field: c.Field, Value: c.Value, Reason: "flagged_shared",
				Detail: "this identifier has tied too many different customers together and no longer matches"})
			continue
		}
		m.matches = append(m.matches, customer.Match{Claim: c, OwnerID: o.id})
		if o.id != "" && m.customers[o.id] == nil {
			cu, err := loadCustomerLocked(ctx, tx, t.ID, o.id, lock)
			if err != nil {
				return m, err
			}
			m.customers[o.id] = cu
			m.owners[o.id] = ownerOf(cu)
		}
	}
	return m, nil
}

// pointLookups repeats a primary-key lookup for each (type, value) pair,
// joined by UNION ALL. One query with OR'ed conditions looks the same but
// makes SQLite's planner scan a secondary index once there are three pairs.
func pointLookups(format, tenantID string, pairs [][2]any) (string, []any) {
	parts := make([]string, len(pairs))
	args := []any{tenantID}
	for i, p := range pairs {
		parts[i] = fmt.Sprintf(format, "$"+strconv.Itoa(len(args)+1), "$"+strconv.Itoa(len(args)+2))
		args = append(args, p[0], p[1])
	}
	return strings.Join(parts, " UNION ALL "), args
}

func ownerOf(c *customer.Customer) customer.Owner {
	o := customer.Owner{ID: c.ID, CreatedAt: c.CreatedAt, Counts: map[string]int{}}
	for _, i := range c.Identifiers {
		o.Counts[i.LimitClass()]++
	}
	return o
}

func noUsableIdentifier(ignored []customer.Ignored) error {
	e := &apperr.Error{Kind: apperr.Invalid, Message: "no usable identifier: every identifier was ignored"}
	for _, ig := range ignored {
		if ig.Reason == "erased" {
			e.Kind = apperr.Conflict
			e.Message = "these identifiers belong to a person whose data was erased; re-creating them needs a fresh consent (status granted) in the same request"
		}
		e.Fields = append(e.Fields, apperr.FieldError{Location: ig.Field, Message: ig.Reason + ": " + ig.Detail, Value: ig.Value})
	}
	return e
}
