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

// ProgramBody is a tenant's loyalty program.
type ProgramBody struct {
	PointName         string                 `json:"point_name" example:"Stars" doc:"what members call a point"`
	EarnRates         []loyalty.EarnRate     `json:"earn_rates" doc:"base rate per currency: points for every amount (minor units) of eligible spend; 1 point per HK$10 is {currency: HKD, points: 1, amount: 1000}"`
	Rounding          string                 `json:"rounding,omitempty" enum:"down,nearest,up" default:"down" doc:"how a sale's fractional points round"`
	PointValues       []loyalty.PointValue   `json:"point_values,omitempty" doc:"what points are worth, for the liability: points are worth amount minor units"`
	Expiry            loyalty.ExpiryPolicy   `json:"expiry" doc:"kind none, rolling_months (months), end_of_year (years after the year of earning), fixed_date (date); inactivity_months expires all points of members without a purchase that long"`
	Exclusions        *loyalty.Exclusions    `json:"exclusions,omitempty" doc:"categories and SKUs that earn nothing; tenders whose share earns nothing; include_tax. Default: gift_card and delivery categories, points tenders"`
	DefaultReturnDays int                    `json:"default_return_days,omitempty" minimum:"0" maximum:"365" doc:"points of a sale stay pending this long unless a return window says otherwise"`
	ReturnWindows     []loyalty.ReturnWindow `json:"return_windows,omitempty" doc:"pending days by sales channel and/or location code; the most specific wins"`
	Tiering           loyalty.Tiering        `json:"tiering" doc:"basis spend or status_points; window rolling_12_months, calendar_year or membership_year; grace_days"`
	Version           int                    `json:"version" readOnly:"true" doc:"raised by every change to the program, its tiers or rules"`
	CreatedAt         time.Time              `json:"created_at" readOnly:"true"`
	UpdatedAt         time.Time              `json:"updated_at" readOnly:"true"`
}

func programBody(p loyalty.Program) ProgramBody {
	return ProgramBody{PointName: p.PointName, EarnRates: p.EarnRates, Rounding: p.Rounding, PointValues: p.PointValues,
		Expiry: p.Expiry, Exclusions: &p.Exclusions, DefaultReturnDays: p.DefaultReturnDays, ReturnWindows: p.ReturnWindows,
		Tiering: p.Tiering, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type programInput struct{ Body ProgramBody }

type programOutput struct{ Body ProgramBody }

// TierBody is a tier as shown and sent.
type TierBody struct {
	ID         string           `json:"id" readOnly:"true" example:"tir_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Code       string           `json:"code" example:"gold"`
	Name       string           `json:"name" example:"Gold"`
	Rank       int              `json:"rank" minimum:"0" maximum:"100" doc:"0 is the entry tier every member starts in"`
	Threshold  int64            `json:"threshold" minimum:"0" doc:"qualifying value (minor units of spend, or status points) to reach the tier and to keep it over a period; 0 for the entry tier"`
	Multiplier int64            `json:"multiplier" minimum:"0" maximum:"100000" doc:"earn multiplier in thousandths: 1000 is ×1, 1500 is ×1.5"`
	Benefits   loyalty.Benefits `json:"benefits,omitempty"`
	CreatedAt  time.Time        `json:"created_at" readOnly:"true"`
	UpdatedAt  time.Time        `json:"updated_at" readOnly:"true"`
}

func tierBody(t loyalty.Tier) TierBody {
	return TierBody{ID: id.Format(id.Tier, t.ID), Code: t.Code, Name: t.Name, Rank: t.Rank, Threshold: t.Threshold,
		Multiplier: t.Multiplier, Benefits: t.Benefits, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func tierBodyPtr(t *loyalty.Tier) *TierBody {
	if t == nil {
		return nil
	}
	b := tierBody(*t)
	return &b
}

type tierInput struct{ Body TierBody }

type tierUpdateInput struct {
	ID   string `path:"id" doc:"tier id, tir_…"`
	Body TierBody
}

type tierOutput struct{ Body TierBody }

type tiersOutput struct {
	Body struct {
		Data []TierBody `json:"data" doc:"by rank"`
	}
}

func (s *server) loyaltyProgramRoutes() {
	tags := []string{"Loyalty program"}
	huma.Register(s.api, huma.Operation{OperationID: "put-loyalty-program", Method: http.MethodPut, Path: "/v1/loyalty/program",
		Summary: "Create or replace the loyalty program", Tags: tags,
		Description: "Points already earned keep the expiry they were given; new settings apply from the next sale."}, s.putProgram)
	huma.Register(s.api, huma.Operation{OperationID: "get-loyalty-program", Method: http.MethodGet, Path: "/v1/loyalty/program",
		Summary: "Get the loyalty program", Tags: tags}, s.getProgram)
	huma.Register(s.api, huma.Operation{OperationID: "list-loyalty-tiers", Method: http.MethodGet, Path: "/v1/loyalty/tiers",
		Summary: "List tiers", Tags: tags}, s.listTiers)
	huma.Register(s.api, huma.Operation{OperationID: "create-loyalty-tier", Method: http.MethodPost, Path: "/v1/loyalty/tiers",
		Summary: "Create a tier", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "The ladder must stay valid: one entry tier of rank 0 and thresholds rising with rank."}, s.createTier)
	huma.Register(s.api, huma.Operation{OperationID: "update-loyalty-tier", Method: http.MethodPut, Path: "/v1/loyalty/tiers/{id}",
		Summary: "Replace a tier", Tags: tags}, s.updateTier)
}

func (s *server) putProgram(ctx context.Context, in *programInput) (*programOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	exclusions := loyalty.DefaultProgram(p.TenantID, "HKD").Exclusions
	if b.Exclusions != nil {
		exclusions = *b.Exclusions
	}
	if b.Rounding == "" {
		b.Rounding = loyalty.RoundDown
	}
	prog, err := s.db.SaveLoyaltyProgram(ctx, loyalty.Program{TenantID: p.TenantID, PointName: b.PointName, EarnRates: b.EarnRates,
		Rounding: b.Rounding, PointValues: b.PointValues, Expiry: b.Expiry, Exclusions: exclusions,
		DefaultReturnDays: b.DefaultReturnDays, ReturnWindows: b.ReturnWindows, Tiering: b.Tiering})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &programOutput{Body: programBody(prog)}, nil
}

func (s *server) getProgram(ctx context.Context, _ *struct{}) (*programOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	prog, err := s.db.FindLoyaltyProgram(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &programOutput{Body: programBody(prog)}, nil
}

func (s *server) listTiers(ctx context.Context, _ *struct{}) (*tiersOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	tiers, err := s.db.FindLoyaltyTiers(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &tiersOutput{}
	out.Body.Data = make([]TierBody, 0, len(tiers))
	for _, t := range tiers {
		out.Body.Data = append(out.Body.Data, tierBody(t))
	}
	return out, nil
}

func (s *server) createTier(ctx context.Context, in *tierInput) (*tierOutput, error) {
	return s.saveTier(ctx, "", in.Body)
}

func (s *server) updateTier(ctx context.Context, in *tierUpdateInput) (*tierOutput, error) {
	tid, err := id.Parse(id.Tier, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.saveTier(ctx, tid, in.Body)
}

func (s *server) saveTier(ctx context.Context, tierID string, b TierBody) (*tierOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t, err := s.db.SaveLoyaltyTier(ctx, loyalty.Tier{TenantID: p.TenantID, ID: tierID, Code: b.Code, Name: b.Name, Rank: b.Rank,
		Threshold: b.Threshold, Multiplier: b.Multiplier, Benefits: b.Benefits})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &tierOutput{Body: tierBody(t)}, nil
}
