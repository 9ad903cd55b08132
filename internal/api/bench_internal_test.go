package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
	"github.com/omo-platform/omo/internal/tenant"
)

// BenchmarkIdentifyHTTP runs identify through the whole handler in process,
// in parallel, half the requests matching an existing customer. It is for
// profiling (go test -bench IdentifyHTTP -cpuprofile); the figures that count
// come from cmd/omobench over real HTTP.
func BenchmarkIdentifyHTTP(b *testing.B) {
	do := benchHandler(b)
	send := func(body string) int { return do(http.MethodPost, "/v1/customers", body) }
	for i := 0; i < 2000; i++ {
		send(fmt.Sprintf(`{"identifiers":{"email":"pre%d@shop.hk"},"traits":{"first_name":"Pre"},"source":"pos"}`, i))
	}
	var n atomic.Int64
	b.SetParallelism(25)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"identifiers":{"email":"pre%d@shop.hk"},"traits":{"first_name":"Pre"},"source":"pos"}`, i%2000)
			if i%2 == 0 {
				body = fmt.Sprintf(`{"identifiers":{"email":"new%d@shop.hk","phone":"+852%d"},"traits":{"first_name":"New"},"source":"pos"}`, i, 51000000+i)
			}
			if code := send(body); code >= 300 {
				b.Fatalf("status %d for %s", code, body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLookupHTTP runs GET /v1/customers?email= through the whole
// handler in process, in parallel, for profiling.
func BenchmarkLookupHTTP(b *testing.B) {
	do := benchHandler(b)
	for i := 0; i < 2000; i++ {
		do(http.MethodPost, "/v1/customers", fmt.Sprintf(`{"identifiers":{"email":"pre%d@shop.hk","phone":"+852%d"},"traits":{"first_name":"Pre"}}`, i, 51000000+i))
	}
	var n atomic.Int64
	b.SetParallelism(25)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1) % 2000
			path := fmt.Sprintf("/v1/customers?email=pre%d@shop.hk", i)
			if i%2 == 0 {
				path = fmt.Sprintf("/v1/customers?phone=%%2B852%d", 51000000+i)
			}
			if code := do(http.MethodGet, path, ""); code != 200 {
				b.Fatalf("status %d for %s", code, path)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// benchHandler serves a fresh SQLite tenant without rate limit and returns a
// function that sends one request with its all-scopes key.
func benchHandler(b *testing.B) func(method, path, body string) int {
	db := sqldbtest.Open(b, sqldb.SQLite)
	tn := sqldbtest.Tenant(b, db)
	st := tenant.DefaultSettings()
	st.RateLimitPerSecond = 1_000_000
	if _, err := db.UpdateTenantSettings(context.Background(), tn.ID, st); err != nil {
		b.Fatal(err)
	}
	_, key, err := db.CreateKey(context.Background(), sqldb.KeyParams{TenantID: tn.ID, Kind: auth.Secret, Scopes: []string{auth.ScopeAll}})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(Deps{DB: db})
	return func(method, path, body string) int {
		req := httptest.NewRequest(method, path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
}
