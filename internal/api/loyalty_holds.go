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

// HoldBody is points held as a tender.
type HoldBody struct {
	ID         string       `json:"id" example:"hld_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	CustomerID string       `json:"customer_id"`
	Points     int64        `json:"points"`
	Amount     money.Amount `json:"amount" doc:"what the points pay, at the program's point value"`
	Reference  string       `json:"reference"`
	Status     string       `json:"status" enum:"held,captured,released"`
	ExpiresAt  time.Time    `json:"expires_at" doc:"a hold neither captured nor released by then is released"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

func holdBody(h sqldb.Hold) HoldBody {
	return HoldBody{ID: id.Format(id.Hold, h.ID), CustomerID: id.Format(id.Customer, h.CustomerID), Points: h.Points,
		Amount: money.Amount{Amount: h.Amount, Currency: h.Currency}, Reference: h.Reference, Status: h.Status,
		ExpiresAt: h.ExpiresAt, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

type holdInput struct {
	Body struct {
		CustomerID string `json:"customer_id" doc:"cus_…"`
		Points     int64  `json:"points,omitempty" minimum:"0" doc:"points to hold; or give amount"`
		Amount     int64  `json:"amount,omitempty" minimum:"0" doc:"the amount the points must pay, minor units; points are rounded up"`
		Currency   string `json:"currency" doc:"ISO 4217"`
		Reference  string `json:"reference" minLength:"1" maxLength:"200" doc:"the payment or order; a retry with it returns the same hold"`
		TTLSeconds int64  `json:"ttl_seconds,omitempty" minimum:"60" maximum:"604800" default:"900"`
	}
}

type holdIDInput struct {
	ID string `path:"id" doc:"hold id, hld_…"`
}

type holdOutput struct {
	Status int
	Body   HoldBody
}

func (s *server) loyaltyHoldRoutes() {
	tags := []string{"Loyalty points as a tender"}
	huma.Register(s.api, huma.Operation{OperationID: "hold-points", Method: http.MethodPost, Path: "/v1/loyalty/holds",
		Summary: "Hold points to pay with", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Takes points (or the points worth an amount) from the member's available balance, first-expiring first, " +
			"until the payment is captured or released. A hold neither by its expiry is released."}, s.holdPoints)
	huma.Register(s.api, huma.Operation{OperationID: "get-points-hold", Method: http.MethodGet, Path: "/v1/loyalty/holds/{id}",
		Summary: "Get a points hold", Tags: tags}, s.getHold)
	huma.Register(s.api, huma.Operation{OperationID: "capture-points-hold", Method: http.MethodPost, Path: "/v1/loyalty/holds/{id}/capture",
		Summary: "Capture a points hold", Tags: tags, Description: "The payment went through: the held points are spent."}, s.captureHold)
	huma.Register(s.api, huma.Operation{OperationID: "release-points-hold", Method: http.MethodPost, Path: "/v1/loyalty/holds/{id}/release",
		Summary: "Release a points hold", Tags: tags,
		Description: "The payment failed or was cancelled: the points go back to the lots they came from, with their expiry."}, s.releaseHold)
}

func (s *server) holdPoints(ctx context.Context, in *holdInput) (*holdOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Customer, in.Body.CustomerID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	h, created, err := s.db.HoldPoints(ctx, sqldb.HoldParams{TenantID: p.TenantID, CustomerID: cid, Points: b.Points, Amount: b.Amount,
		Currency: b.Currency, Reference: b.Reference, TTL: time.Duration(b.TTLSeconds) * time.Second, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &holdOutput{Status: http.StatusOK, Body: holdBody(h)}
	if created {
		out.Status = http.StatusCreated
	}
	return out, nil
}

func (s *server) getHold(ctx context.Context, in *holdIDInput) (*holdOutput, error) {
	p, hid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Hold, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	h, err := s.db.FindHoldByID(ctx, p.TenantID, hid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &holdOutput{Status: http.StatusOK, Body: holdBody(h)}, nil
}

func (s *server) captureHold(ctx context.Context, in *holdIDInput) (*holdOutput, error) {
	return s.settleHold(ctx, in.ID, s.db.CaptureHold)
}

func (s *server) releaseHold(ctx context.Context, in *holdIDInput) (*holdOutput, error) {
	return s.settleHold(ctx, in.ID, s.db.ReleaseHold)
}

func (s *server) settleHold(ctx context.Context, public string, settle func(context.Context, string, string, sqldb.Actor) (sqldb.Hold, error)) (*holdOutput, error) {
	p, hid, err := principalWithID(ctx, auth.ScopeLoyaltyWrite, id.Hold, public)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	h, err := settle(ctx, p.TenantID, hid, actor(ctx, p))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &holdOutput{Status: http.StatusOK, Body: holdBody(h)}, nil
}
