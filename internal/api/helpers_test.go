package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/api"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// server is an API handler on a real listener, over one test database.
type server struct {
	t   *testing.T
	db  *sqldb.DB
	url string
}

// newServer serves api.NewHandler over db until the test ends. edit, when
// given, changes the dependencies before the handler is built.
func newServer(t *testing.T, db *sqldb.DB, edit ...func(*api.Deps)) *server {
	t.Helper()
	d := api.Deps{DB: db}
	for _, e := range edit {
		e(&d)
	}
	ts := httptest.NewServer(api.NewHandler(d))
	t.Cleanup(ts.Close)
	return &server{t: t, db: db, url: ts.URL}
}

// caller is one API key of one tenant.
type caller struct {
	TenantID string // stored form
	KeyID    string // stored form (bare UUID)
	Secret   string
}

// PublicKeyID is the key's id as the API shows it (key_…).
func (c caller) PublicKeyID() string { return id.Format(id.Key, c.KeyID) }

// newTenant creates a tenant and a secret key with scopes (all when none).
func (s *server) newTenant(t *testing.T, scopes ...string) caller {
	t.Helper()
	tn := sqldbtest.Tenant(t, s.db)
	return s.newKey(t, tn.ID, scopes...)
}

// newKey mints a secret key for a tenant with scopes (all when none).
func (s *server) newKey(t *testing.T, tenantID string, scopes ...string) caller {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"*"}
	}
	k, secret, err := s.db.CreateKey(context.Background(), sqldb.KeyParams{TenantID: tenantID, Kind: "sk", Scopes: scopes, Name: "test"})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return caller{TenantID: tenantID, KeyID: k.ID, Secret: secret}
}

// response is what a request got back.
type response struct {
	Method, Path string
	Status       int
	Header       http.Header
	Raw          []byte
	JSON         map[string]any // nil when the body is not a JSON object
}

func (r response) String() string {
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.Path, r.Status, bytes.TrimSpace(r.Raw))
}

// h is a set of request headers.
type h map[string]string

// do sends one request. key is a secret ("" sends no Authorization header).
// body is nil (no body), []byte or string (sent as is), an io.Reader (sent
// chunked, length unknown), or anything else (sent as JSON).
func (s *server) do(t *testing.T, method, path, key string, body any, headers h) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := response{Method: method, Path: path, Status: res.StatusCode, Header: res.Header, Raw: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		r.JSON = m
	}
	return r
}

// must sends a request and fails the test unless it gets status.
func (s *server) must(t *testing.T, status int, method, path, key string, body any, headers h) response {
	t.Helper()
	r := s.do(t, method, path, key, body, headers)
	if r.Status != status {
		t.Fatalf("want %d, got %s", status, r)
	}
	return r
}

// decode reads a response body into a T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r, err)
	}
	return v
}

// problem is an RFC 9457 problem as the API writes it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
		Value    any    `json:"value"`
	} `json:"errors"`
}

// Locations lists the location of every field error.
func (p problem) Locations() []string {
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, e.Location)
	}
	return out
}

// assertProblem checks that r is an RFC 9457 problem with status and returns it.
func assertProblem(t *testing.T, r response, status int) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want status %d, got %s", status, r)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type = %q, want application/problem+json", r, ct)
	}
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := r.JSON[k]; !ok {
			t.Errorf("%s: problem has no %q member", r, k)
		}
	}
	p := decode[problem](t, r)
	if p.Type == "" {
		t.Errorf("%s: empty type", r)
	}
	if want := http.StatusText(status); p.Title != want {
		t.Errorf("%s: title = %q, want %q", r, p.Title, want)
	}
	if p.Status != status {
		t.Errorf("%s: status member = %d, want %d", r, p.Status, status)
	}
	if strings.TrimSpace(p.Detail) == "" {
		t.Errorf("%s: empty detail", r)
	}
	return p
}

// assertFieldError checks that r is a 400 problem whose first field error is
// at location, and that every field error names its location.
func assertFieldError(t *testing.T, r response, location string) problem {
	t.Helper()
	p := assertProblem(t, r, http.StatusBadRequest)
	if len(p.Errors) == 0 {
		t.Fatalf("%s: no errors[]", r)
	}
	if p.Errors[0].Location != location {
		t.Errorf("%s: errors[0].location = %q, want %q", r, p.Errors[0].Location, location)
	}
	for i, e := range p.Errors {
		if e.Location == "" || e.Message == "" {
			t.Errorf("%s: errors[%d] lacks location or message", r, i)
		}
	}
	return p
}

// customerJSON is a customer as the API shows it, with the extra members of
// an identify answer.
type customerJSON struct {
	ID          string `json:"id"`
	RequestedID string `json:"requested_id"`
	MergedInto  string `json:"merged_into"`
	Identifiers struct {
		Emails      []string `json:"emails"`
		Phones      []string `json:"phones"`
		CardNumbers []string `json:"card_numbers"`
		External    []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"external"`
	} `json:"identifiers"`
	Traits    map[string]any `json:"traits"`
	Consents  []consentJSON  `json:"consents"`
	CreatedAt time.Time      `json:"created_at"`
	ErasedAt  *time.Time     `json:"erased_at"`
	// identify only
	Created bool          `json:"created"`
	Merged  []string      `json:"merged"`
	Ignored []ignoredJSON `json:"ignored_identifiers"`
}

type ignoredJSON struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type consentJSON struct {
	ID             string    `json:"id"`
	CustomerID     string    `json:"customer_id"`
	MessageChannel string    `json:"message_channel"`
	Purpose        string    `json:"purpose"`
	Status         string    `json:"status"`
	Source         string    `json:"source"`
	OccurredAt     time.Time `json:"occurred_at"`
	RecordedAt     time.Time `json:"recorded_at"`
}

type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// identify posts to /v1/customers and returns the customer, requiring status.
func (s *server) identify(t *testing.T, key string, status int, body any) customerJSON {
	t.Helper()
	return decode[customerJSON](t, s.must(t, status, http.MethodPost, "/v1/customers", key, body, nil))
}

// ids is a body for identify with the given identifiers.
func ids(kv ...string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return map[string]any{"identifiers": m}
}

var uniq atomic.Int64

// email returns an address no other call returns (not a placeholder).
func email(tag string) string {
	return fmt.Sprintf("%s.%d@omo-shop.hk", tag, uniq.Add(1))
}

// phone returns a Hong Kong mobile number no other call returns, in E.164.
// The "91" prefix keeps it from being a run of one digit or a sequence.
func phone() string {
	return fmt.Sprintf("+85291%06d", uniq.Add(1)%1e6)
}

// fullSettings is a complete tenant settings body: the defaults with a rate
// limit.
func fullSettings(ratePerSecond int) map[string]any {
	return map[string]any{
		"default_country":       "HK",
		"identifier_limits":     map[string]int{"email": 5, "phone": 5, "card_number": 3, "external": 20},
		"source_priority":       map[string]int{"admin": 100, "console": 100},
		"flag_after_merges":     3,
		"rate_limit_per_second": ratePerSecond,
	}
}
