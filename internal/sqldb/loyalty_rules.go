package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// ruleDefinition is the stored form of one version of a rule.
type ruleDefinition struct {
	Name         string            `json:"name"`
	Status       string            `json:"status"`
	Trigger      string            `json:"trigger"`
	StartsAt     *time.Time        `json:"starts_at,omitempty"`
	EndsAt       *time.Time        `json:"ends_at,omitempty"`
	Condition    loyalty.Condition `json:"condition"`
	Effect       loyalty.Effect    `json:"effect"`
	Limits       loyalty.Limits    `json:"limits"`
	StatusPoints bool              `json:"status_points"`
}

func definitionOf(r loyalty.Rule) ruleDefinition {
	return ruleDefinition{Name: r.Name, Status: r.Status, Trigger: r.Trigger, StartsAt: r.StartsAt, EndsAt: r.EndsAt,
		Condition: r.Condition, Effect: r.Effect, Limits: r.Limits, StatusPoints: r.StatusPoints}
}

// DecodeRule reads a rule from its JSON form (the form stored, and the body
// of POST /v1/loyalty/rules, as in docs/examples) into r.
func DecodeRule(raw []byte, r *loyalty.Rule) error {
	var d ruleDefinition
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	d.apply(r)
	return nil
}

func (d ruleDefinition) apply(r *loyalty.Rule) {
	r.Name, r.Status, r.Trigger, r.StartsAt, r.EndsAt = d.Name, d.Status, d.Trigger, d.StartsAt, d.EndsAt
	r.Condition, r.Effect, r.Limits, r.StatusPoints = d.Condition, d.Effect, d.Limits, d.StatusPoints
}

func findRules(ctx context.Context, q Querier, tenantID, where string) ([]loyalty.Rule, error) {
	var out []loyalty.Rule
	err := queryEach(ctx, q, `SELECT id, version, definition, created_at, updated_at FROM loyalty_rules
		WHERE tenant_id = $1 AND `+where+` ORDER BY created_at, id`, []any{tenantID}, func(r Rows) error {
		rule, err := scanRule(r, tenantID)
		out = append(out, rule)
		return err
	})
	return out, err
}

func scanRule(r Row, tenantID string) (loyalty.Rule, error) {
	rule := loyalty.Rule{TenantID: tenantID}
	var raw string
	if err := r.Scan(&rule.ID, &rule.Version, &raw, &rule.CreatedAt, &rule.UpdatedAt); err != nil {
		return rule, err
	}
	var d ruleDefinition
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return rule, fmt.Errorf("sqldb: rule %s: %w", rule.ID, err)
	}
	d.apply(&rule)
	rule.CreatedAt, rule.UpdatedAt = rule.CreatedAt.UTC(), rule.UpdatedAt.UTC()
	return rule, nil
}

// FindLoyaltyRules lists the program's rules (status "" for all) in creation order.
func (db *DB) FindLoyaltyRules(ctx context.Context, tenantID, status string) ([]loyalty.Rule, error) {
	where := "1 = 1"
	switch status {
	case "":
	case loyalty.RuleActive, loyalty.RulePaused, loyalty.RuleDraft:
		where = "status = '" + status + "'"
	default:
		return nil, apperr.Field("query.status", "active, paused or draft", status)
	}
	return findRules(ctx, db.Read(), tenantID, where)
}

// FindLoyaltyRuleByID returns the current version of a rule.
func (db *DB) FindLoyaltyRuleByID(ctx context.Context, tenantID, ruleID string) (loyalty.Rule, error) {
	return findRule(ctx, db.Read(), tenantID, ruleID)
}

func findRule(ctx context.Context, q Querier, tenantID, ruleID string) (loyalty.Rule, error) {
	r, err := scanRule(q.QueryRow(ctx, `SELECT id, version, definition, created_at, updated_at FROM loyalty_rules
		WHERE tenant_id = $1 AND id = $2`, tenantID, ruleID), tenantID)
	if errors.Is(err, ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "no loyalty rule with id %s", id.Format(id.Rule, ruleID))
	}
	return r, err
}

// RuleVersion is one stored version of a rule.
type RuleVersion struct {
	Rule      loyalty.Rule
	Actor     string
	CreatedAt time.Time
}

// FindLoyaltyRuleVersions lists every version of a rule, newest first.
func (db *DB) FindLoyaltyRuleVersions(ctx context.Context, tenantID, ruleID string) ([]RuleVersion, error) {
	if _, err := db.FindLoyaltyRuleByID(ctx, tenantID, ruleID); err != nil {
		return nil, err
	}
	var out []RuleVersion
	err := queryEach(ctx, db.Read(), `SELECT version, definition, actor, created_at FROM loyalty_rule_versions
		WHERE tenant_id = $1 AND rule_id = $2 ORDER BY version DESC`, []any{tenantID, ruleID}, func(r Rows) error {
		v := RuleVersion{Rule: loyalty.Rule{TenantID: tenantID, ID: ruleID}}
		var raw string
		if err := r.Scan(&v.Rule.Version, &raw, &v.Actor, &v.CreatedAt); err != nil {
			return err
		}
		var d ruleDefinition
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return err
		}
		d.apply(&v.Rule)
		v.CreatedAt = v.CreatedAt.UTC()
		out = append(out, v)
		return nil
	})
	return out, err
}

// CreateLoyaltyRule stores a new rule (version 1). A budget is funded at
// once: the rule's budget account is credited from the program's funding
// account, and awards are paid from it.
func (db *DB) CreateLoyaltyRule(ctx context.Context, r loyalty.Rule, a Actor) (loyalty.Rule, error) {
	if err := r.Validate("body"); err != nil {
		return r, err
	}
	err := db.WriteTx(ctx, func(tx *Tx) error {
		now := tx.Now()
		r.ID, r.Version, r.CreatedAt, r.UpdatedAt = id.New(), 1, now, now
		if err := bumpProgram(ctx, tx, r.TenantID); err != nil {
			return err
		}
		if err := saveRule(ctx, tx, r, a, true); err != nil {
			return err
		}
		return fundBudget(ctx, tx, r, 0, a)
	})
	return r, err
}

// UpdateLoyaltyRule makes a new version of a rule with edit applied (edit
// may change anything but the id and trigger). Lowering a budget below what
// was already given is Invalid.
func (db *DB) UpdateLoyaltyRule(ctx context.Context, tenantID, ruleID string, edit func(*loyalty.Rule), a Actor) (loyalty.Rule, error) {
	var r loyalty.Rule
	err := db.WriteTx(ctx, func(tx *Tx) error {
		old, err := findRule(ctx, tx, tenantID, ruleID)
		if err != nil {
			return err
		}
		r = old
		edit(&r)
		r.ID, r.TenantID, r.Trigger, r.CreatedAt = old.ID, old.TenantID, old.Trigger, old.CreatedAt
		if err := r.Validate("body"); err != nil {
			return err
		}
		r.Version, r.UpdatedAt = old.Version+1, tx.Now()
		if err := bumpProgram(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := saveRule(ctx, tx, r, a, false); err != nil {
			return err
		}
		return fundBudget(ctx, tx, r, old.Limits.Budget, a)
	})
	return r, err
}

func saveRule(ctx context.Context, tx *Tx, r loyalty.Rule, a Actor, create bool) error {
	raw, err := json.Marshal(definitionOf(r))
	if err != nil {
		return err
	}
	q := `UPDATE loyalty_rules SET version = $3, status = $4, definition = $5, updated_at = $7 WHERE tenant_id = $1 AND id = $2`
	if create {
		q = `INSERT INTO loyalty_rules (tenant_id, id, version, status, definition, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`
	}
	if _, err := tx.Exec(ctx, q, r.TenantID, r.ID, r.Version, r.Status, string(raw), r.CreatedAt, r.UpdatedAt); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO loyalty_rule_versions (tenant_id, rule_id, version, definition, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.TenantID, r.ID, r.Version, string(raw), a.Actor, r.UpdatedAt)
	return err
}

// fundBudget moves the change of a rule's budget between the program's
// funding account and the rule's budget account.
func fundBudget(ctx context.Context, tx *Tx, r loyalty.Rule, oldBudget int64, a Actor) error {
	diff := r.Limits.Budget - oldBudget
	if diff == 0 {
		return nil
	}
	budget := loyalty.Account{Kind: loyalty.AccountBudget, Owner: r.ID}
	if diff < 0 {
		left, err := accountBalance(ctx, tx, r.TenantID, budget, true)
		if err != nil {
			return err
		}
		if left < -diff {
			return apperr.Field("body.limits.budget", fmt.Sprintf("%d points of the budget are given already; it can go down to %d",
				oldBudget-left, oldBudget-left), r.Limits.Budget)
		}
	}
	_, err := postEntry(ctx, tx, loyalty.Entry{TenantID: r.TenantID, Kind: loyalty.EntryFund,
		NaturalKey: fmt.Sprintf("fund:%s:%d", r.ID, r.Version), Actor: a.Actor,
		Reason: fmt.Sprintf("budget of rule %q set to %d points", r.Name, r.Limits.Budget),
		Postings: []loyalty.Posting{
			{Account: loyalty.Account{Kind: loyalty.AccountFunding}, Points: -diff},
			{Account: budget, Points: diff},
		}, OccurredAt: tx.Now()})
	return err
}
