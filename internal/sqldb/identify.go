package sqldb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sort"
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
	if p.Identifiers.Empty() {
		return nil, apperr.Field("body.identifiers", "at least one identifier is required", nil)
	}
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	claims, ignored, err := customer.NormalizeIdentifiers(p.Identifiers, t.Settings.DefaultCountry)
	if err != nil {
		return nil, err
	}
	if err := customer.ValidateConsents(p.Consents, db.Now(), "body.consents"); err != nil {
		return nil, err
	}
	var res *IdentifyResult
	err = db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		res, err = identifyTx(ctx, tx, t, p, claims, append([]customer.Ignored(nil), ignored...))
		return err
	})
	return res, err
}

func identifyTx(ctx context.Context, tx *Tx, t tenant.Tenant, p IdentifyParams, claims []customer.Claim, ignored []customer.Ignored) (*IdentifyResult, error) {
	if err := lockClaims(ctx, tx, t.ID, claims); err != nil {
		return nil, err
	}
	claims, ignored, err := admitErased(ctx, tx, t, claims, ignored, p.Consents)
	if err != nil {
		return nil, err
	}
	matches, owners, ignored, err := matchClaims(ctx, tx, t, claims, ignored)
	if err != nil {
		return nil, err
	}
	plan := customer.PlanIdentify(matches, owners, t.Settings.Limit)
	plan.Ignored = append(ignored, plan.Ignored...)
	if plan.TargetID == "" && len(plan.Attach) == 0 {
		return nil, noUsableIdentifier(plan.Ignored)
	}
	return applyPlan(ctx, tx, t, p, plan)
}

func applyPlan(ctx context.Context, tx *Tx, t tenant.Tenant, p IdentifyParams, plan customer.Plan) (*IdentifyResult, error) {
	res := &IdentifyResult{Ignored: plan.Ignored}
	target, err := targetCustomer(ctx, tx, t.ID, plan.TargetID)
	if err != nil {
		return nil, err
	}
	res.Created = plan.TargetID == ""
	groupID := id.New()
	for _, mid := range plan.MergeIDs {
		if err := mergeInto(ctx, tx, t, target, mid, plan.Linkers[mid], groupID, p.Actor); err != nil {
			return nil, err
		}
		res.Merged = append(res.Merged, mid)
	}
	changes, err := attachIdentifiers(ctx, tx, target, plan.Attach, p.Source)
	if err != nil {
		return nil, err
	}
	traitChanges, err := applyTraits(ctx, tx, t, target, p.Traits, p.Source, res.Created)
	if err != nil {
		return nil, err
	}
	changes = append(changes, traitChanges...)
	action := "identified"
	if res.Created {
		action = "created"
	}
	if len(changes) > 0 || res.Created {
		if err := writeAudit(ctx, tx, t.ID, target.ID, action, changes, p.Actor); err != nil {
			return nil, err
		}
	}
	if _, err := recordConsents(ctx, tx, t.ID, target.ID, p.Consents, p.Actor); err != nil {
		return nil, err
	}
	res.Profile, err = findProfile(ctx, tx, t.ID, target.ID)
	return res, err
}

func targetCustomer(ctx context.Context, tx *Tx, tenantID, targetID string) (*customer.Customer, error) {
	if targetID != "" {
		return loadCustomer(ctx, tx, tenantID, targetID)
	}
	now := tx.Now()
	c := &customer.Customer{TenantID: tenantID, ID: id.New(), CreatedAt: now, UpdatedAt: now, TraitSources: map[string]customer.TraitSource{}}
	c.SurvivorID = c.ID
	return c, insertCustomer(ctx, tx, c)
}

func attachIdentifiers(ctx context.Context, tx *Tx, c *customer.Customer, ids []customer.Identifier, source string) ([]customer.Change, error) {
	var changes []customer.Change
	now := tx.Now()
	for _, i := range ids {
		_, err := tx.Exec(ctx, `INSERT INTO customer_identifiers (tenant_id, type, value, customer_id, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.TenantID, i.Type, i.Value, c.ID, source, now)
		if err != nil {
			return nil, fmt.Errorf("sqldb: attach identifier: %w", err)
		}
		c.Identifiers = append(c.Identifiers, i)
		changes = append(changes, customer.Change{Field: "identifiers." + i.Type, After: i.Value})
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
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k); err != nil {
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
	kept := claims[:0:0]
	for _, c := range claims {
		h := tombstoneHash(t.Pepper, c.Identifier)
		var erasedAt time.Time
		err := tx.QueryRow(ctx, `SELECT erased_at FROM identifier_tombstones WHERE tenant_id = $1 AND type = $2 AND value_hash = $3`,
			t.ID, c.Type, h).Scan(&erasedAt)
		if err == ErrNoRows {
			kept = append(kept, c)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("sqldb: tombstones: %w", err)
		}
		if !customer.HasFreshGrant(consents, erasedAt, tx.Now()) {
			ignored = append(ignored, customer.Ignored{Field: c.Field, Value: c.Value, Reason: "erased",
				Detail: "belonged to a person whose data was erased; send it with a fresh consent to re-create"})
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM identifier_tombstones WHERE tenant_id = $1 AND type = $2 AND value_hash = $3`,
			t.ID, c.Type, h); err != nil {
			return nil, nil, err
		}
		kept = append(kept, c)
	}
	return kept, ignored, nil
}

// matchClaims finds each claim's owner, drops flagged (shared) identifiers
// from matching, and loads what the plan needs to know about each owner.
func matchClaims(ctx context.Context, tx *Tx, t tenant.Tenant, claims []customer.Claim, ignored []customer.Ignored) ([]customer.Match, map[string]customer.Owner, []customer.Ignored, error) {
	var matches []customer.Match
	owners := map[string]customer.Owner{}
	for _, c := range claims {
		var ownerID string
		var flaggedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT customer_id, flagged_at FROM customer_identifiers WHERE tenant_id = $1 AND type = $2 AND value = $3`,
			t.ID, c.Type, c.Value).Scan(&ownerID, &flaggedAt)
		if err != nil && err != ErrNoRows {
			return nil, nil, nil, fmt.Errorf("sqldb: match identifier: %w", err)
		}
		if flaggedAt != nil {
			ignored = append(ignored, customer.Ignored{Field: c.Field, Value: c.Value, Reason: "flagged_shared",
				Detail: "this identifier has tied too many different customers together and no longer matches"})
			continue
		}
		matches = append(matches, customer.Match{Claim: c, OwnerID: ownerID})
		if ownerID != "" {
			if _, ok := owners[ownerID]; !ok {
				o, err := loadOwner(ctx, tx, t.ID, ownerID)
				if err != nil {
					return nil, nil, nil, err
				}
				owners[ownerID] = o
			}
		}
	}
	return matches, owners, ignored, nil
}

func loadOwner(ctx context.Context, tx *Tx, tenantID, customerID string) (customer.Owner, error) {
	o := customer.Owner{ID: customerID, Counts: map[string]int{}}
	lock := ""
	if tx.Engine() == Postgres {
		lock = " FOR UPDATE"
	}
	if err := tx.QueryRow(ctx, `SELECT created_at FROM customers WHERE tenant_id = $1 AND id = $2`+lock, tenantID, customerID).
		Scan(&o.CreatedAt); err != nil {
		return o, fmt.Errorf("sqldb: load owner: %w", err)
	}
	ids, err := loadIdentifiers(ctx, tx, tenantID, customerID)
	if err != nil {
		return o, err
	}
	for _, i := range ids {
		o.Counts[i.LimitClass()]++
	}
	return o, nil
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
