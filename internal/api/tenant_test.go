package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

type tenantJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Settings struct {
		DefaultCountry     string         `json:"default_country"`
		IdentifierLimits   map[string]int `json:"identifier_limits"`
		SourcePriority     map[string]int `json:"source_priority"`
		FlagAfterMerges    int            `json:"flag_after_merges"`
		RateLimitPerSecond int            `json:"rate_limit_per_second"`
	} `json:"settings"`
}

func TestTenant_GetAndUpdate(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		got := decode[tenantJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/tenant", k.Secret, nil, nil))
		if got.ID != id.Format(id.Tenant, k.TenantID) || got.Settings.DefaultCountry != "HK" || got.Settings.RateLimitPerSecond != 1000 {
			t.Errorf("tenant = %+v", got)
		}
		if strings.Contains(got.Name, "pepper") {
			t.Errorf("tenant shows its pepper")
		}

		// Reading national phone numbers follows the default country.
		sg := fullSettings(1000)
		sg["default_country"] = "SG"
		upd := decode[tenantJSON](t, s.must(t, http.StatusOK, http.MethodPatch, "/v1/tenant", k.Secret, map[string]any{"settings": sg}, nil))
		if upd.Settings.DefaultCountry != "SG" {
			t.Fatalf("default_country = %q after PATCH", upd.Settings.DefaultCountry)
		}
		c := s.identify(t, k.Secret, http.StatusCreated, ids("phone", "9123 4567"))
		if len(c.Identifiers.Phones) != 1 || c.Identifiers.Phones[0] != "+6591234567" {
			t.Errorf("phones = %v, want +6591234567 read in SG", c.Identifiers.Phones)
		}
	})
}

func TestTenant_PartialSettingsTakeDefaults(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		r := s.must(t, http.StatusOK, http.MethodPatch, "/v1/tenant", k.Secret, map[string]any{"settings": map[string]any{"rate_limit_per_second": 1}}, nil)
		got := decode[tenantJSON](t, r)
		if got.Settings.RateLimitPerSecond != 1 || got.Settings.DefaultCountry != "HK" || got.Settings.FlagAfterMerges != 3 ||
			got.Settings.IdentifierLimits["email"] != 5 || got.Settings.SourcePriority["console"] != 100 {
			t.Errorf("settings = %+v, want rate 1 and defaults elsewhere", got.Settings)
		}
	})
}

func TestTenant_InvalidSettings(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		with := func(field string, v any) map[string]any {
			st := fullSettings(1000)
			st[field] = v
			return map[string]any{"settings": st}
		}
		cases := []struct {
			name     string
			body     any
			location string
		}{
			{"Country", with("default_country", "XX"), "body.settings.default_country"},
			{"Limit", with("identifier_limits", map[string]int{"email": 0}), "body.settings.identifier_limits.email"},
			{"NegativeRate", with("rate_limit_per_second", -1), "body.settings"},
			{"RateNotNumber", with("rate_limit_per_second", "fast"), "body.settings.rate_limit_per_second"},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					assertFieldError(t, s.do(t, http.MethodPatch, "/v1/tenant", k.Secret, tc.body, nil), tc.location)
				})
			}
		})
		got := decode[tenantJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/tenant", k.Secret, nil, nil))
		if got.Settings.DefaultCountry != "HK" || got.Settings.RateLimitPerSecond != 1000 {
			t.Errorf("invalid PATCHes changed the settings: %+v", got.Settings)
		}
	})
}
