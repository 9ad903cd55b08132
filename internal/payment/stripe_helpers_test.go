package payment_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/omo-platform/omo/internal/payment"
)

// exchange is one request the Stripe provider sent, as it went on the wire,
// and the status that came back.
type exchange struct {
	Method, Path   string
	Form           url.Values
	IdempotencyKey string
	StripeAccount  string // the Stripe-Account header (Connect)
	Status         int
}

// recorder is an http.RoundTripper that passes requests to the real
// transport and keeps what was sent, so a test can check the parameters a
// real Stripe peer accepted.
type recorder struct {
	mu    sync.Mutex
	sent  []exchange
	inner http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	if req.Method == http.MethodGet {
		form = req.URL.Query()
	}
	resp, err := r.inner.RoundTrip(req)
	ex := exchange{Method: req.Method, Path: req.URL.Path, Form: form, IdempotencyKey: req.Header.Get("Idempotency-Key"),
		StripeAccount: req.Header.Get("Stripe-Account")}
	if resp != nil {
		ex.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.sent = append(r.sent, ex)
	r.mu.Unlock()
	return resp, err
}

// exchanges is what was sent so far.
func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.sent...)
}

// newStripe builds a Stripe provider against base, recording its requests.
// retries is StripeConfig.MaxNetworkRetries.
func newStripe(t *testing.T, base string, retries int) (*payment.Stripe, *recorder) {
	t.Helper()
	rec := &recorder{inner: http.DefaultTransport}
	s, err := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_omo", WebhookSecret: webhookSecret,
		APIBase: base, HTTPClient: &http.Client{Transport: rec}, MaxNetworkRetries: retries})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// wantForm checks form values in a recorded request.
func wantForm(t *testing.T, ex exchange, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := ex.Form.Get(k); got != v {
			t.Errorf("%s %s: %s = %q, want %q", ex.Method, ex.Path, k, got, v)
		}
	}
}

// validStatus reports whether s is one of the package's statuses.
func validStatus(s payment.Status) bool {
	switch s {
	case payment.Succeeded, payment.RequiresAction, payment.Processing, payment.Authorized,
		payment.Pending, payment.Failed, payment.Canceled:
		return true
	}
	return false
}
