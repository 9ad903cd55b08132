package api_test

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/api"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func TestOps_HealthAndDocs(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)

		if r := s.must(t, http.StatusOK, http.MethodGet, "/healthz", "", nil, nil); r.JSON["status"] != "ok" {
			t.Errorf("healthz: %s", r)
		}
		if r := s.must(t, http.StatusOK, http.MethodGet, "/readyz", "", nil, nil); r.JSON["database"] != "ok" || r.JSON["jobs"] != "ok" {
			t.Errorf("readyz: %s", r)
		}

		oa := s.must(t, http.StatusOK, http.MethodGet, "/openapi.json", "", nil, nil)
		if v, _ := oa.JSON["openapi"].(string); !strings.HasPrefix(v, "3.1") {
			t.Errorf("openapi = %q, want 3.1.x", v)
		}
		paths, _ := oa.JSON["paths"].(map[string]any)
		for _, p := range []string{"/v1/customers", "/v1/customers/{id}", "/v1/keys", "/v1/tenant"} {
			if _, ok := paths[p]; !ok {
				t.Errorf("openapi.json lacks %s", p)
			}
		}

		docs := s.must(t, http.StatusOK, http.MethodGet, "/docs", "", nil, nil)
		if ct := docs.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("/docs Content-Type = %q", ct)
		}
		html := string(docs.Raw)
		for _, want := range []string{"<html", "/v1/customers", "/v1/customers/{id}/audit", "/openapi.json"} {
			if !strings.Contains(html, want) {
				t.Errorf("/docs does not mention %q", want)
			}
		}
		// Every operation of the document is on the page.
		for _, op := range openAPIOperations(t, s) {
			_, path, _ := strings.Cut(op, " ")
			if !strings.Contains(html, "<code>"+path+"</code>") {
				t.Errorf("/docs lacks %s", op)
			}
		}
	})
}

func TestOps_NotReady(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db, func(d *api.Deps) { d.Ready = func() error { return errors.New("workers stopped") } })
		r := s.must(t, http.StatusServiceUnavailable, http.MethodGet, "/readyz", "", nil, nil)
		if r.JSON["jobs"] != "workers stopped" || r.JSON["database"] != "ok" {
			t.Errorf("readyz: %s", r)
		}
		s.must(t, http.StatusOK, http.MethodGet, "/healthz", "", nil, nil)
	})
}

var generatedRequestID = regexp.MustCompile(`^req_[0-9a-f]{24}$`)

func TestOps_RequestID(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		cases := []struct {
			name         string
			method, path string
			key          string
			sent         string // X-Request-Id sent; "" sends none
			echoed       bool
		}{
			{"Generated", http.MethodGet, "/v1/tenant", k.Secret, "", false},
			{"GeneratedOnProblem", http.MethodGet, "/v1/tenant", "", "", false},
			{"GeneratedOnPublic", http.MethodGet, "/healthz", "", "", false},
			{"Echoed", http.MethodGet, "/v1/tenant", k.Secret, "pos-7:till-3.req_0001", true},
			{"EchoedOnProblem", http.MethodGet, "/v1/customers/cus_nope", k.Secret, "abc-123", true},
			{"EchoedOn401", http.MethodGet, "/v1/tenant", "", "abc-124", true},
			{"EchoedMaxLength", http.MethodGet, "/healthz", "", strings.Repeat("a", 64), true},
			{"TooLong", http.MethodGet, "/healthz", "", strings.Repeat("a", 65), false},
			{"Spaces", http.MethodGet, "/healthz", "", "a b", false},
			{"HeaderInjection", http.MethodGet, "/healthz", "", "a<script>", false},
			{"NonASCII", http.MethodGet, "/healthz", "", "réq", false},
		}
		seen := map[string]bool{}
		for _, tc := range cases {
			hdr := h{}
			if tc.sent != "" {
				hdr["X-Request-Id"] = tc.sent
			}
			r := s.do(t, tc.method, tc.path, tc.key, nil, hdr)
			got := r.Header.Get("X-Request-Id")
			switch {
			case tc.echoed && got != tc.sent:
				t.Errorf("%s: X-Request-Id = %q, want %q echoed", tc.name, got, tc.sent)
			case !tc.echoed && !generatedRequestID.MatchString(got):
				t.Errorf("%s: X-Request-Id = %q, want a generated req_… id", tc.name, got)
			}
			if !tc.echoed {
				if seen[got] {
					t.Errorf("%s: request id %q reused", tc.name, got)
				}
				seen[got] = true
			}
		}
	})
}
