package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// FuzzIdentifyBody feeds arbitrary bodies to POST /v1/customers through the
// whole stack (huma's JSON decoding and validation, normalisers, storage).
// Whatever the input, the answer is a 2xx or a 4xx problem, never a 5xx.
func FuzzIdentifyBody(f *testing.F) {
	for _, s := range []string{
		`{"identifiers":{"email":"a@shop.hk"}}`,
		`{"identifiers":{"phone":"9123 4567","external":[{"type":"pos","value":"C-1"}]},"traits":{"first_name":"Mei","attributes":{"vip":true}}}`,
		`{"identifiers":{"email":"test@test.com","card_number":"0000"}}`,
		`{"identifiers":{"email":"x@y.z"},"consents":[{"message_channel":"sms","purpose":"marketing","status":"granted"}]}`,
		`{"identifiers":{}}`, `{}`, `[]`, `null`, `{"identifiers":{"email":"\u0000@a.b"}}`,
		`{"identifiers":{"email":"a@b.co"},"traits":{"birthday":"--02-29","first_name":"\u0000"}}`,
	} {
		f.Add([]byte(s))
	}
	db := sqldbtest.Open(f, sqldb.SQLite)
	tn := sqldbtest.Tenant(f, db)
	_, key, err := db.CreateKey(context.Background(), sqldb.KeyParams{TenantID: tn.ID, Kind: auth.Secret, Scopes: []string{auth.ScopeAll}})
	if err != nil {
		f.Fatal(err)
	}
	h := NewHandler(Deps{DB: db})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/customers", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q: status %d: %s", body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("body %q: error without problem JSON: %d %s", body, rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}

// FuzzCursor checks that any cursor is either a page or a 400.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "AAAA", "%%%", "MDE5MGYwYzI"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		p := PageParams{Cursor: c}
		if _, err := p.after(); err != nil && len(c) == 0 {
			t.Fatalf("empty cursor rejected: %v", err)
		}
	})
}
