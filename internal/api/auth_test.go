package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func TestAuth_Unauthorized(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)

		// Revoked before it was ever used: nothing can be cached.
		revokedCold := s.newKey(t, admin.TenantID)
		if _, err := db.RevokeKey(context.Background(), admin.TenantID, revokedCold.KeyID); err != nil {
			t.Fatal(err)
		}
		// Used, then revoked through the API: the process forgets it at once.
		revokedWarm := s.newKey(t, admin.TenantID)
		s.must(t, http.StatusOK, http.MethodGet, "/v1/tenant", revokedWarm.Secret, nil, nil)
		s.must(t, http.StatusOK, http.MethodDelete, "/v1/keys/"+revokedWarm.PublicKeyID(), admin.Secret, nil, nil)

		cases := []struct {
			name          string
			authorization string // the whole header; "" sends none
		}{
			{"Missing", ""},
			{"EmptyBearer", "Bearer "},
			{"NotBearer", "Basic " + admin.Secret},
			{"Garbage", "Bearer garbage"},
			{"UnknownSecretKey", "Bearer sk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			{"UnknownPublishableKey", "Bearer pk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			{"TruncatedKey", "Bearer " + admin.Secret[:len(admin.Secret)-1]},
			{"RevokedBeforeUse", "Bearer " + revokedCold.Secret},
			{"RevokedAfterUse", "Bearer " + revokedWarm.Secret},
		}
		paths := []struct{ method, path string }{
			{http.MethodGet, "/v1/customers"},
			{http.MethodPost, "/v1/customers"},
			{http.MethodGet, "/v1/tenant"},
			{http.MethodGet, "/v1/no-such-route"},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					for _, p := range paths {
						hdr := h{}
						if tc.authorization != "" {
							hdr["Authorization"] = tc.authorization
						}
						var body any
						if p.method == http.MethodPost {
							body = ids("email", email("auth"))
						}
						r := s.do(t, p.method, p.path, "", body, hdr)
						assertProblem(t, r, http.StatusUnauthorized)
						if wa := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") {
							t.Errorf("%s: WWW-Authenticate = %q, want a Bearer challenge", r, wa)
						}
					}
				})
			}
		})

		// Nothing was created by the rejected requests.
		got := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", admin.Secret, nil, nil))
		if len(got.Data) != 0 {
			t.Errorf("rejected requests created %d customers", len(got.Data))
		}
	})
}

func TestAuth_ForbiddenWithoutScope(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)
		cus := s.identify(t, admin.Secret, http.StatusCreated, ids("email", email("scope")))
		reader := s.newKey(t, admin.TenantID, "customers:read")
		writer := s.newKey(t, admin.TenantID, "customers:write")
		tenantReader := s.newKey(t, admin.TenantID, "tenant:read")

		cases := []struct {
			name         string
			key          caller
			method, path string
			body         any
		}{
			{"ReadKeyIdentifies", reader, http.MethodPost, "/v1/customers", ids("email", email("scope"))},
			{"ReadKeyPatches", reader, http.MethodPatch, "/v1/customers/" + cus.ID, map[string]any{"traits": map[string]any{"first_name": "X"}}},
			{"ReadKeyErases", reader, http.MethodDelete, "/v1/customers/" + cus.ID, nil},
			{"ReadKeyRecordsConsent", reader, http.MethodPost, "/v1/customers/" + cus.ID + "/consents",
				map[string]any{"consents": []map[string]any{{"message_channel": "email", "purpose": "marketing", "status": "granted"}}}},
			{"ReadKeyUnmerges", reader, http.MethodPost, "/v1/customers/" + cus.ID + "/unmerge", map[string]any{}},
			{"ReadKeyMintsKey", reader, http.MethodPost, "/v1/keys", map[string]any{"scopes": []string{"customers:read"}}},
			{"ReadKeyListsKeys", reader, http.MethodGet, "/v1/keys", nil},
			{"ReadKeyReadsTenant", reader, http.MethodGet, "/v1/tenant", nil},
			{"WriteKeyReadsCustomer", writer, http.MethodGet, "/v1/customers/" + cus.ID, nil},
			{"WriteKeySearches", writer, http.MethodGet, "/v1/customers", nil},
			{"TenantReaderChangesSettings", tenantReader, http.MethodPatch, "/v1/tenant", map[string]any{"settings": fullSettings(1000)}},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					r := s.do(t, tc.method, tc.path, tc.key.Secret, tc.body, nil)
					assertProblem(t, r, http.StatusForbidden)
					if r.Header.Get("WWW-Authenticate") != "" {
						t.Errorf("%s: a valid key lacking a scope got a WWW-Authenticate challenge", r)
					}
				})
			}
		})

		// The customer is untouched by the forbidden writes.
		got := decode[customerJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cus.ID, reader.Secret, nil, nil))
		if got.ErasedAt != nil || got.Traits["first_name"] != nil || len(got.Consents) != 0 {
			t.Errorf("forbidden requests changed the customer: %+v", got)
		}
	})
}

func TestAuth_KeyCannotMintScopesItLacks(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)
		minter := s.newKey(t, admin.TenantID, "keys:write", "keys:read", "customers:read")

		cases := []struct {
			name   string
			scopes []string
			status int
		}{
			{"ScopeItHolds", []string{"customers:read"}, http.StatusCreated},
			{"KeysWriteItHolds", []string{"keys:write"}, http.StatusCreated},
			{"ScopeItLacks", []string{"customers:write"}, http.StatusForbidden},
			{"OneOfTwoLacking", []string{"customers:read", "tenant:write"}, http.StatusForbidden},
			{"Everything", []string{"*"}, http.StatusForbidden},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					r := s.do(t, http.MethodPost, "/v1/keys", minter.Secret, map[string]any{"name": tc.name, "scopes": tc.scopes}, nil)
					if tc.status != http.StatusCreated {
						assertProblem(t, r, tc.status)
						return
					}
					if r.Status != tc.status {
						t.Fatalf("want %d, got %s", tc.status, r)
					}
					k := decode[struct {
						ID     string   `json:"id"`
						Kind   string   `json:"kind"`
						Scopes []string `json:"scopes"`
						Secret string   `json:"secret"`
					}](t, r)
					if !strings.HasPrefix(k.Secret, "sk_") || !strings.HasPrefix(k.ID, "key_") || k.Kind != "sk" {
						t.Errorf("minted key looks wrong: %s", r)
					}
					if !slices.Equal(k.Scopes, tc.scopes) {
						t.Errorf("scopes = %v, want %v", k.Scopes, tc.scopes)
					}
					// The secret works and is never shown again.
					again := s.must(t, http.StatusOK, http.MethodGet, "/v1/keys/"+k.ID, minter.Secret, nil, nil)
					if _, ok := again.JSON["secret"]; ok {
						t.Errorf("GET shows the secret again: %s", again)
					}
				})
			}
		})

		// Nothing was minted by the refused requests.
		keys := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/keys", minter.Secret, nil, nil))
		if want := 2 + 2; len(keys.Data) != want { // admin, minter, and the two allowed
			t.Errorf("tenant has %d keys, want %d", len(keys.Data), want)
		}
	})
}

func TestAuth_UnknownScopeIsFieldError(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)
		cases := []struct {
			name   string
			scopes []string
		}{
			{"Unknown", []string{"customers:delete"}},
			{"Empty", []string{}},
			{"OnlyBlank", []string{" "}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				r := s.do(t, http.MethodPost, "/v1/keys", admin.Secret, map[string]any{"scopes": tc.scopes}, nil)
				p := assertProblem(t, r, http.StatusBadRequest)
				if len(p.Errors) == 0 || !strings.HasPrefix(p.Errors[0].Location, "body.scopes") {
					t.Errorf("%s: want a field error at body.scopes, got %v", r, p.Locations())
				}
			})
		}
	})
}
