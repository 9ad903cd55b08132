package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/sqldb"
)

// StockLevelBody is the stock of a SKU at a location.
type StockLevelBody struct {
	SKU           string             `json:"sku"`
	LocationID    string             `json:"location_id"`
	LocationType  string             `json:"location_type"`
	LocationOpen  bool               `json:"location_open" doc:"only open locations sell"`
	OnHand        int64              `json:"on_hand"`
	Reserved      int64              `json:"reserved" doc:"held by carts and orders"`
	Available     int64              `json:"available" doc:"on hand less reserved, never below 0"`
	SalesChannels []ChannelStockBody `json:"sales_channels" doc:"what each active sales channel may sell here"`
	UpdatedAt     time.Time          `json:"updated_at"`
}

// ChannelStockBody is what one sales channel may sell of a stock level.
type ChannelStockBody struct {
	SalesChannel string `json:"sales_channel" doc:"code"`
	SafetyStock  int64  `json:"safety_stock" doc:"units kept back from this channel"`
	Available    int64  `json:"available" doc:"on hand less reserved less safety stock, never below 0; 0 at a location that is not open"`
}

func stockLevelBody(l sqldb.StockLevel) StockLevelBody {
	b := StockLevelBody{SKU: l.SKU, LocationID: id.Format(id.Location, l.LocationID), LocationType: l.LocationType, LocationOpen: l.LocationOpen,
		OnHand: l.OnHand, Reserved: l.Reserved, Available: l.Available, SalesChannels: make([]ChannelStockBody, 0, len(l.Channels)), UpdatedAt: l.UpdatedAt}
	for _, c := range l.Channels {
		b.SalesChannels = append(b.SalesChannels, ChannelStockBody(c))
	}
	return b
}

type stockLevelsInput struct {
	SKU        string `query:"sku" maxLength:"64"`
	LocationID string `query:"location_id" doc:"loc_…"`
	PageParams
}

type stockLevelsOutput struct{ Body Page[StockLevelBody] }

// SafetyStockRequest sets a safety stock rule.
type SafetyStockRequest struct {
	SalesChannel string `json:"sales_channel" minLength:"1" doc:"the sales channel (code) that may not sell these units"`
	SKU          string `json:"sku,omitempty" maxLength:"64" doc:"one SKU; none for every SKU"`
	LocationID   string `json:"location_id,omitempty" doc:"one location, loc_…"`
	LocationType string `json:"location_type,omitempty" enum:"store,outlet,warehouse,bonded_warehouse,pop_up" doc:"every location of this type; neither location_id nor location_type for every location"`
	Quantity     int64  `json:"quantity" minimum:"0" doc:"units kept back"`
}

// SafetyStockBody is a safety stock rule.
type SafetyStockBody struct {
	SalesChannel string    `json:"sales_channel"`
	SKU          string    `json:"sku" doc:"empty: every SKU"`
	LocationID   string    `json:"location_id" doc:"empty: by location_type"`
	LocationType string    `json:"location_type" doc:"empty with an empty location_id: every location"`
	Quantity     int64     `json:"quantity"`
	Actor        string    `json:"actor"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func safetyBody(r sqldb.SafetyStockRule) SafetyStockBody {
	return SafetyStockBody{SalesChannel: r.SalesChannel, SKU: r.SKU, LocationID: id.Format(id.Location, r.LocationID), LocationType: r.LocationType,
		Quantity: r.Quantity, Actor: r.Actor, UpdatedAt: r.UpdatedAt}
}

type safetyInput struct{ Body SafetyStockRequest }

type safetyOutput struct{ Body SafetyStockBody }

type safetyListInput struct {
	SalesChannel string `query:"sales_channel" doc:"only this channel's rules"`
	SKU          string `query:"sku" maxLength:"64" doc:"only the rules that can apply to this SKU (its own and those for every SKU)"`
	PageParams
}

type safetyListOutput struct{ Body Page[SafetyStockBody] }

type safetyDeleteInput struct {
	SalesChannel string `query:"sales_channel" required:"true"`
	SKU          string `query:"sku"`
	LocationID   string `query:"location_id"`
	LocationType string `query:"location_type"`
}

// ThresholdRequest sets a low-stock threshold.
type ThresholdRequest struct {
	SKU        string `json:"sku,omitempty" maxLength:"64" doc:"one SKU; none for every SKU"`
	LocationID string `json:"location_id,omitempty" doc:"one location, loc_…; none for every location"`
	LowStock   int64  `json:"low_stock" minimum:"0" doc:"a location's available units at or below this are low"`
}

// ThresholdBody is a low-stock threshold.
type ThresholdBody struct {
	SKU        string    `json:"sku"`
	LocationID string    `json:"location_id"`
	LowStock   int64     `json:"low_stock"`
	Actor      string    `json:"actor"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func thresholdBody(t sqldb.LowStockThreshold) ThresholdBody {
	return ThresholdBody{SKU: t.SKU, LocationID: id.Format(id.Location, t.LocationID), LowStock: t.LowStock, Actor: t.Actor, UpdatedAt: t.UpdatedAt}
}

type thresholdInput struct{ Body ThresholdRequest }

type thresholdOutput struct{ Body ThresholdBody }

type thresholdListOutput struct{ Body Page[ThresholdBody] }

type thresholdDeleteInput struct {
	SKU        string `query:"sku"`
	LocationID string `query:"location_id"`
}

// StockFactBody is a low-stock or back-in-stock fact.
type StockFactBody struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind" enum:"low_stock,back_in_stock"`
	SKU             string    `json:"sku"`
	LocationID      string    `json:"location_id" doc:"low stock: the location; back in stock: the location whose change made it"`
	SalesChannel    string    `json:"sales_channel,omitempty" doc:"back in stock: the channel that can sell the SKU again"`
	AvailableBefore int64     `json:"available_before" doc:"low stock: at the location; back in stock: the channel's total over open locations"`
	AvailableAfter  int64     `json:"available_after"`
	Threshold       *int64    `json:"threshold,omitempty" doc:"low stock: the threshold reached"`
	Cause           string    `json:"cause" doc:"the change: movement:<id>, transfer:<id>, reservation:<id> or release:<id>"`
	OccurredAt      time.Time `json:"occurred_at"`
}

func factBody(f sqldb.StockFact) StockFactBody {
	return StockFactBody{ID: id.Format(sqldb.FactPrefix, f.ID), Kind: f.Kind, SKU: f.SKU, LocationID: id.Format(id.Location, f.LocationID),
		SalesChannel: f.SalesChannel, AvailableBefore: f.AvailableBefore, AvailableAfter: f.AvailableAfter, Threshold: f.Threshold,
		Cause: publicCause(f.Cause), OccurredAt: f.OccurredAt}
}

// publicCause shows the id in a fact's cause in its public form.
func publicCause(c string) string {
	kind, raw, ok := strings.Cut(c, ":")
	if !ok {
		return c
	}
	prefix := map[string]string{"movement": sqldb.MovementPrefix, "transfer": sqldb.TransferPrefix,
		"reservation": sqldb.ReservationPrefix, "release": sqldb.ReservationPrefix}[kind]
	return kind + ":" + id.Format(prefix, raw)
}

type factsInput struct {
	Kind string `query:"kind" enum:"low_stock,back_in_stock"`
	SKU  string `query:"sku" maxLength:"64"`
	PageParams
}

type factsOutput struct{ Body Page[StockFactBody] }

func (s *server) inventoryRoutes() {
	tags := []string{"Inventory"}
	huma.Register(s.api, huma.Operation{OperationID: "list-stock-levels", Method: http.MethodGet, Path: "/v1/inventory",
		Summary: "Stock levels", Tags: tags, Description: "On hand, reserved and available per SKU and location, with what each " +
			"active sales channel may sell (less its safety stock). In SKU, then location order."}, s.listStockLevels)
	huma.Register(s.api, huma.Operation{OperationID: "set-safety-stock", Method: http.MethodPut, Path: "/v1/inventory/safety_stock",
		Summary: "Set a safety stock rule", Tags: tags, Description: "Keeps units back from a sales channel: store floor stock not sold " +
			"online below N. The most specific rule applies: one SKU beats every SKU; then one location beats a location type, which beats every location."},
		s.setSafetyStock)
	huma.Register(s.api, huma.Operation{OperationID: "list-safety-stock", Method: http.MethodGet, Path: "/v1/inventory/safety_stock",
		Summary: "List safety stock rules", Tags: tags}, s.listSafetyStock)
	huma.Register(s.api, huma.Operation{OperationID: "delete-safety-stock", Method: http.MethodDelete, Path: "/v1/inventory/safety_stock",
		Summary: "Remove a safety stock rule", Tags: tags, DefaultStatus: http.StatusNoContent}, s.deleteSafetyStock)
	huma.Register(s.api, huma.Operation{OperationID: "set-low-stock-threshold", Method: http.MethodPut, Path: "/v1/inventory/low_stock_thresholds",
		Summary: "Set a low-stock threshold", Tags: tags, Description: "Per SKU and location, per SKU, per location, or (neither) the " +
			"tenant's default; 5 where none is set. A change that takes a location's available units to the threshold or below records a low_stock fact."},
		s.setThreshold)
	huma.Register(s.api, huma.Operation{OperationID: "list-low-stock-thresholds", Method: http.MethodGet, Path: "/v1/inventory/low_stock_thresholds",
		Summary: "List low-stock thresholds", Tags: tags}, s.listThresholds)
	huma.Register(s.api, huma.Operation{OperationID: "delete-low-stock-threshold", Method: http.MethodDelete, Path: "/v1/inventory/low_stock_thresholds",
		Summary: "Remove a low-stock threshold", Tags: tags, DefaultStatus: http.StatusNoContent}, s.deleteThreshold)
	huma.Register(s.api, huma.Operation{OperationID: "list-stock-facts", Method: http.MethodGet, Path: "/v1/inventory/facts",
		Summary: "Low-stock and back-in-stock facts", Tags: tags, Description: "Oldest first: keep next_cursor to read on later."}, s.listStockFacts)
	s.inventoryMovementRoutes()
	s.inventoryReservationRoutes()
}

// plainQuery refuses query values that cannot be compared as text on both
// engines (NUL, invalid UTF-8); pairs are name, value.
func plainQuery(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !inventory.Storable(pairs[i+1]) {
			return apperr.Field("query."+pairs[i], "text without NUL characters", pairs[i+1])
		}
	}
	return nil
}

// optionalLocation parses a location id that may be absent; a malformed one
// is a field error at field.
func optionalLocation(field, public string) (string, error) {
	if public == "" {
		return "", nil
	}
	raw, err := id.Parse(id.Location, public)
	if err != nil {
		return "", apperr.Field(field, "a location id, loc_…", public)
	}
	return raw, nil
}

func (s *server) listStockLevels(ctx context.Context, in *stockLevelsInput) (*stockLevelsOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalLocation("query.location_id", in.LocationID)
	if err == nil {
		err = plainQuery("sku", in.SKU)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	sku, l, _ := strings.Cut(after, "\x1f")
	levels, err := s.db.FindStockLevels(ctx, sqldb.StockLevelFilter{TenantID: p.TenantID, SKU: in.SKU, LocationID: loc,
		Limit: in.limit() + 1, After: [2]string{sku, l}})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &stockLevelsOutput{Body: paginate(levels, in.limit(), func(l sqldb.StockLevel) string { return l.SKU + "\x1f" + l.LocationID },
		stockLevelBody)}, nil
}

// safetyParams names a safety stock rule sent in the body or the query (in).
func (s *server) safetyParams(ctx context.Context, in, channel, sku, loc, typ string, qty int64) (sqldb.SafetyStockParams, error) {
	p, err := principal(ctx, auth.ScopeInventoryWrite)
	if err != nil {
		return sqldb.SafetyStockParams{}, err
	}
	lid, err := optionalLocation(in+".location_id", loc)
	return sqldb.SafetyStockParams{TenantID: p.TenantID, SalesChannelCode: channel, SKU: sku, LocationID: lid, LocationType: typ,
		Quantity: qty, Actor: actor(ctx, p)}, err
}

func (s *server) setSafetyStock(ctx context.Context, in *safetyInput) (*safetyOutput, error) {
	b := in.Body
	sp, err := s.safetyParams(ctx, "body", b.SalesChannel, b.SKU, b.LocationID, b.LocationType, b.Quantity)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	r, err := s.db.SetSafetyStock(ctx, sp)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &safetyOutput{Body: safetyBody(r)}, nil
}

func (s *server) listSafetyStock(ctx context.Context, in *safetyListInput) (*safetyListOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err == nil {
		err = plainQuery("sales_channel", in.SalesChannel, "sku", in.SKU)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rules, err := s.db.FindSafetyStock(ctx, sqldb.SafetyStockFilter{TenantID: p.TenantID, SalesChannelCode: in.SalesChannel, SKU: in.SKU,
		Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &safetyListOutput{Body: paginate(rules, in.limit(), sqldb.SafetyStockRule.Key, safetyBody)}, nil
}

func (s *server) deleteSafetyStock(ctx context.Context, in *safetyDeleteInput) (*struct{}, error) {
	sp, err := s.safetyParams(ctx, "query", in.SalesChannel, in.SKU, in.LocationID, in.LocationType, 0)
	if err == nil {
		err = s.db.DeleteSafetyStock(ctx, sp)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

func (s *server) setThreshold(ctx context.Context, in *thresholdInput) (*thresholdOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalLocation("body.location_id", in.Body.LocationID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t, err := s.db.SetLowStockThreshold(ctx, sqldb.ThresholdParams{TenantID: p.TenantID, SKU: in.Body.SKU, LocationID: loc,
		LowStock: in.Body.LowStock, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &thresholdOutput{Body: thresholdBody(t)}, nil
}

func (s *server) listThresholds(ctx context.Context, in *PageParams) (*thresholdListOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ts, err := s.db.FindLowStockThresholds(ctx, p.TenantID, in.limit()+1, after)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &thresholdListOutput{Body: paginate(ts, in.limit(), sqldb.LowStockThreshold.Key, thresholdBody)}, nil
}

func (s *server) deleteThreshold(ctx context.Context, in *thresholdDeleteInput) (*struct{}, error) {
	p, err := principal(ctx, auth.ScopeInventoryWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	loc, err := optionalLocation("query.location_id", in.LocationID)
	if err == nil {
		err = plainQuery("sku", in.SKU)
	}
	if err == nil {
		err = s.db.DeleteLowStockThreshold(ctx, sqldb.ThresholdParams{TenantID: p.TenantID, SKU: in.SKU, LocationID: loc})
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

func (s *server) listStockFacts(ctx context.Context, in *factsInput) (*factsOutput, error) {
	p, err := principal(ctx, auth.ScopeInventoryRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err == nil {
		err = plainQuery("sku", in.SKU)
	}
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	facts, err := s.db.FindStockFacts(ctx, sqldb.StockFactFilter{TenantID: p.TenantID, Kind: in.Kind, SKU: in.SKU, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &factsOutput{Body: paginate(facts, in.limit(), func(f sqldb.StockFact) string { return f.ID }, factBody)}, nil
}
