package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// ReservationRequest holds stock.
type ReservationRequest struct {
	Ref          string                   `json:"ref" minLength:"1" maxLength:"200" doc:"what holds the stock: a cart or order id, or a note such as vip:amy-wong; a retry with it and the same lines returns the same reservation"`
	SalesChannel string                   `json:"sales_channel,omitempty" doc:"the sales channel (code) the stock is for: its safety stock applies"`
	TTLSeconds   *int64                   `json:"ttl_seconds,omitempty" minimum:"0" maximum:"2592000" doc:"how long the stock is held: default 900 (a cart); 86400 for an associate's 24-hour hold for a VIP; 0 until committed or released"`
	Reason       string                   `json:"reason,omitempty" maxLength:"200"`
	Lines        []ReservationLineRequest `json:"lines" minItems:"1" maxItems:"200"`
}

// ReservationLineRequest is units of a SKU to hold at a location.
type ReservationLineRequest struct {
	SKU        string `json:"sku" minLength:"1" maxLength:"64"`
	LocationID string `json:"location_id" doc:"loc_…"`
	Quantity   int64  `json:"quantity" minimum:"1"`
}

// ReservationBody is held stock.
type ReservationBody struct {
	ID           string                `json:"id" example:"rsv_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Ref          string                `json:"ref"`
	SalesChannel string                `json:"sales_channel,omitempty"`
	Status       string                `json:"status" enum:"held,committed,released,expired"`
	Reason       string                `json:"reason,omitempty"`
	ExpiresAt    *time.Time            `json:"expires_at" doc:"held stock is released at this time; null: until committed or released"`
	Actor        string                `json:"actor"`
	Lines        []ReservationLineBody `json:"lines" doc:"one per SKU and location"`
	CreatedAt    time.Time             `json:"created_at"`
	UpdatedAt    time.Time             `json:"updated_at"`
}

// ReservationLineBody is units held of a SKU at a location.
type ReservationLineBody struct {
	SKU        string     `json:"sku"`
	LocationID string     `json:"location_id"`
	Quantity   int64      `json:"quantity"`
	Status     string     `json:"status" enum:"held,committed,released"`
	SettledAt  *time.Time `json:"settled_at"`
}

func reservationBody(r sqldb.Reservation) ReservationBody {
	b := ReservationBody{ID: id.Format(sqldb.ReservationPrefix, r.ID), Ref: r.Ref, SalesChannel: r.SalesChannel, Status: r.Status, Reason: r.Reason,
		ExpiresAt: r.ExpiresAt, Actor: r.Actor, Lines: make([]ReservationLineBody, 0, len(r.Lines)), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, l := range r.Lines {
		b.Lines = append(b.Lines, ReservationLineBody{SKU: l.SKU, LocationID: id.Format(id.Location, l.LocationID), Quantity: l.Quantity,
			Status: l.Status, SettledAt: l.SettledAt})
	}
	return b
}

type reservationInput struct{ Body ReservationRequest }

type reservationOutput struct {
	Status int
	Body   ReservationBody
}

type reservationIDInput struct {
	ID string `path:"id" doc:"reservation id, rsv_…"`
}

type releaseReservationInput struct {
	ID         string `path:"id" doc:"reservation id, rsv_…"`
	LocationID string `query:"location_id" doc:"release only the lines at this location, loc_…"`
}

type commitReservationInput struct {
	ID   string `path:"id" doc:"reservation id, rsv_…"`
	Body struct {
		LocationID string `json:"location_id,omitempty" doc:"commit only the lines at this location, loc_…"`
		Reference  string `json:"reference,omitempty" maxLength:"200" doc:"the shipment or receipt the sale movements name"`
	}
}

type listReservationsInput struct {
	Ref    string `query:"ref" maxLength:"200"`
	Status string `query:"status" enum:"held,committed,released,expired"`
	PageParams
}

type reservationsOutput struct{ Body Page[ReservationBody] }

// defaultHoldTTL is how long an API hold lasts unless it says: a cart's.
const defaultHoldTTL = 15 * time.Minute

func (s *server) inventoryReservationRoutes() {
	tags := []string{"Inventory"}
	huma.Register(s.api, huma.Operation{OperationID: "reserve-stock", Method: http.MethodPost, Path: "/v1/inventory/reservations",
		Summary: "Hold stock", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Holds every line or none (409 names the SKU, the location and the units available). Held units are not available " +
			"to anyone else until committed, released, or expired."}, s.reserveStock)
	huma.Register(s.api, huma.Operation{OperationID: "list-stock-reservations", Method: http.MethodGet, Path: "/v1/inventory/reservations",
		Summary: "List stock reservations", Tags: tags, Description: "Newest first."}, s.listReservations)
	huma.Register(s.api, huma.Operation{OperationID: "get-stock-reservation", Method: http.MethodGet, Path: "/v1/inventory/reservations/{id}",
		Summary: "Get a stock reservation", Tags: tags}, s.getReservation)
	huma.Register(s.api, huma.Operation{OperationID: "release-stock-reservation", Method: http.MethodDelete, Path: "/v1/inventory/reservations/{id}",
		Summary: "Release held stock", Tags: tags, Description: "Gives back what is still held (at one location with location_id)."}, s.releaseReservation)
	huma.Register(s.api, huma.Operation{OperationID: "commit-stock-reservation", Method: http.MethodPost, Path: "/v1/inventory/reservations/{id}/commit",
		Summary: "Sell held stock", Tags: tags, Description: "Turns what is still held (at one location with location_id) into sale movements."},
		s.commitReservation)
}

func (s *server) reserveStock(ctx context.Context, in *reservationInput) (*reservationOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	h := sqldb.StockHold{TenantID: p.TenantID, Ref: b.Ref, SalesChannel: b.SalesChannel, Reason: b.Reason, Actor: actor(ctx, p).Actor}
	ttl := defaultHoldTTL
	if b.TTLSeconds != nil {
		ttl = time.Duration(*b.TTLSeconds) * time.Second
	}
	if ttl > 0 {
		h.ExpiresAt = s.db.Now().Add(ttl)
	}
	for i, l := range b.Lines {
		loc, err := optionalLocation(fmt.Sprintf("body.lines[%d].location_id", i), l.LocationID)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		h.Lines = append(h.Lines, sqldb.StockHoldLine{SKU: l.SKU, LocationID: loc, Quantity: l.Quantity})
	}
	r, created, err := s.db.HoldStock(ctx, h)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &reservationOutput{Status: http.StatusOK, Body: reservationBody(r)}
	if created {
		out.Status = http.StatusCreated
	}
	return out, nil
}

func (s *server) listReservations(ctx context.Context, in *listReservationsInput) (*reservationsOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	before, err := in.after()
	if err == nil {
		err = plainQuery("ref", in.Ref)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rs, err := s.db.FindReservations(ctx, sqldb.ReservationFilter{TenantID: p.TenantID, Ref: in.Ref, Status: in.Status, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &reservationsOutput{Body: paginate(rs, in.limit(), func(r sqldb.Reservation) string { return r.ID }, reservationBody)}, nil
}

func (s *server) getReservation(ctx context.Context, in *reservationIDInput) (*reservationOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeInventoryRead, sqldb.ReservationPrefix, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.FindReservationByID(ctx, p.TenantID, rid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &reservationOutput{Status: http.StatusOK, Body: reservationBody(r)}, nil
}

func (s *server) releaseReservation(ctx context.Context, in *releaseReservationInput) (*reservationOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeInventoryWrite, sqldb.ReservationPrefix, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalLocation("query.location_id", in.LocationID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.ReleaseStockReservation(ctx, p.TenantID, rid, loc)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &reservationOutput{Status: http.StatusOK, Body: reservationBody(r)}, nil
}

func (s *server) commitReservation(ctx context.Context, in *commitReservationInput) (*reservationOutput, error) {
	p, rid, err := principalWithID(ctx, auth.ScopeInventoryWrite, sqldb.ReservationPrefix, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalLocation("body.location_id", in.Body.LocationID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.CommitStockReservation(ctx, p.TenantID, rid, loc, in.Body.Reference)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &reservationOutput{Status: http.StatusOK, Body: reservationBody(r)}, nil
}
