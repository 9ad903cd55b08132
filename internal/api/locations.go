package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
)

// LocationBody is a physical location as shown.
type LocationBody struct {
	ID          string                `json:"id" example:"loc_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Code        string                `json:"code" example:"HK-CWB-01"`
	Type        string                `json:"type" enum:"store,outlet,warehouse,bonded_warehouse,pop_up"`
	Names       map[string]string     `json:"names" doc:"by language tag, e.g. en, zh-Hant"`
	TimeZone    string                `json:"time_zone" example:"Asia/Hong_Kong"`
	Currency    string                `json:"currency" example:"HKD"`
	Address     location.Address      `json:"address"`
	Coordinates *location.Coordinates `json:"coordinates"`
	Status      string                `json:"status" enum:"open,temporarily_closed,closed,planned"`
	CreatedAt   time.Time             `json:"created_at"`
	UpdatedAt   time.Time             `json:"updated_at"`
}

func locationBody(l location.Location) LocationBody {
	return LocationBody{ID: id.Format(id.Location, l.ID), Code: l.Code, Type: l.Type, Names: l.Names, TimeZone: l.TimeZone,
		Currency: l.Currency, Address: l.Address, Coordinates: l.Coordinates, Status: l.Status, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

type createLocationInput struct {
	Body struct {
		Code        string                `json:"code" minLength:"1" maxLength:"64" doc:"the brand's own code, unique; transactions name the location by it"`
		Type        string                `json:"type" enum:"store,outlet,warehouse,bonded_warehouse,pop_up"`
		Names       map[string]string     `json:"names" doc:"at least one, by language tag (en, zh-Hant, zh-Hans, …)"`
		TimeZone    string                `json:"time_zone" doc:"IANA time zone" example:"Asia/Hong_Kong"`
		Currency    string                `json:"currency" doc:"ISO 4217" example:"HKD"`
		Address     location.Address      `json:"address,omitempty"`
		Coordinates *location.Coordinates `json:"coordinates,omitempty"`
		Status      string                `json:"status,omitempty" enum:"open,temporarily_closed,closed,planned" default:"open"`
	}
}

type updateLocationInput struct {
	ID   string `path:"id" doc:"location id, loc_…"`
	Body struct {
		Code        *string               `json:"code,omitempty" maxLength:"64"`
		Type        *string               `json:"type,omitempty" enum:"store,outlet,warehouse,bonded_warehouse,pop_up"`
		Names       map[string]string     `json:"names,omitempty" doc:"replaces all names"`
		TimeZone    *string               `json:"time_zone,omitempty"`
		Currency    *string               `json:"currency,omitempty"`
		Address     *location.Address     `json:"address,omitempty" doc:"replaces the address"`
		Coordinates *location.Coordinates `json:"coordinates,omitempty"`
		Status      *string               `json:"status,omitempty" enum:"open,temporarily_closed,closed,planned"`
	}
}

type locationIDInput struct {
	ID string `path:"id" doc:"location id, loc_…"`
}

type locationOutput struct{ Body LocationBody }

type listLocationsInput struct {
	PageParams
	Type string `query:"type" enum:"store,outlet,warehouse,bonded_warehouse,pop_up" doc:"only locations of this type"`
}

type listLocationsOutput struct{ Body Page[LocationBody] }

func (s *server) locationRoutes() {
	tags := []string{"Locations"}
	huma.Register(s.api, huma.Operation{OperationID: "create-location", Method: http.MethodPost, Path: "/v1/locations",
		Summary: "Create a location", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "A store, outlet, warehouse, bonded warehouse or pop-up, with a code unique in the tenant."}, s.createLocation)
	huma.Register(s.api, huma.Operation{OperationID: "list-locations", Method: http.MethodGet, Path: "/v1/locations",
		Summary: "List locations", Tags: tags, Description: "In code order."}, s.listLocations)
	huma.Register(s.api, huma.Operation{OperationID: "get-location", Method: http.MethodGet, Path: "/v1/locations/{id}",
		Summary: "Get a location", Tags: tags}, s.getLocation)
	huma.Register(s.api, huma.Operation{OperationID: "update-location", Method: http.MethodPatch, Path: "/v1/locations/{id}",
		Summary: "Update a location", Tags: tags, Description: "Changes the fields given; the result must still be valid."}, s.updateLocation)
	s.salesChannelRoutes()
}

func (s *server) createLocation(ctx context.Context, in *createLocationInput) (*locationOutput, error) {
	p, err := principal(ctx, auth.ScopeLocationsWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	if b.Status == "" {
		b.Status = "open"
	}
	l, err := s.db.CreateLocation(ctx, location.Location{TenantID: p.TenantID, Code: b.Code, Type: b.Type, Names: b.Names,
		TimeZone: b.TimeZone, Currency: b.Currency, Address: b.Address, Coordinates: b.Coordinates, Status: b.Status})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &locationOutput{Body: locationBody(l)}, nil
}

func (s *server) listLocations(ctx context.Context, in *listLocationsInput) (*listLocationsOutput, error) {
	p, err := principal(ctx, auth.ScopeLocationsRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ls, err := s.db.FindLocations(ctx, sqldb.LocationFilter{TenantID: p.TenantID, Type: in.Type, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listLocationsOutput{Body: paginate(ls, in.limit(), func(l location.Location) string { return l.Code }, locationBody)}, nil
}

func (s *server) getLocation(ctx context.Context, in *locationIDInput) (*locationOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeLocationsRead, id.Location, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	l, err := s.db.FindLocationByID(ctx, p.TenantID, lid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &locationOutput{Body: locationBody(l)}, nil
}

func (s *server) updateLocation(ctx context.Context, in *updateLocationInput) (*locationOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeLocationsWrite, id.Location, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	l, err := s.db.UpdateLocation(ctx, p.TenantID, lid, func(l *location.Location) {
		setIf(&l.Code, b.Code)
		setIf(&l.Type, b.Type)
		setIf(&l.TimeZone, b.TimeZone)
		setIf(&l.Currency, b.Currency)
		setIf(&l.Status, b.Status)
		setIf(&l.Address, b.Address)
		if b.Names != nil {
			l.Names = b.Names
		}
		if b.Coordinates != nil {
			l.Coordinates = b.Coordinates
		}
	})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &locationOutput{Body: locationBody(l)}, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// SalesChannelBody is a sales channel as shown.
type SalesChannelBody struct {
	ID        string            `json:"id" example:"sch_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Code      string            `json:"code" example:"web-hk"`
	Type      string            `json:"type" enum:"pos,web,app,marketplace,social_commerce,chat_commerce,other"`
	Names     map[string]string `json:"names"`
	Active    bool              `json:"active"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func channelBody(c location.SalesChannel) SalesChannelBody {
	return SalesChannelBody{ID: id.Format(id.Channel, c.ID), Code: c.Code, Type: c.Type, Names: c.Names, Active: c.Active,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type createChannelInput struct {
	Body struct {
		Code   string            `json:"code" minLength:"1" maxLength:"64" doc:"unique; transactions name the sales channel by it"`
		Type   string            `json:"type" enum:"pos,web,app,marketplace,social_commerce,chat_commerce,other"`
		Names  map[string]string `json:"names" doc:"at least one, by language tag"`
		Active *bool             `json:"active,omitempty" default:"true"`
	}
}

type updateChannelInput struct {
	ID   string `path:"id" doc:"sales channel id, sch_…"`
	Body struct {
		Code   *string           `json:"code,omitempty" maxLength:"64"`
		Type   *string           `json:"type,omitempty" enum:"pos,web,app,marketplace,social_commerce,chat_commerce,other"`
		Names  map[string]string `json:"names,omitempty" doc:"replaces all names"`
		Active *bool             `json:"active,omitempty"`
	}
}

type channelIDInput struct {
	ID string `path:"id" doc:"sales channel id, sch_…"`
}

type channelOutput struct{ Body SalesChannelBody }

type listChannelsOutput struct{ Body Page[SalesChannelBody] }

func (s *server) salesChannelRoutes() {
	tags := []string{"Sales channels"}
	huma.Register(s.api, huma.Operation{OperationID: "create-sales-channel", Method: http.MethodPost, Path: "/v1/sales_channels",
		Summary: "Create a sales channel", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "The own web shop or app, a marketplace store, social or chat commerce, or store POS. Every transaction names one."}, s.createChannel)
	huma.Register(s.api, huma.Operation{OperationID: "list-sales-channels", Method: http.MethodGet, Path: "/v1/sales_channels",
		Summary: "List sales channels", Tags: tags, Description: "In code order."}, s.listChannels)
	huma.Register(s.api, huma.Operation{OperationID: "get-sales-channel", Method: http.MethodGet, Path: "/v1/sales_channels/{id}",
		Summary: "Get a sales channel", Tags: tags}, s.getChannel)
	huma.Register(s.api, huma.Operation{OperationID: "update-sales-channel", Method: http.MethodPatch, Path: "/v1/sales_channels/{id}",
		Summary: "Update a sales channel", Tags: tags}, s.updateChannel)
}

func (s *server) createChannel(ctx context.Context, in *createChannelInput) (*channelOutput, error) {
	p, err := principal(ctx, auth.ScopeLocationsWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	active := in.Body.Active == nil || *in.Body.Active
	c, err := s.db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: p.TenantID, Code: in.Body.Code, Type: in.Body.Type,
		Names: in.Body.Names, Active: active})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &channelOutput{Body: channelBody(c)}, nil
}

func (s *server) listChannels(ctx context.Context, in *PageParams) (*listChannelsOutput, error) {
	p, err := principal(ctx, auth.ScopeLocationsRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	cs, err := s.db.FindSalesChannels(ctx, sqldb.SalesChannelFilter{TenantID: p.TenantID, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listChannelsOutput{Body: paginate(cs, in.limit(), func(c location.SalesChannel) string { return c.Code }, channelBody)}, nil
}

func (s *server) getChannel(ctx context.Context, in *channelIDInput) (*channelOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLocationsRead, id.Channel, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.FindSalesChannelByID(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &channelOutput{Body: channelBody(c)}, nil
}

func (s *server) updateChannel(ctx context.Context, in *updateChannelInput) (*channelOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLocationsWrite, id.Channel, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	c, err := s.db.UpdateSalesChannel(ctx, p.TenantID, cid, func(c *location.SalesChannel) {
		setIf(&c.Code, b.Code)
		setIf(&c.Type, b.Type)
		setIf(&c.Active, b.Active)
		if b.Names != nil {
			c.Names = b.Names
		}
	})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &channelOutput{Body: channelBody(c)}, nil
}
