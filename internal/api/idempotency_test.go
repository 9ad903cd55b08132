package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func TestIdempotency_ReplaysSameRequest(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		body := []byte(`{"identifiers":{"email":"` + email("idem") + `"},"traits":{"first_name":"Ida"}}`)
		hdr := h{"Idempotency-Key": "order-1001"}

		first := s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", k.Secret, body, hdr)
		if v := first.Header.Get("Idempotent-Replayed"); v != "" {
			t.Errorf("first answer has Idempotent-Replayed: %q", v)
		}
		for i := range 2 {
			again := s.do(t, http.MethodPost, "/v1/customers", k.Secret, body, hdr)
			if again.Status != first.Status || !bytes.Equal(again.Raw, first.Raw) {
				t.Errorf("replay %d: got %s, want %s", i, again, first)
			}
			if v := again.Header.Get("Idempotent-Replayed"); v != "true" {
				t.Errorf("replay %d: Idempotent-Replayed = %q, want true", i, v)
			}
			if ct := again.Header.Get("Content-Type"); ct != first.Header.Get("Content-Type") {
				t.Errorf("replay %d: Content-Type %q, first was %q", i, ct, first.Header.Get("Content-Type"))
			}
		}
		list := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(list.Data) != 1 {
			t.Errorf("tenant has %d customers, want 1", len(list.Data))
		}
		audit := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+list.Data[0].ID+"/audit", k.Secret, nil, nil))
		if len(audit.Data) != 1 {
			t.Errorf("audit has %d entries, want 1 (replays apply nothing): %+v", len(audit.Data), audit.Data)
		}

		// Keys are per tenant: another tenant's same key is a new request.
		other := s.newTenant(t)
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", other.Secret, body, hdr)
		if r.Header.Get("Idempotent-Replayed") != "" || bytes.Equal(r.Raw, first.Raw) {
			t.Errorf("another tenant got tenant A's stored answer: %s", r)
		}

		// The same key with another body, or on another route, is refused.
		for _, c := range []struct{ method, path, body string }{
			{http.MethodPost, "/v1/customers", `{"identifiers":{"email":"` + email("idem") + `"}}`},
			{http.MethodPost, "/v1/customers", string(body) + " "},
			{http.MethodPatch, "/v1/customers/" + list.Data[0].ID, `{"traits":{"first_name":"Ida"}}`},
			{http.MethodPost, "/v1/customers?x=1", string(body)},
		} {
			r := s.do(t, c.method, c.path, k.Secret, c.body, hdr)
			assertProblem(t, r, http.StatusUnprocessableEntity)
		}
		list = decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(list.Data) != 1 {
			t.Errorf("tenant has %d customers after refused requests, want 1", len(list.Data))
		}
	})
}

func TestIdempotency_ReplaysEveryMethod(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		c := s.identify(t, k.Secret, http.StatusCreated, ids("email", email("methods")))
		other := s.identify(t, k.Secret, http.StatusCreated, ids("email", email("methods")))
		cases := []struct {
			name         string
			method, path string
			body         any
			status       int
		}{
			{"Patch", http.MethodPatch, "/v1/customers/" + c.ID, map[string]any{"traits": map[string]any{"first_name": "Pat"}}, http.StatusOK},
			{"Consents", http.MethodPost, "/v1/customers/" + c.ID + "/consents", consentBody, http.StatusCreated},
			{"Delete", http.MethodDelete, "/v1/customers/" + other.ID, nil, http.StatusOK},
			{"ClientError", http.MethodPost, "/v1/customers", ids("email", "bad@"), http.StatusBadRequest},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				hdr := h{"Idempotency-Key": "every-" + tc.name}
				first := s.must(t, tc.status, tc.method, tc.path, k.Secret, tc.body, hdr)
				again := s.must(t, tc.status, tc.method, tc.path, k.Secret, tc.body, hdr)
				if !bytes.Equal(first.Raw, again.Raw) || again.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("not replayed:\n%s\n%s", first, again)
				}
			})
		}
	})
}

// requestHash is how the API fingerprints a request under an Idempotency-Key:
// method, request URI and body.
func requestHash(method, requestURI string, body []byte) string {
	sum := sha256.New()
	sum.Write([]byte(method + " " + requestURI + "\n"))
	sum.Write(body)
	return hex.EncodeToString(sum.Sum(nil))
}

func TestIdempotency_InFlightIsConflict(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		ctx := context.Background()
		s := newServer(t, db)
		k := s.newTenant(t)
		body := []byte(`{"identifiers":{"email":"` + email("inflight") + `"}}`)
		req := sqldb.IdempotentRequest{TenantID: k.TenantID, Key: "in-flight-1", Hash: requestHash(http.MethodPost, "/v1/customers", body),
			Method: http.MethodPost, Path: "/v1/customers"}
		// Another process holds the key: it began the same request and has not answered.
		if stored, err := db.BeginIdempotent(ctx, req); err != nil || stored != nil {
			t.Fatalf("BeginIdempotent = %v, %v", stored, err)
		}
		r := s.do(t, http.MethodPost, "/v1/customers", k.Secret, body, h{"Idempotency-Key": req.Key})
		assertProblem(t, r, http.StatusConflict)
		if ra := r.Header.Get("Retry-After"); ra == "" {
			t.Errorf("%s: no Retry-After", r)
		}
		list := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(list.Data) != 0 {
			t.Errorf("the conflicting request created %d customers", len(list.Data))
		}
		// A different body under the held key is still a different request.
		other := []byte(`{"identifiers":{"email":"` + email("inflight") + `"}}`)
		assertProblem(t, s.do(t, http.MethodPost, "/v1/customers", k.Secret, other, h{"Idempotency-Key": req.Key}), http.StatusUnprocessableEntity)

		// The first attempt finishes: its answer is what a retry gets.
		stored := sqldb.StoredResponse{Status: http.StatusCreated, Body: []byte(`{"id":"from-the-first-attempt"}`), ContentType: "application/json"}
		if err := db.FinishIdempotent(ctx, req, stored, ""); err != nil {
			t.Fatal(err)
		}
		r = s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", k.Secret, body, h{"Idempotency-Key": req.Key})
		if !bytes.Equal(r.Raw, stored.Body) || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry after the first attempt finished: %s", r)
		}
	})
}

func TestIdempotency_GetIgnoresKey(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		hdr := h{"Idempotency-Key": "shared-key"}
		c := s.identify(t, k.Secret, http.StatusCreated, ids("email", email("get")))
		// The key is now taken by a POST; GETs with it neither replay nor conflict.
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/customers/"+c.ID, k.Secret, map[string]any{"traits": map[string]any{"first_name": "One"}}, hdr)
		for _, name := range []string{"One", "Two"} {
			if name == "Two" {
				s.must(t, http.StatusOK, http.MethodPatch, "/v1/customers/"+c.ID, k.Secret, map[string]any{"traits": map[string]any{"first_name": "Two"}}, nil)
			}
			r := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+c.ID, k.Secret, nil, hdr)
			if r.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("GET replayed: %s", r)
			}
			if got := decode[customerJSON](t, r); got.Traits["first_name"] != name {
				t.Errorf("GET shows first_name %v, want %s (a stale answer was served)", got.Traits["first_name"], name)
			}
		}
		list := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, h{"Idempotency-Key": "list-key"})
		var p page[json.RawMessage]
		if err := json.Unmarshal(list.Raw, &p); err != nil || len(p.Data) != 1 {
			t.Errorf("list with Idempotency-Key: %s", list)
		}
	})
}

func TestIdempotency_KeyTooLong(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		r := s.do(t, http.MethodPost, "/v1/customers", k.Secret, ids("email", email("long")), h{"Idempotency-Key": strings.Repeat("k", 256)})
		assertProblem(t, r, http.StatusBadRequest)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", k.Secret, ids("email", email("long")), h{"Idempotency-Key": strings.Repeat("k", 255)})
	})
}

// An API key's secret is shown once and only its hash is stored (GUIDE §5,
// the create-key operation's description).
func TestIdempotency_KeySecretNotStored(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/keys", k.Secret, map[string]any{"scopes": []string{"customers:read"}},
			h{"Idempotency-Key": "mint-1"})
		secret, _ := r.JSON["secret"].(string)
		if !strings.HasPrefix(secret, "sk_") {
			t.Fatalf("no secret in %s", r)
		}
		var stored []byte
		if err := db.Read().QueryRow(context.Background(), `SELECT response_body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
			k.TenantID, "mint-1").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(secret)) {
			t.Errorf("the new key's secret is stored in clear in idempotency_keys.response_body")
		}
	})
}
