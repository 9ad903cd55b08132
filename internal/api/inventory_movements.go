package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// MovementRequest is one stock movement.
type MovementRequest struct {
	SKU        string     `json:"sku,omitempty" maxLength:"64"`
	LocationID string     `json:"location_id,omitempty" doc:"loc_…"`
	Kind       string     `json:"kind,omitempty" enum:"receipt,sale,return,adjustment,transfer_out,transfer_in,count"`
	Quantity   int64      `json:"quantity,omitempty" doc:"units moved (1 or more) for receipt, sale, return and transfers; the signed change for adjustment; the units counted for count (sets on hand)"`
	Reason     string     `json:"reason,omitempty" enum:"damaged,expired,lost,theft,found,correction,shrinkage,sample,write_off,cycle_count,other" doc:"required for adjustment"`
	Note       string     `json:"note,omitempty" maxLength:"500"`
	Reference  string     `json:"reference,omitempty" maxLength:"200" doc:"what caused it: a delivery note, shipment, return"`
	Key        string     `json:"key,omitempty" maxLength:"200" doc:"natural key, e.g. the delivery note line: a movement whose key was recorded applies nothing again (even after the Idempotency-Key expired)"`
	OccurredAt *time.Time `json:"occurred_at,omitempty" doc:"when it happened; default now"`
}

// MovementBody is one entry of the stock journal.
type MovementBody struct {
	ID            string    `json:"id" example:"stm_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	SKU           string    `json:"sku"`
	LocationID    string    `json:"location_id"`
	Kind          string    `json:"kind"`
	Quantity      int64     `json:"quantity" doc:"the change to on hand (negative for sales and transfers out)"`
	OnHandBefore  int64     `json:"on_hand_before"`
	OnHandAfter   int64     `json:"on_hand_after"`
	Reason        string    `json:"reason,omitempty"`
	Note          string    `json:"note,omitempty"`
	Reference     string    `json:"reference,omitempty"`
	Key           string    `json:"key,omitempty"`
	TransferID    string    `json:"transfer_id,omitempty"`
	ReservationID string    `json:"reservation_id,omitempty" doc:"the reservation a sale committed"`
	Actor         string    `json:"actor"`
	OccurredAt    time.Time `json:"occurred_at"`
	RecordedAt    time.Time `json:"recorded_at"`
	Duplicate     bool      `json:"duplicate" doc:"its key was recorded before: this request applied nothing"`
}

func movementBody(m sqldb.StockMovementRecord) MovementBody {
	return MovementBody{ID: id.Format(sqldb.MovementPrefix, m.ID), SKU: m.SKU, LocationID: id.Format(id.Location, m.LocationID), Kind: m.Kind,
		Quantity: m.Quantity, OnHandBefore: m.OnHandBefore, OnHandAfter: m.OnHandAfter, Reason: m.Reason, Note: m.Note, Reference: m.Reference,
		Key: m.Key, TransferID: id.Format(sqldb.TransferPrefix, m.TransferID), ReservationID: id.Format(sqldb.ReservationPrefix, m.ReservationID),
		Actor: m.Actor, OccurredAt: m.OccurredAt, RecordedAt: m.RecordedAt, Duplicate: m.Duplicate}
}

type movementsInput struct {
	Body struct {
		MovementRequest
		Movements []MovementRequest `json:"movements,omitempty" maxItems:"500" doc:"a batch, applied all or none; or send one movement's fields at the top level instead"`
	}
}

type movementsOutput struct {
	Status int
	Body   struct {
		Data []MovementBody `json:"data" doc:"in the order sent"`
	}
}

type listMovementsInput struct {
	SKU        string `query:"sku" maxLength:"64"`
	LocationID string `query:"location_id" doc:"loc_…"`
	Kind       string `query:"kind" enum:"receipt,sale,return,adjustment,transfer_out,transfer_in,count"`
	Reference  string `query:"reference" maxLength:"200"`
	PageParams
}

type listMovementsOutput struct{ Body Page[MovementBody] }

// TransferRequest moves stock between two locations.
type TransferRequest struct {
	FromLocationID string         `json:"from_location_id" doc:"loc_…"`
	ToLocationID   string         `json:"to_location_id" doc:"loc_…"`
	Lines          []TransferLine `json:"lines" minItems:"1" maxItems:"200"`
	Reference      string         `json:"reference,omitempty" maxLength:"200" doc:"the transfer order"`
	Note           string         `json:"note,omitempty" maxLength:"500"`
	Key            string         `json:"key,omitempty" maxLength:"180" doc:"natural key: the same transfer again applies nothing"`
	OccurredAt     *time.Time     `json:"occurred_at,omitempty"`
}

// TransferLine is one SKU of a transfer.
type TransferLine struct {
	SKU      string `json:"sku" minLength:"1" maxLength:"64"`
	Quantity int64  `json:"quantity" minimum:"1"`
}

// TransferBody is a recorded transfer.
type TransferBody struct {
	ID        string         `json:"id" example:"trf_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Duplicate bool           `json:"duplicate" doc:"its key was recorded before: this request applied nothing"`
	Movements []MovementBody `json:"movements" doc:"a transfer_out and a transfer_in per line"`
}

type transferInput struct{ Body TransferRequest }

type transferOutput struct {
	Status int
	Body   TransferBody
}

func (s *server) inventoryMovementRoutes() {
	tags := []string{"Inventory"}
	huma.Register(s.api, huma.Operation{OperationID: "record-stock-movements", Method: http.MethodPost, Path: "/v1/inventory/movements",
		Summary: "Record stock movements", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "One movement (its fields at the top level) or a batch (movements), applied all or none. Receipts, sales, returns, " +
			"adjustments (with a reason), counts. On hand never goes below zero. 200 when every movement's key was recorded before."}, s.recordMovements)
	huma.Register(s.api, huma.Operation{OperationID: "list-stock-movements", Method: http.MethodGet, Path: "/v1/inventory/movements",
		Summary: "The stock journal", Tags: tags, Description: "Every change to on hand, newest first."}, s.listMovements)
	huma.Register(s.api, huma.Operation{OperationID: "transfer-stock", Method: http.MethodPost, Path: "/v1/inventory/transfers",
		Summary: "Transfer stock between locations", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "A transfer out at one location and a transfer in at the other for every line, in one transaction. " +
			"Reserved units do not leave."}, s.transferStock)
}

func (s *server) recordMovements(ctx context.Context, in *movementsInput) (*movementsOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	reqs, single := b.Movements, len(b.Movements) == 0
	if single {
		reqs = []MovementRequest{b.MovementRequest}
	} else if b.MovementRequest != (MovementRequest{}) {
		return nil, s.problem(ctx, apperr.Field("body.movements", "send one movement's fields or movements, not both", nil))
	}
	ms := make([]sqldb.StockMovement, len(reqs))
	for i, r := range reqs {
		base := fmt.Sprintf("body.movements[%d]", i)
		if single {
			base = "body"
		}
		if ms[i], err = stockMovement(ctx, p, r, base); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	recs, err := s.db.RecordMovements(ctx, sqldb.MovementsParams{TenantID: p.TenantID, Movements: ms, Single: single})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &movementsOutput{Status: http.StatusOK}
	out.Body.Data = make([]MovementBody, 0, len(recs))
	for _, r := range recs {
		if !r.Duplicate {
			out.Status = http.StatusCreated
		}
		out.Body.Data = append(out.Body.Data, movementBody(r))
	}
	return out, nil
}

func stockMovement(ctx context.Context, p auth.Principal, r MovementRequest, base string) (sqldb.StockMovement, error) {
	m := sqldb.StockMovement{TenantID: p.TenantID, SKU: r.SKU, Kind: r.Kind, Quantity: r.Quantity, Reason: r.Reason, Note: r.Note,
		Reference: r.Reference, Key: r.Key, Actor: actor(ctx, p).Actor, RequestID: RequestID(ctx)}
	if r.OccurredAt != nil {
		m.OccurredAt = *r.OccurredAt
	}
	if r.LocationID == "" {
		return m, apperr.Field(base+".location_id", "the location the stock is at, loc_…", nil)
	}
	var err error
	m.LocationID, err = optionalLocation(base+".location_id", r.LocationID)
	return m, err
}

func (s *server) listMovements(ctx context.Context, in *listMovementsInput) (*listMovementsOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalLocation("query.location_id", in.LocationID)
	if err == nil {
		err = plainQuery("sku", in.SKU, "reference", in.Reference)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	before, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ms, err := s.db.FindStockMovements(ctx, sqldb.StockMovementFilter{TenantID: p.TenantID, SKU: in.SKU, LocationID: loc, Kind: in.Kind,
		Reference: in.Reference, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listMovementsOutput{Body: paginate(ms, in.limit(), func(m sqldb.StockMovementRecord) string { return m.ID }, movementBody)}, nil
}

func (s *server) transferStock(ctx context.Context, in *transferInput) (*transferOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	tp := sqldb.TransferParams{TenantID: p.TenantID, Reference: b.Reference, Note: b.Note, Key: b.Key, Actor: actor(ctx, p)}
	if tp.FromLocationID, err = optionalLocation("body.from_location_id", b.FromLocationID); err != nil {
		return nil, s.problem(ctx, err)
	}
	if tp.ToLocationID, err = optionalLocation("body.to_location_id", b.ToLocationID); err != nil {
		return nil, s.problem(ctx, err)
	}
	if b.OccurredAt != nil {
		tp.OccurredAt = *b.OccurredAt
	}
	for _, l := range b.Lines {
		tp.Lines = append(tp.Lines, sqldb.TransferLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	tr, err := s.db.TransferStock(ctx, tp)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &transferOutput{Status: http.StatusCreated, Body: TransferBody{ID: id.Format(sqldb.TransferPrefix, tr.ID), Duplicate: tr.Duplicate,
		Movements: make([]MovementBody, 0, len(tr.Movements))}}
	if tr.Duplicate {
		out.Status = http.StatusOK
	}
	for _, m := range tr.Movements {
		out.Body.Movements = append(out.Body.Movements, movementBody(m))
	}
	return out, nil
}
