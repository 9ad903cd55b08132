package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/nyaruka/phonenumbers"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
)

// TenantBody is the calling key's tenant.
type TenantBody struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Settings  tenant.Settings `json:"settings"`
	CreatedAt time.Time       `json:"created_at"`
}

type tenantOutput struct{ Body TenantBody }

type updateTenantInput struct {
	Body struct {
		Settings tenant.Settings `json:"settings" doc:"replaces the settings; omitted fields take their defaults"`
	}
}

func (s *server) tenantRoutes() {
	huma.Register(s.api, huma.Operation{OperationID: "get-tenant", Method: http.MethodGet, Path: "/v1/tenant",
		Summary: "Get this tenant and its settings", Tags: []string{"Tenant"}}, s.getTenant)
	huma.Register(s.api, huma.Operation{OperationID: "update-tenant", Method: http.MethodPatch, Path: "/v1/tenant",
		Summary: "Change this tenant's settings", Tags: []string{"Tenant"},
		Description: "Default phone country, per-customer identifier limits, source priorities, the shared-identifier flag threshold and the per-key rate limit."}, s.updateTenant)
}

func (s *server) getTenant(ctx context.Context, _ *struct{}) (*tenantOutput, error) {
	p, err := principal(ctx, auth.ScopeTenantRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t, err := s.db.FindTenantByID(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &tenantOutput{Body: tenantBody(t)}, nil
}

func (s *server) updateTenant(ctx context.Context, in *updateTenantInput) (*tenantOutput, error) {
	p, err := principal(ctx, auth.ScopeTenantWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	st := in.Body.Settings
	if err := validateSettings(st); err != nil {
		return nil, s.problem(ctx, err)
	}
	t, err := s.db.UpdateTenantSettings(ctx, p.TenantID, st)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	s.auth.resetLimiters()
	return &tenantOutput{Body: tenantBody(t)}, nil
}

func validateSettings(st tenant.Settings) error {
	var fields []apperr.FieldError
	if c := strings.ToUpper(st.DefaultCountry); c != "" && phonenumbers.GetCountryCodeForRegion(c) == 0 {
		fields = append(fields, apperr.FieldError{Location: "body.settings.default_country", Message: "not an ISO 3166 region with phone numbers", Value: st.DefaultCountry})
	}
	for k, v := range st.IdentifierLimits {
		if v < 1 || v > 1000 {
			fields = append(fields, apperr.FieldError{Location: "body.settings.identifier_limits." + k, Message: "must be between 1 and 1000", Value: v})
		}
	}
	if st.FlagAfterMerges < 0 || st.RateLimitPerSecond < 0 {
		fields = append(fields, apperr.FieldError{Location: "body.settings", Message: "flag_after_merges and rate_limit_per_second cannot be negative"})
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "invalid settings", Fields: fields}
	}
	return nil
}

func tenantBody(t tenant.Tenant) TenantBody {
	return TenantBody{ID: id.Format(id.Tenant, t.ID), Name: t.Name, Settings: t.Settings, CreatedAt: t.CreatedAt}
}
