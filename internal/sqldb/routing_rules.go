package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/routing"
)

// Statuses of a routing rule version.
const (
	RoutingActive  = "active"  // the version checkout routes by
	RoutingDraft   = "draft"   // never active yet
	RoutingRetired = "retired" // active once, replaced since
)

// RoutingRuleVersion is one stored version of a tenant's sourcing rules.
type RoutingRuleVersion struct {
	TenantID    string
	Version     int // from 1; 0 is the built-in default of a tenant with none
	Status      string
	Rules       routing.RuleSet
	Note        string
	Actor       string
	CreatedAt   time.Time
	ActivatedAt *time.Time // the last time it became active
	ActivatedBy string     // who made it active that time
}

// RoutingRulesParams make a new version.
type RoutingRulesParams struct {
	TenantID string
	Rules    routing.RuleSet
	Note     string
	// Activate makes the new version the active one at once; otherwise it
	// is a draft.
	Activate bool
}

// RoutingRuleFilter pages through versions, newest first.
type RoutingRuleFilter struct {
	TenantID string
	Limit    int
	Before   int // cursor: the last version of the previous page; 0 for the first page
}

// CreateRoutingRules stores a new version of the tenant's rules, as a draft
// or (Activate) as the active version. Invalid rules are Invalid.
func (db *DB) CreateRoutingRules(ctx context.Context, p RoutingRulesParams, a Actor) (RoutingRuleVersion, error) {
	if err := p.Rules.Validate("body"); err != nil {
		return RoutingRuleVersion{}, err
	}
	raw, err := json.Marshal(p.Rules)
	if err != nil {
		return RoutingRuleVersion{}, err
	}
	v := RoutingRuleVersion{TenantID: p.TenantID, Status: RoutingDraft, Rules: p.Rules, Note: p.Note, Actor: a.Actor}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		v.CreatedAt = tx.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO routing_rule_heads (tenant_id, last_version, updated_at) VALUES ($1, 1, $2)
			ON CONFLICT (tenant_id) DO UPDATE SET last_version = routing_rule_heads.last_version + 1, updated_at = $2
			RETURNING last_version`, p.TenantID, v.CreatedAt).Scan(&v.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO routing_rule_versions (tenant_id, version, definition, note, actor, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.TenantID, v.Version, string(raw), p.Note, a.Actor, v.CreatedAt); err != nil {
			return err
		}
		if p.Activate {
			return activateRoutingVersion(ctx, tx, &v, a)
		}
		return nil
	})
	if err == nil && p.Activate {
		db.forgetRoutingRules(p.TenantID)
	}
	return v, err
}

// ActivateRoutingRules makes a stored version (a draft, or a retired one to
// roll back) the active one; the one it replaces is retired and kept.
// Activating the active version changes nothing. An unknown version is NotFound.
func (db *DB) ActivateRoutingRules(ctx context.Context, tenantID string, version int, a Actor) (RoutingRuleVersion, error) {
	var v RoutingRuleVersion
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if v, err = findRoutingVersion(ctx, tx, tenantID, version); err != nil || v.Status == RoutingActive {
			return err
		}
		return activateRoutingVersion(ctx, tx, &v, a)
	})
	if err == nil {
		db.forgetRoutingRules(tenantID)
	}
	return v, err
}

// activateRoutingVersion points the head at v; the head row exists once any version does.
func activateRoutingVersion(ctx context.Context, tx *Tx, v *RoutingRuleVersion, a Actor) error {
	now := tx.Now()
	if _, err := tx.Exec(ctx, `UPDATE routing_rule_heads SET active_version = $2, updated_at = $3 WHERE tenant_id = $1`,
		v.TenantID, v.Version, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE routing_rule_versions SET activated_at = $3, activated_by = $4 WHERE tenant_id = $1 AND version = $2`,
		v.TenantID, v.Version, now, a.Actor)
	v.Status, v.ActivatedAt, v.ActivatedBy = RoutingActive, &now, a.Actor
	return err
}

const routingVersionColumns = `v.version, v.definition, v.note, v.actor, v.created_at, v.activated_at, v.activated_by, h.active_version`

const routingVersionFrom = ` FROM routing_rule_versions v JOIN routing_rule_heads h ON h.tenant_id = v.tenant_id`

func scanRoutingVersion(r Row, tenantID string) (RoutingRuleVersion, error) {
	v := RoutingRuleVersion{TenantID: tenantID}
	var raw string
	var active *int
	if err := r.Scan(&v.Version, &raw, &v.Note, &v.Actor, &v.CreatedAt, &v.ActivatedAt, &v.ActivatedBy, &active); err != nil {
		return v, err
	}
	// Not ParseRuleSet: a stored version stays readable if validation grows stricter.
	if err := json.Unmarshal([]byte(raw), &v.Rules); err != nil {
		return v, fmt.Errorf("sqldb: routing rules version %d: %w", v.Version, err)
	}
	v.CreatedAt = v.CreatedAt.UTC()
	switch {
	case active != nil && *active == v.Version:
		v.Status = RoutingActive
	case v.ActivatedAt != nil:
		v.Status = RoutingRetired
	default:
		v.Status = RoutingDraft
	}
	if v.ActivatedAt != nil {
		t := v.ActivatedAt.UTC()
		v.ActivatedAt = &t
	}
	return v, nil
}

// FindRoutingRuleVersion returns one version, or NotFound.
func (db *DB) FindRoutingRuleVersion(ctx context.Context, tenantID string, version int) (RoutingRuleVersion, error) {
	return findRoutingVersion(ctx, db.Read(), tenantID, version)
}

func findRoutingVersion(ctx context.Context, q Querier, tenantID string, version int) (RoutingRuleVersion, error) {
	v, err := scanRoutingVersion(q.QueryRow(ctx, `SELECT `+routingVersionColumns+routingVersionFrom+`
		WHERE v.tenant_id = $1 AND v.version = $2`, tenantID, version), tenantID)
	if errors.Is(err, ErrNoRows) {
		return v, apperr.New(apperr.NotFound, "no routing rules version %d", version)
	}
	return v, err
}

// FindRoutingRuleVersions lists versions, newest first.
func (db *DB) FindRoutingRuleVersions(ctx context.Context, f RoutingRuleFilter) ([]RoutingRuleVersion, error) {
	before := f.Before
	if before <= 0 {
		before = 1 << 30
	}
	var out []RoutingRuleVersion
	err := queryEach(ctx, db.Read(), `SELECT `+routingVersionColumns+routingVersionFrom+`
		WHERE v.tenant_id = $1 AND v.version < $2 ORDER BY v.version DESC LIMIT $3`, []any{f.TenantID, before, f.Limit},
		func(r Rows) error {
			v, err := scanRoutingVersion(r, f.TenantID)
			out = append(out, v)
			return err
		})
	return out, err
}

// ActiveRoutingRuleVersion returns the active version, or the built-in
// default as version 0 when the tenant has activated none. Unlike
// ActiveRoutingRules it reads the database every time.
func (db *DB) ActiveRoutingRuleVersion(ctx context.Context, tenantID string) (RoutingRuleVersion, error) {
	version, err := activeRoutingVersion(ctx, db.Read(), tenantID)
	switch {
	case err != nil:
		return RoutingRuleVersion{}, err
	case version > 0:
		return findRoutingVersion(ctx, db.Read(), tenantID, version)
	}
	return RoutingRuleVersion{TenantID: tenantID, Status: RoutingActive, Rules: routing.DefaultRuleSet(), Actor: "system",
		Note: "built-in default"}, nil
}
