package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// RuleBody is an earning rule as shown.
type RuleBody struct {
	ID           string            `json:"id" example:"rul_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Version      int               `json:"version" doc:"every edit makes a new version; ledger entries name the version that awarded them"`
	Name         string            `json:"name"`
	Status       string            `json:"status" enum:"active,paused,draft"`
	Trigger      string            `json:"trigger" enum:"purchase,event"`
	StartsAt     *time.Time        `json:"starts_at"`
	EndsAt       *time.Time        `json:"ends_at"`
	Condition    loyalty.Condition `json:"condition"`
	Effect       loyalty.Effect    `json:"effect"`
	Limits       loyalty.Limits    `json:"limits"`
	StatusPoints bool              `json:"status_points" doc:"the points count towards tier status"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

func ruleBody(r loyalty.Rule) RuleBody {
	return RuleBody{ID: id.Format(id.Rule, r.ID), Version: r.Version, Name: r.Name, Status: r.Status, Trigger: r.Trigger,
		StartsAt: r.StartsAt, EndsAt: r.EndsAt, Condition: r.Condition, Effect: r.Effect, Limits: r.Limits,
		StatusPoints: r.StatusPoints, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// RuleRequest creates a rule.
type RuleRequest struct {
	Name         string            `json:"name" minLength:"1" maxLength:"120"`
	Status       string            `json:"status,omitempty" enum:"active,paused,draft" default:"active"`
	Trigger      string            `json:"trigger" enum:"purchase,event"`
	StartsAt     *time.Time        `json:"starts_at,omitempty"`
	EndsAt       *time.Time        `json:"ends_at,omitempty"`
	Condition    loyalty.Condition `json:"condition,omitempty" doc:"sales_channels, locations (codes), days_of_week (0 Sunday), hour_from/hour_to (local), skus, exclude_skus, categories, exclude_categories, min_spend with currency, tiers (codes), attribute, first_purchase, birthday_month; event and properties for event rules"`
	Effect       loyalty.Effect    `json:"effect" doc:"kind fixed_points (points), points_per_amount (points per amount), multiplier (thousandths, 2000 doubles the base points of the matching lines), points_per_item (points)"`
	Limits       loyalty.Limits    `json:"limits,omitempty" doc:"once_per_member, per_member_per_day, per_member_per_month, budget (points; a ledger account that never goes below zero)"`
	StatusPoints bool              `json:"status_points,omitempty"`
}

// RuleUpdate changes a rule; absent fields stay.
type RuleUpdate struct {
	Name         *string            `json:"name,omitempty" maxLength:"120"`
	Status       *string            `json:"status,omitempty" enum:"active,paused,draft"`
	StartsAt     *time.Time         `json:"starts_at,omitempty"`
	EndsAt       *time.Time         `json:"ends_at,omitempty"`
	Condition    *loyalty.Condition `json:"condition,omitempty" doc:"replaces the condition"`
	Effect       *loyalty.Effect    `json:"effect,omitempty"`
	Limits       *loyalty.Limits    `json:"limits,omitempty"`
	StatusPoints *bool              `json:"status_points,omitempty"`
}

type ruleInput struct{ Body RuleRequest }

type ruleUpdateInput struct {
	ID   string `path:"id" doc:"rule id, rul_…"`
	Body RuleUpdate
}

type ruleIDInput struct {
	ID string `path:"id" doc:"rule id, rul_…"`
}

type ruleOutput struct{ Body RuleBody }

type listRulesInput struct {
	Status string `query:"status" enum:"active,paused,draft" doc:"only rules in this status"`
}

type rulesOutput struct {
	Body struct {
		Data []RuleBody `json:"data" doc:"in creation order, the order rules apply in"`
	}
}

// RuleVersionBody is one version of a rule.
type RuleVersionBody struct {
	RuleBody
	Actor string `json:"actor" doc:"who made this version"`
}

type ruleVersionsOutput struct {
	Body struct {
		Data []RuleVersionBody `json:"data" doc:"newest first"`
	}
}

func (s *server) loyaltyRuleRoutes() {
	tags := []string{"Loyalty rules"}
	huma.Register(s.api, huma.Operation{OperationID: "create-loyalty-rule", Method: http.MethodPost, Path: "/v1/loyalty/rules",
		Summary: "Create an earning rule", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Rules add to the base rate: conditions on the sale, its lines and the member; an effect; limits per member and a budget."}, s.createRule)
	huma.Register(s.api, huma.Operation{OperationID: "list-loyalty-rules", Method: http.MethodGet, Path: "/v1/loyalty/rules",
		Summary: "List earning rules", Tags: tags}, s.listRules)
	huma.Register(s.api, huma.Operation{OperationID: "get-loyalty-rule", Method: http.MethodGet, Path: "/v1/loyalty/rules/{id}",
		Summary: "Get an earning rule", Tags: tags}, s.getRule)
	huma.Register(s.api, huma.Operation{OperationID: "update-loyalty-rule", Method: http.MethodPatch, Path: "/v1/loyalty/rules/{id}",
		Summary: "Edit, schedule, pause or resume a rule", Tags: tags,
		Description: "Makes a new version. Pause with status paused, resume with active; schedule with starts_at and ends_at."}, s.updateRule)
	huma.Register(s.api, huma.Operation{OperationID: "list-loyalty-rule-versions", Method: http.MethodGet, Path: "/v1/loyalty/rules/{id}/versions",
		Summary: "Every version of a rule", Tags: tags}, s.ruleVersions)
}

func (s *server) createRule(ctx context.Context, in *ruleInput) (*ruleOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	if b.Status == "" {
		b.Status = loyalty.RuleActive
	}
	r, err := s.db.CreateLoyaltyRule(ctx, loyalty.Rule{TenantID: p.TenantID, Name: b.Name, Status: b.Status, Trigger: b.Trigger,
		StartsAt: b.StartsAt, EndsAt: b.EndsAt, Condition: b.Condition, Effect: b.Effect, Limits: b.Limits,
		StatusPoints: b.StatusPoints}, actor(ctx, p))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &ruleOutput{Body: ruleBody(r)}, nil
}

func (s *server) listRules(ctx context.Context, in *listRulesInput) (*rulesOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rules, err := s.db.FindLoyaltyRules(ctx, p.TenantID, in.Status)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &rulesOutput{}
	out.Body.Data = make([]RuleBody, 0, len(rules))
	for _, r := range rules {
		out.Body.Data = append(out.Body.Data, ruleBody(r))
	}
	return out, nil
}

func (s *server) getRule(ctx context.Context, in *ruleIDInput) (*ruleOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Rule, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.FindLoyaltyRuleByID(ctx, p.TenantID, rid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &ruleOutput{Body: ruleBody(r)}, nil
}

func (s *server) updateRule(ctx context.Context, in *ruleUpdateInput) (*ruleOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Rule, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	r, err := s.db.UpdateLoyaltyRule(ctx, p.TenantID, rid, func(r *loyalty.Rule) {
		set(&r.Name, b.Name)
		set(&r.Status, b.Status)
		set(&r.StatusPoints, b.StatusPoints)
		set(&r.Condition, b.Condition)
		set(&r.Effect, b.Effect)
		set(&r.Limits, b.Limits)
		if b.StartsAt != nil {
			r.StartsAt = b.StartsAt
		}
		if b.EndsAt != nil {
			r.EndsAt = b.EndsAt
		}
	}, actor(ctx, p))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &ruleOutput{Body: ruleBody(r)}, nil
}

// set assigns *v to *dst when v is given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *server) ruleVersions(ctx context.Context, in *ruleIDInput) (*ruleVersionsOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Rule, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	vs, err := s.db.FindLoyaltyRuleVersions(ctx, p.TenantID, rid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &ruleVersionsOutput{}
	out.Body.Data = make([]RuleVersionBody, 0, len(vs))
	for _, v := range vs {
		b := ruleBody(v.Rule)
		b.UpdatedAt = v.CreatedAt
		out.Body.Data = append(out.Body.Data, RuleVersionBody{RuleBody: b, Actor: v.Actor})
	}
	return out, nil
}
