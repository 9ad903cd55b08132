package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// RedemptionRequest spends a member's points on a reward.
type RedemptionRequest struct {
	CustomerID   string `json:"customer_id" doc:"cus_…"`
	RewardID     string `json:"reward_id" doc:"rwd_…"`
	Location     string `json:"location,omitempty" maxLength:"100" doc:"location code where it is redeemed; its quotas apply"`
	SalesChannel string `json:"sales_channel" minLength:"1" maxLength:"100" doc:"sales channel code where it is redeemed"`
	Reference    string `json:"reference,omitempty" maxLength:"200" doc:"natural key: the same reference again returns the first redemption"`
}

// CouponBody is a coupon and its state.
type CouponBody struct {
	ID             string     `json:"id"`
	Code           string     `json:"code"`
	State          string     `json:"state" enum:"active,used,expired,scheduled,void"`
	RewardID       string     `json:"reward_id,omitempty"`
	BatchID        string     `json:"batch_id,omitempty"`
	RedemptionID   string     `json:"redemption_id,omitempty"`
	CustomerID     string     `json:"customer_id,omitempty" doc:"the member it was issued to"`
	MaxUses        int64      `json:"max_uses"`
	Uses           int64      `json:"uses"`
	PerMemberLimit int64      `json:"per_member_limit"`
	ValidFrom      time.Time  `json:"valid_from"`
	ValidUntil     *time.Time `json:"valid_until"`
}

func couponBody(c sqldb.Coupon, now time.Time) CouponBody {
	return CouponBody{ID: id.Format(id.Coupon, c.ID), Code: c.Code, State: c.State(now), RewardID: id.Format(id.Reward, c.RewardID),
		BatchID: id.Format(batchPrefix, c.BatchID), RedemptionID: id.Format(id.Redemption, c.RedemptionID),
		CustomerID: id.Format(id.Customer, c.CustomerID), MaxUses: c.MaxUses, Uses: c.Uses, PerMemberLimit: c.PerMemberLimit,
		ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil}
}

// RedemptionBody is a redemption with its coupon.
type RedemptionBody struct {
	ID             string        `json:"id"`
	Reference      string        `json:"reference"`
	CustomerID     string        `json:"customer_id"`
	RewardID       string        `json:"reward_id"`
	Status         string        `json:"status" enum:"issued,cancelled"`
	Points         int64         `json:"points"`
	Location       string        `json:"location,omitempty"`
	SalesChannel   string        `json:"sales_channel"`
	EntryID        string        `json:"entry_id" doc:"the redeem entry of the ledger"`
	RestoreEntryID string        `json:"restore_entry_id,omitempty" doc:"the restore entry, once cancelled"`
	Coupon         CouponBody    `json:"coupon"`
	Balances       *BalancesBody `json:"balances,omitempty" doc:"after this request (on POST)"`
	CreatedAt      time.Time     `json:"created_at"`
	CancelledAt    *time.Time    `json:"cancelled_at"`
}

func redemptionBody(r sqldb.Redemption, now time.Time) RedemptionBody {
	return RedemptionBody{ID: id.Format(id.Redemption, r.ID), Reference: r.Reference, CustomerID: id.Format(id.Customer, r.CustomerID),
		RewardID: id.Format(id.Reward, r.RewardID), Status: r.Status, Points: r.Points, Location: r.LocationCode, SalesChannel: r.SalesChannelCode,
		EntryID: id.Format(id.Entry, r.EntryID), RestoreEntryID: id.Format(id.Entry, r.RestoreEntryID), Coupon: couponBody(r.Coupon, now),
		CreatedAt: r.CreatedAt, CancelledAt: r.CancelledAt}
}

type redemptionInput struct{ Body RedemptionRequest }

type redemptionOutput struct {
	Status int
	Body   RedemptionBody
}

type redemptionIDInput struct {
	ID string `path:"id" doc:"redemption id, rdm_…"`
}

type cancelInput struct {
	ID   string `path:"id" doc:"redemption id, rdm_…"`
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500" doc:"stays on the ledger"`
	}
}

type redemptionsInput struct {
	ID string `path:"id" doc:"customer id, cus_…"`
	PageParams
}

type redemptionsOutput struct{ Body Page[RedemptionBody] }

func (s *server) redemptionRoutes() {
	tags := []string{"Loyalty rewards"}
	huma.Register(s.api, huma.Operation{OperationID: "redeem-reward", Method: http.MethodPost, Path: "/v1/loyalty/redemptions",
		Summary: "Redeem a reward", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Spends the reward's cost from the member's points that expire first and issues a single-use coupon, in one transaction. " +
			"409 when the member has too few points (the detail says how many are available), is not eligible, or the reward is out of stock " +
			"or over its quota at the location. A repeated `reference` returns the first redemption with 200."}, s.redeemReward)
	huma.Register(s.api, huma.Operation{OperationID: "get-redemption", Method: http.MethodGet, Path: "/v1/loyalty/redemptions/{id}",
		Summary: "A redemption and its coupon", Tags: tags}, s.getRedemption)
	huma.Register(s.api, huma.Operation{OperationID: "cancel-redemption", Method: http.MethodPost, Path: "/v1/loyalty/redemptions/{id}/cancel",
		Summary: "Cancel a redemption", Tags: tags,
		Description: "Only while its coupon is unused: voids the coupon, gives the points back to exactly the lots they came from with their " +
			"original expiry, and returns the stock and quota. Cancelling again returns the cancelled redemption."}, s.cancelRedemption)
	huma.Register(s.api, huma.Operation{OperationID: "customer-redemptions", Method: http.MethodGet, Path: "/v1/customers/{id}/loyalty/redemptions",
		Summary: "A member's redemptions", Tags: tags, Description: "Newest first."}, s.customerRedemptions)
}

func (s *server) redeemReward(ctx context.Context, in *redemptionInput) (*redemptionOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Customer, in.Body.CustomerID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rid, err := id.Parse(id.Reward, in.Body.RewardID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	res, err := s.db.RedeemReward(ctx, sqldb.RedeemParams{TenantID: p.TenantID, CustomerID: cid, RewardID: rid, LocationCode: in.Body.Location,
		SalesChannelCode: in.Body.SalesChannel, Reference: in.Body.Reference, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return redemptionResult(res, s.db.Now()), nil
}

func redemptionResult(res *sqldb.RedeemResult, now time.Time) *redemptionOutput {
	out := &redemptionOutput{Status: http.StatusCreated, Body: redemptionBody(res.Redemption, now)}
	if !res.Created {
		out.Status = http.StatusOK
	}
	b := balancesBody(res.Balances)
	out.Body.Balances = &b
	return out
}

func (s *server) getRedemption(ctx context.Context, in *redemptionIDInput) (*redemptionOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Redemption, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.FindRedemptionByID(ctx, p.TenantID, rid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &redemptionOutput{Status: http.StatusOK, Body: redemptionBody(r, s.db.Now())}, nil
}

func (s *server) cancelRedemption(ctx context.Context, in *cancelInput) (*redemptionOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Redemption, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	res, err := s.db.CancelRedemption(ctx, sqldb.CancelParams{TenantID: p.TenantID, RedemptionID: rid, Reason: in.Body.Reason, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := redemptionResult(res, s.db.Now())
	out.Status = http.StatusOK
	return out, nil
}

func (s *server) customerRedemptions(ctx context.Context, in *redemptionsInput) (*redemptionsOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Customer, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rs, err := s.db.FindRedemptions(ctx, sqldb.RedemptionFilter{TenantID: p.TenantID, CustomerID: cid, Limit: in.limit() + 1, BeforeID: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	now := s.db.Now()
	return &redemptionsOutput{Body: paginate(rs, in.limit(), func(r sqldb.Redemption) string { return r.ID },
		func(r sqldb.Redemption) RedemptionBody { return redemptionBody(r, now) })}, nil
}
