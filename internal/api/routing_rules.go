package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// RoutingRulesBody is one version of a tenant's sourcing rules.
type RoutingRulesBody struct {
	Version     int            `json:"version" doc:"from 1; 0 is the built-in default of a tenant that has activated none"`
	Status      string         `json:"status" enum:"active,draft,retired"`
	Rules       RoutingRuleSet `json:"rules"`
	Note        string         `json:"note"`
	Actor       string         `json:"actor" doc:"who wrote this version"`
	CreatedAt   *time.Time     `json:"created_at" doc:"null for the built-in default"`
	ActivatedAt *time.Time     `json:"activated_at" doc:"the last time this version became active"`
	ActivatedBy string         `json:"activated_by,omitempty"`
}

func routingRulesBody(v sqldb.RoutingRuleVersion) RoutingRulesBody {
	b := RoutingRulesBody{Version: v.Version, Status: v.Status, Rules: routingRuleSet(v.Rules), Note: v.Note, Actor: v.Actor,
		ActivatedAt: v.ActivatedAt, ActivatedBy: v.ActivatedBy}
	if !v.CreatedAt.IsZero() {
		b.CreatedAt = &v.CreatedAt
	}
	return b
}

// RoutingRulesRequest is a new version of the rules.
type RoutingRulesRequest struct {
	Rules RoutingRuleSet `json:"rules" doc:"allowed_types per delivery method (ship, click_collect, ship_to_store, take_now), stay_in_market and cross_border_types, ranking (location codes), strategy (ordered: fewest_shipments, rank, distance, capacity), allow_split, max_shipments, respect_capacity"`
	Note  string         `json:"note,omitempty" maxLength:"500" doc:"what changed and why"`
}

type routingRulesInput struct{ Body RoutingRulesRequest }

type routingRulesOutput struct{ Body RoutingRulesBody }

type routingVersionInput struct {
	Version int `path:"version" minimum:"1" doc:"version number"`
}

type routingVersionsInput struct{ PageParams }

type routingVersionsOutput struct{ Body Page[RoutingRulesBody] }

// LocationCapacityBody is a location's daily capacity and its use today.
type LocationCapacityBody struct {
	LocationID    string `json:"location_id"`
	LocationCode  string `json:"location_code"`
	DailyCapacity int64  `json:"daily_capacity" doc:"orders a day; 0 is no limit"`
	Day           string `json:"day" doc:"today in the location's time zone" example:"2026-03-10"`
	UsedToday     int64  `json:"used_today"`
}

func locationCapacityBody(c sqldb.LocationCapacity) LocationCapacityBody {
	return LocationCapacityBody{LocationID: id.Format(id.Location, c.LocationID), LocationCode: c.LocationCode,
		DailyCapacity: c.DailyCapacity, Day: c.Day, UsedToday: c.UsedToday}
}

type locationCapacityInput struct {
	ID   string `path:"id" doc:"location id, loc_…"`
	Body struct {
		DailyCapacity int64 `json:"daily_capacity" minimum:"0" maximum:"1000000" doc:"orders the location fulfils per local day; 0 is no limit"`
	}
}

type locationCapacityOutput struct{ Body LocationCapacityBody }

func (s *server) routingRuleRoutes() {
	tags := []string{"Order routing"}
	huma.Register(s.api, huma.Operation{OperationID: "get-routing-rules", Method: http.MethodGet, Path: "/v1/routing/rules",
		Summary: "Get the active sourcing rules", Tags: tags,
		Description: "The rules checkout routes orders by; the built-in default (version 0) until the brand activates its own."}, s.getRoutingRules)
	huma.Register(s.api, huma.Operation{OperationID: "replace-routing-rules", Method: http.MethodPut, Path: "/v1/routing/rules",
		Summary: "Replace the active sourcing rules", Tags: tags,
		Description: "Stores the rules as a new version and makes it active at once; the version it replaces is kept (retired)."}, s.replaceRoutingRules)
	huma.Register(s.api, huma.Operation{OperationID: "create-routing-rules-draft", Method: http.MethodPost, Path: "/v1/routing/rules/drafts",
		Summary: "Save a draft of the sourcing rules", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "A new version that routes nothing until activated; try it with POST /v1/routing/test and /v1/routing/simulate."}, s.createRoutingDraft)
	huma.Register(s.api, huma.Operation{OperationID: "list-routing-rules-versions", Method: http.MethodGet, Path: "/v1/routing/rules/versions",
		Summary: "List every version of the sourcing rules", Tags: tags, Description: "Newest first."}, s.listRoutingVersions)
	huma.Register(s.api, huma.Operation{OperationID: "get-routing-rules-version", Method: http.MethodGet, Path: "/v1/routing/rules/versions/{version}",
		Summary: "Get one version of the sourcing rules", Tags: tags}, s.getRoutingVersion)
	huma.Register(s.api, huma.Operation{OperationID: "activate-routing-rules-version", Method: http.MethodPost,
		Path: "/v1/routing/rules/versions/{version}/activate", Summary: "Activate a version of the sourcing rules", Tags: tags,
		Description: "A draft goes live, or a retired version comes back (a rollback). Activating the active version changes nothing."}, s.activateRoutingVersion)
	huma.Register(s.api, huma.Operation{OperationID: "get-location-capacity", Method: http.MethodGet, Path: "/v1/locations/{id}/capacity",
		Summary: "Get a location's daily capacity", Tags: tags}, s.getLocationCapacity)
	huma.Register(s.api, huma.Operation{OperationID: "set-location-capacity", Method: http.MethodPut, Path: "/v1/locations/{id}/capacity",
		Summary: "Set a location's daily capacity", Tags: tags,
		Description: "How many orders the location fulfils per local day. Rules with respect_capacity skip a location that used it up."}, s.setLocationCapacity)
	s.routingPlanRoutes()
}

func (s *server) getRoutingRules(ctx context.Context, _ *struct{}) (*routingRulesOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	v, err := s.db.ActiveRoutingRuleVersion(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &routingRulesOutput{Body: routingRulesBody(v)}, nil
}

func (s *server) replaceRoutingRules(ctx context.Context, in *routingRulesInput) (*routingRulesOutput, error) {
	return s.saveRoutingRules(ctx, in.Body, true)
}

func (s *server) createRoutingDraft(ctx context.Context, in *routingRulesInput) (*routingRulesOutput, error) {
	return s.saveRoutingRules(ctx, in.Body, false)
}

func (s *server) saveRoutingRules(ctx context.Context, b RoutingRulesRequest, activate bool) (*routingRulesOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	rules := b.Rules.rules()
	if err := rules.Validate("body.rules"); err != nil {
		return nil, s.problem(ctx, err)
	}
	v, err := s.db.CreateRoutingRules(ctx, sqldb.RoutingRulesParams{TenantID: p.TenantID, Rules: rules, Note: b.Note, Activate: activate},
		actor(ctx, p))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &routingRulesOutput{Body: routingRulesBody(v)}, nil
}

func (s *server) listRoutingVersions(ctx context.Context, in *routingVersionsInput) (*routingVersionsOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	before := 0
	if after != "" {
		if before, err = strconv.Atoi(after); err != nil || before < 1 {
			return nil, s.problem(ctx, apperr.Field("query.cursor", "not a cursor returned by this API", in.Cursor))
		}
	}
	vs, err := s.db.FindRoutingRuleVersions(ctx, sqldb.RoutingRuleFilter{TenantID: p.TenantID, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &routingVersionsOutput{Body: paginate(vs, in.limit(),
		func(v sqldb.RoutingRuleVersion) string { return strconv.Itoa(v.Version) }, routingRulesBody)}, nil
}

func (s *server) getRoutingVersion(ctx context.Context, in *routingVersionInput) (*routingRulesOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	v, err := s.db.FindRoutingRuleVersion(ctx, p.TenantID, in.Version)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &routingRulesOutput{Body: routingRulesBody(v)}, nil
}

func (s *server) activateRoutingVersion(ctx context.Context, in *routingVersionInput) (*routingRulesOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	v, err := s.db.ActivateRoutingRules(ctx, p.TenantID, in.Version, actor(ctx, p))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &routingRulesOutput{Body: routingRulesBody(v)}, nil
}

func (s *server) getLocationCapacity(ctx context.Context, in *locationIDInput) (*locationCapacityOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeOrdersRead, id.Location, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.FindLocationCapacity(ctx, p.TenantID, lid, s.db.Now())
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &locationCapacityOutput{Body: locationCapacityBody(c)}, nil
}

func (s *server) setLocationCapacity(ctx context.Context, in *locationCapacityInput) (*locationCapacityOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Location, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.SetLocationCapacity(ctx, p.TenantID, lid, in.Body.DailyCapacity)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &locationCapacityOutput{Body: locationCapacityBody(c)}, nil
}
