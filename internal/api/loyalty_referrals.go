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

// ReferralBody is a friend who joined with a member's code.
type ReferralBody struct {
	ID            string     `json:"id"`
	ReferrerID    string     `json:"referrer_id"`
	FriendID      string     `json:"friend_id"`
	Status        string     `json:"status" enum:"pending,purchased,converted,declined"`
	TransactionID string     `json:"transaction_id,omitempty" doc:"the friend's first purchase"`
	QualifiesAt   *time.Time `json:"qualifies_at,omitempty" doc:"when that purchase's return window ends"`
	Reason        string     `json:"reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func referralBody(r sqldb.Referral) ReferralBody {
	return ReferralBody{ID: id.Format(id.Referral, r.ID), ReferrerID: id.Format(id.Customer, r.ReferrerID), FriendID: id.Format(id.Customer, r.FriendID),
		Status: r.Status, TransactionID: id.Format(id.Transaction, r.TransactionID), QualifiesAt: r.QualifiesAt, Reason: r.Reason,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type referralCodeOutput struct {
	Body struct {
		Code string `json:"code" example:"REF-7KWT-MX3C-R"`
	}
}

type joinReferralInput struct {
	Body struct {
		Code       string `json:"code" minLength:"1" maxLength:"64" doc:"the referrer's code"`
		CustomerID string `json:"customer_id" doc:"the friend, cus_…: a customer who has not bought yet"`
	}
}

type referralOutput struct{ Body ReferralBody }

type referralsOutput struct {
	Body struct {
		Data []ReferralBody `json:"data" doc:"newest first"`
	}
}

func (s *server) loyaltyReferralRoutes() {
	tags := []string{"Loyalty referrals"}
	huma.Register(s.api, huma.Operation{OperationID: "referral-code", Method: http.MethodPost, Path: "/v1/customers/{id}/loyalty/referral_code",
		Summary: "A member's referral code", Tags: tags,
		Description: "Returns the member's shareable code, making it on first ask (the same code every time)."}, s.referralCode)
	huma.Register(s.api, huma.Operation{OperationID: "join-referral", Method: http.MethodPost, Path: "/v1/loyalty/referrals",
		Summary: "A friend joins with a referral code", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "The friend must be new (no purchase yet), not the referrer, and referred once. When the friend's first purchase " +
			"passes its return window, both earn the program's referral points (the referrer up to its yearly cap)."}, s.joinReferral)
	huma.Register(s.api, huma.Operation{OperationID: "customer-referrals", Method: http.MethodGet, Path: "/v1/customers/{id}/loyalty/referrals",
		Summary: "The referrals a member made", Tags: tags}, s.customerReferrals)
}

func (s *server) referralCode(ctx context.Context, in *customerIDInput) (*referralCodeOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Customer, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	code, err := s.db.ReferralCode(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &referralCodeOutput{}
	out.Body.Code = code
	return out, nil
}

func (s *server) joinReferral(ctx context.Context, in *joinReferralInput) (*referralOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Customer, in.Body.CustomerID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.JoinReferral(ctx, p.TenantID, in.Body.Code, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &referralOutput{Body: referralBody(r)}, nil
}

func (s *server) customerReferrals(ctx context.Context, in *customerIDInput) (*referralsOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Customer, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rs, err := s.db.FindReferrals(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &referralsOutput{}
	out.Body.Data = make([]ReferralBody, 0, len(rs))
	for _, r := range rs {
		out.Body.Data = append(out.Body.Data, referralBody(r))
	}
	return out, nil
}
