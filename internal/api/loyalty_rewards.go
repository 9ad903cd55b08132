package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/sqldb"
)

// RewardEligibilityBody restricts a reward; an empty list allows all.
type RewardEligibilityBody struct {
	Tiers         []string `json:"tiers,omitempty" maxItems:"50" doc:"tier codes that may redeem"`
	SalesChannels []string `json:"sales_channels,omitempty" maxItems:"50" doc:"sales channel codes where it may be redeemed and used"`
	Locations     []string `json:"locations,omitempty" maxItems:"1000" doc:"location codes where it may be redeemed and used"`
}

// RewardQuotaBody caps redemptions at one location per period.
type RewardQuotaBody struct {
	Location string `json:"location" doc:"location code"`
	Period   string `json:"period" enum:"day,week,month" doc:"in the location's time zone; weeks are ISO weeks"`
	Limit    int64  `json:"limit" minimum:"1"`
}

// RewardRequest creates a reward; PATCH takes the same fields, all optional.
type RewardRequest struct {
	Name            *string                `json:"name,omitempty" maxLength:"200"`
	Description     *string                `json:"description,omitempty" maxLength:"2000"`
	Kind            *string                `json:"kind,omitempty" enum:"fixed_discount,percent_discount,free_shipping,gift,product,gift_credit,experience,entitlement"`
	Status          *string                `json:"status,omitempty" enum:"active,paused,archived"`
	Cost            *int64                 `json:"cost,omitempty" doc:"points"`
	Value           *money.Amount          `json:"value,omitempty" doc:"fixed_discount and gift_credit: the amount"`
	PercentBP       *int64                 `json:"percent_bp,omitempty" doc:"percent_discount: basis points, 1000 = 10%"`
	SKU             *string                `json:"sku,omitempty" maxLength:"100" doc:"gift and product: the SKU given"`
	Eligibility     *RewardEligibilityBody `json:"eligibility,omitempty"`
	Stock           *int64                 `json:"stock,omitempty" minimum:"0" doc:"total that may be redeemed; leave out for unlimited"`
	Unlimited       *bool                  `json:"unlimited_stock,omitempty" doc:"PATCH: true removes the stock limit"`
	StartsAt        *time.Time             `json:"starts_at,omitempty"`
	EndsAt          *time.Time             `json:"ends_at,omitempty"`
	CouponValidDays *int                   `json:"coupon_valid_days,omitempty" doc:"how long an issued coupon is valid (default 30)"`
	CouponPrefix    *string                `json:"coupon_prefix,omitempty" maxLength:"8" doc:"printed before every code, e.g. HK50"`
	PerMemberLimit  *int64                 `json:"per_member_limit,omitempty" doc:"live redemptions per member; 0 for no limit"`
	Quotas          *[]RewardQuotaBody     `json:"quotas,omitempty" maxItems:"1000"`
}

// RewardBody is a reward of the catalog.
type RewardBody struct {
	ID              string                `json:"id"`
	Name            string                `json:"name"`
	Description     string                `json:"description,omitempty"`
	Kind            string                `json:"kind"`
	Status          string                `json:"status"`
	Cost            int64                 `json:"cost"`
	Value           *money.Amount         `json:"value,omitempty"`
	PercentBP       int64                 `json:"percent_bp,omitempty"`
	SKU             string                `json:"sku,omitempty"`
	Eligibility     RewardEligibilityBody `json:"eligibility"`
	Stock           *int64                `json:"stock" doc:"null: unlimited"`
	Redeemed        int64                 `json:"redeemed" doc:"live redemptions; a cancelled one is given back"`
	StartsAt        *time.Time            `json:"starts_at"`
	EndsAt          *time.Time            `json:"ends_at"`
	CouponValidDays int                   `json:"coupon_valid_days"`
	CouponPrefix    string                `json:"coupon_prefix,omitempty"`
	PerMemberLimit  int64                 `json:"per_member_limit"`
	Quotas          []RewardQuotaBody     `json:"quotas"`
	CreatedAt       time.Time             `json:"created_at"`
	UpdatedAt       time.Time             `json:"updated_at"`
}

func rewardBody(w sqldb.Reward) RewardBody {
	b := RewardBody{ID: id.Format(id.Reward, w.ID), Name: w.Name, Description: w.Description, Kind: w.Kind, Status: w.Status, Cost: w.Cost,
		PercentBP: w.PercentBP, SKU: w.SKU, Eligibility: RewardEligibilityBody(w.Eligibility), Stock: w.Stock, Redeemed: w.Redeemed,
		StartsAt: w.StartsAt, EndsAt: w.EndsAt, CouponValidDays: w.CouponDays, CouponPrefix: w.CouponPrefix, PerMemberLimit: w.PerMemberLimit,
		Quotas: make([]RewardQuotaBody, 0, len(w.Quotas)), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.Currency != "" {
		b.Value = &money.Amount{Amount: w.Amount, Currency: w.Currency}
	}
	for _, q := range w.Quotas {
		b.Quotas = append(b.Quotas, RewardQuotaBody(q))
	}
	return b
}

// apply copies the fields present in the request onto a reward.
func (in RewardRequest) apply(w *sqldb.Reward) {
	setField(&w.Name, in.Name)
	setField(&w.Description, in.Description)
	setField(&w.Kind, in.Kind)
	setField(&w.Status, in.Status)
	setField(&w.Cost, in.Cost)
	setField(&w.PercentBP, in.PercentBP)
	setField(&w.SKU, in.SKU)
	setField(&w.CouponDays, in.CouponValidDays)
	setField(&w.CouponPrefix, in.CouponPrefix)
	setField(&w.PerMemberLimit, in.PerMemberLimit)
	if in.Value != nil {
		w.Amount, w.Currency = in.Value.Amount, in.Value.Currency
	}
	if in.Eligibility != nil {
		w.Eligibility = sqldb.RewardEligibility(*in.Eligibility)
	}
	if in.Stock != nil {
		w.Stock = in.Stock
	}
	if in.Unlimited != nil && *in.Unlimited {
		w.Stock = nil
	}
	if in.StartsAt != nil {
		w.StartsAt = in.StartsAt
	}
	if in.EndsAt != nil {
		w.EndsAt = in.EndsAt
	}
	if in.Quotas != nil {
		w.Quotas = make([]sqldb.RewardQuota, 0, len(*in.Quotas))
		for _, q := range *in.Quotas {
			w.Quotas = append(w.Quotas, sqldb.RewardQuota(q))
		}
	}
}

func setField[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

type rewardInput struct{ Body RewardRequest }

type rewardIDInput struct {
	ID string `path:"id" doc:"reward id, rwd_…"`
}

type rewardPatchInput struct {
	ID   string `path:"id" doc:"reward id, rwd_…"`
	Body RewardRequest
}

type rewardOutput struct{ Body RewardBody }

type rewardsInput struct {
	Status string `query:"status" enum:"active,paused,archived," doc:"only rewards in this status"`
	PageParams
}

type rewardsOutput struct{ Body Page[RewardBody] }

func (s *server) loyaltyRewardRoutes() {
	tags := []string{"Loyalty rewards"}
	huma.Register(s.api, huma.Operation{OperationID: "create-reward", Method: http.MethodPost, Path: "/v1/loyalty/rewards",
		Summary: "Add a reward to the catalog", Tags: tags, DefaultStatus: http.StatusCreated}, s.createReward)
	huma.Register(s.api, huma.Operation{OperationID: "list-rewards", Method: http.MethodGet, Path: "/v1/loyalty/rewards",
		Summary: "The reward catalog", Tags: tags}, s.listRewards)
	huma.Register(s.api, huma.Operation{OperationID: "get-reward", Method: http.MethodGet, Path: "/v1/loyalty/rewards/{id}",
		Summary: "A reward", Tags: tags}, s.getReward)
	huma.Register(s.api, huma.Operation{OperationID: "update-reward", Method: http.MethodPatch, Path: "/v1/loyalty/rewards/{id}",
		Summary: "Change a reward", Tags: tags, Description: "Fields left out keep their value. `unlimited_stock: true` removes the stock limit; " +
			"a stock below what is redeemed already is refused."}, s.updateReward)
	s.redemptionRoutes()
	s.couponRoutes()
}

func (s *server) createReward(ctx context.Context, in *rewardInput) (*rewardOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	w := sqldb.Reward{TenantID: p.TenantID, CouponDays: 30}
	in.Body.apply(&w)
	w, err = s.db.CreateReward(ctx, w)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &rewardOutput{Body: rewardBody(w)}, nil
}

func (s *server) listRewards(ctx context.Context, in *rewardsInput) (*rewardsOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ws, err := s.db.FindRewards(ctx, sqldb.RewardFilter{TenantID: p.TenantID, Status: in.Status, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &rewardsOutput{Body: paginate(ws, in.limit(), func(w sqldb.Reward) string { return w.ID }, rewardBody)}, nil
}

func (s *server) getReward(ctx context.Context, in *rewardIDInput) (*rewardOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Reward, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	w, err := s.db.FindRewardByID(ctx, p.TenantID, rid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &rewardOutput{Body: rewardBody(w)}, nil
}

func (s *server) updateReward(ctx context.Context, in *rewardPatchInput) (*rewardOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Reward, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	w, err := s.db.UpdateReward(ctx, p.TenantID, rid, in.Body.apply)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &rewardOutput{Body: rewardBody(w)}, nil
}
