package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/api"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// bigBody is a JSON identify body of more than api.DefaultBodyLimit bytes.
func bigBody() []byte {
	pad := strings.Repeat("x", api.DefaultBodyLimit)
	return []byte(`{"identifiers":{"email":"big@omo-shop.hk"},"traits":{"attributes":{"pad":"` + pad + `"}}}`)
}

func TestLimits_BodyTooLarge(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		big := bigBody()
		cases := []struct {
			name    string
			body    func() any
			headers h
		}{
			{"KnownLength", func() any { return big }, nil},
			{"Chunked", func() any { return io.MultiReader(bytes.NewReader(big)) }, nil},
			{"KnownLengthIdempotent", func() any { return big }, h{"Idempotency-Key": "big-1"}},
			{"ChunkedIdempotent", func() any { return io.MultiReader(bytes.NewReader(big)) }, h{"Idempotency-Key": "big-2"}},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					assertProblem(t, s.do(t, http.MethodPost, "/v1/customers", k.Secret, tc.body(), tc.headers), http.StatusRequestEntityTooLarge)
				})
			}
		})
		list := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(list.Data) != 0 {
			t.Errorf("an oversized body created %d customers", len(list.Data))
		}
		// Just under the limit is read (and answered on its merits).
		small := []byte(`{"identifiers":{"email":"` + email("small") + `"},"traits":{"attributes":{"pad":"`)
		pad := api.DefaultBodyLimit - len(small) - len(`"}}}`) - 1
		small = append(small, []byte(strings.Repeat("y", pad)+`"}}}`)...)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", k.Secret, small, nil)
	})
}

func TestLimits_CustomBodyLimit(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db, func(d *api.Deps) { d.BodyLimit = 200 })
		k := s.newTenant(t)
		body := ids("email", email("limit"))
		body["traits"] = map[string]any{"first_name": strings.Repeat("n", 200)}
		assertProblem(t, s.do(t, http.MethodPost, "/v1/customers", k.Secret, body, nil), http.StatusRequestEntityTooLarge)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", k.Secret, ids("email", email("limit")), nil)
	})
}

func TestLimits_UnknownRoute(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		for _, c := range []struct{ method, path, key string }{
			{http.MethodGet, "/v1/no-such-thing", k.Secret},
			{http.MethodPost, "/v1/no-such-thing", k.Secret},
			{http.MethodGet, "/v1/customers/cus_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f/nope", k.Secret},
			{http.MethodGet, "/v2/customers", ""},
			{http.MethodGet, "/nope", ""},
		} {
			assertProblem(t, s.do(t, c.method, c.path, c.key, nil, nil), http.StatusNotFound)
		}
		// A well-formed id that does not exist, and an id that cannot exist.
		for _, p := range []string{"/v1/customers/cus_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f", "/v1/customers/not-an-id", "/v1/keys/key_nope"} {
			assertProblem(t, s.do(t, http.MethodGet, p, k.Secret, nil, nil), http.StatusNotFound)
		}
	})
}

func TestLimits_RateLimitPerKey(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)
		r := s.must(t, http.StatusOK, http.MethodPatch, "/v1/tenant", admin.Secret, map[string]any{"settings": fullSettings(1)}, nil)
		if got := decode[struct {
			Settings struct {
				RateLimitPerSecond int `json:"rate_limit_per_second"`
			} `json:"settings"`
		}](t, r); got.Settings.RateLimitPerSecond != 1 {
			t.Fatalf("rate_limit_per_second = %d after PATCH: %s", got.Settings.RateLimitPerSecond, r)
		}

		k := s.newKey(t, admin.TenantID)
		var ok, limited int
		for range 8 {
			r := s.do(t, http.MethodGet, "/v1/tenant", k.Secret, nil, nil)
			switch r.Status {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				limited++
				assertProblem(t, r, http.StatusTooManyRequests)
				ra := r.Header.Get("Retry-After")
				if n, err := strconv.Atoi(ra); err != nil || n < 1 {
					t.Errorf("%s: Retry-After = %q, want whole seconds >= 1", r, ra)
				}
			default:
				t.Fatalf("unexpected %s", r)
			}
		}
		if ok == 0 || limited == 0 {
			t.Errorf("%d allowed, %d limited: want the burst to be cut short", ok, limited)
		}
		// The limit is per key: another key of the tenant is not held back.
		other := s.newKey(t, admin.TenantID)
		s.must(t, http.StatusOK, http.MethodGet, "/v1/tenant", other.Secret, nil, nil)
	})
}
