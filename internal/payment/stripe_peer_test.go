package payment_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/payment"
)

// stripe-mock answers fixtures and never declines, so these tests put a real
// HTTP peer in its place that answers chosen bodies in Stripe's own JSON
// formats (objects, and {"error": {…}} with Stripe's status codes): the path
// through stripe-go's decoding, retries and error types is the real one.

// answer is one canned Stripe response.
type answer struct {
	status int
	body   string
}

// stripePeer serves answers by "METHOD /path"; a path with a list of answers
// serves them in turn (the last one repeats).
func stripePeer(t *testing.T, routes map[string][]answer) string {
	t.Helper()
	var calls sync32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		as, ok := routes[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Unrecognized request URL (` + key + `)"}}`))
			return
		}
		a := as[min(calls.next(key), len(as)-1)]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// sync32 counts calls per route; handlers run concurrently.
type sync32 struct {
	mu sync.Mutex
	m  map[string]int
}

func (s *sync32) next(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]int{}
	}
	n := s.m[key]
	s.m[key] = n + 1
	return n
}

func ok200(body string) []answer { return []answer{{http.StatusOK, body}} }

func TestStripePeer_PayStatuses(t *testing.T) {
	t.Parallel()
	const head = `"id":"pi_1","object":"payment_intent","amount":12900,"currency":"hkd","client_secret":"pi_1_secret_abc",`
	cases := []struct {
		name string
		body string
		want payment.Result
	}{
		{"succeeded", `{` + head + `"status":"succeeded","amount_received":12900}`,
			payment.Result{Status: payment.Succeeded, Captured: 12900}},
		{"processing", `{` + head + `"status":"processing","amount_received":0}`,
			payment.Result{Status: payment.Processing}},
		{"3-D Secure redirect", `{` + head + `"status":"requires_action","next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"https://hooks.stripe.com/3ds/x","return_url":"https://shop.example/back"}}}`,
			payment.Result{Status: payment.RequiresAction, NextActionURL: "https://hooks.stripe.com/3ds/x"}},
		{"alipay redirect", `{` + head + `"status":"requires_action","next_action":{"type":"alipay_handle_redirect","alipay_handle_redirect":{"url":"https://hooks.stripe.com/alipay/x","native_url":"alipays://x"}}}`,
			payment.Result{Status: payment.RequiresAction, NextActionURL: "https://hooks.stripe.com/alipay/x"}},
		{"wechat QR", `{` + head + `"status":"requires_action","next_action":{"type":"wechat_pay_display_qr_code","wechat_pay_display_qr_code":{"data":"weixin://wxpay/bizpayurl?pr=abc","hosted_instructions_url":"https://pay.stripe.com/wechat/x","image_url_png":"https://qr.stripe.com/x.png"}}}`,
			payment.Result{Status: payment.RequiresAction, NextActionURL: "https://pay.stripe.com/wechat/x", QRCodeData: "weixin://wxpay/bizpayurl?pr=abc"}},
		{"waiting for the storefront", `{` + head + `"status":"requires_payment_method"}`,
			payment.Result{Status: payment.RequiresAction}},
		{"waiting for confirmation", `{` + head + `"status":"requires_confirmation"}`,
			payment.Result{Status: payment.RequiresAction}},
		{"failed attempt", `{` + head + `"status":"requires_payment_method","last_payment_error":{"type":"card_error","code":"expired_card","message":"Your card has expired."}}`,
			payment.Result{Status: payment.Failed, FailureCode: "expired_card", FailureMessage: "Your card has expired."}},
		{"held", `{` + head + `"status":"requires_capture","amount_capturable":12900}`,
			payment.Result{Status: payment.Authorized}},
		{"canceled", `{` + head + `"status":"canceled","cancellation_reason":"abandoned"}`,
			payment.Result{Status: payment.Canceled, FailureCode: "canceled", FailureMessage: "abandoned"}},
		{"a status Stripe adds later", `{` + head + `"status":"requires_reticulation"}`,
			payment.Result{Status: payment.Processing}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			base := stripePeer(t, map[string][]answer{"POST /v1/payment_intents": ok200(c.body)})
			s, _ := newStripe(t, base, -1)
			in := validIntent(payment.Card)
			in.PaymentMethod = "pm_card_visa"
			got, err := s.Pay(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.Provider, want.Reference, want.Method, want.ClientSecret = "stripe", "pi_1", payment.Card, "pi_1_secret_abc"
			if got != want {
				t.Fatalf("Pay =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestStripePeer_PayErrors(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, res payment.Result, err error)
	failed := func(code, ref string) check {
		return func(t *testing.T, res payment.Result, err error) {
			if err != nil {
				t.Fatalf("a decline is not an error: %v", err)
			}
			if res.Status != payment.Failed || res.FailureCode != code || res.Reference != ref || res.FailureMessage == "" {
				t.Fatalf("Pay = %+v, want failed with code %q, reference %q", res, code, ref)
			}
		}
	}
	errorThat := func(what string, is func(error) bool) check {
		return func(t *testing.T, res payment.Result, err error) {
			if err == nil || !is(err) {
				t.Fatalf("Pay = %+v, %v; want an error that is %s", res, err, what)
			}
		}
	}
	cases := []struct {
		name   string
		status int
		body   string
		check  check
	}{
		{"card declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.","payment_intent":{"id":"pi_9","object":"payment_intent","status":"requires_payment_method"}}}`,
			failed("insufficient_funds", "pi_9")},
		{"expired card, no intent", 402, `{"error":{"type":"card_error","code":"expired_card","message":"Your card has expired."}}`,
			failed("expired_card", "")},
		{"3-D Secure failed", 400, `{"error":{"type":"invalid_request_error","code":"payment_intent_authentication_failure","message":"We are unable to authenticate your payment method.","payment_intent":{"id":"pi_8","object":"payment_intent"}}}`,
			failed("payment_intent_authentication_failure", "pi_8")},
		{"unknown token from the storefront", 400, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method","message":"No such PaymentMethod: 'pm_nope'"}}`,
			failed("resource_missing", "")},
		{"our own bad parameter", 400, `{"error":{"type":"invalid_request_error","param":"amount","message":"Invalid integer"}}`,
			errorThat("internal, not unavailable", func(err error) bool { return apperr.Is(err, apperr.Internal) && !errorsIsUnavailable(err) })},
		{"idempotency key reused", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`,
			errorThat("a conflict", func(err error) bool { return apperr.Is(err, apperr.Conflict) })},
		{"bad API key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****omo"}}`,
			errorThat("about the key", func(err error) bool { return strings.Contains(err.Error(), "API key") && !errorsIsUnavailable(err) })},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`,
			errorThat("unavailable", errorsIsUnavailable)},
		{"Stripe down", 500, `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`,
			errorThat("unavailable", errorsIsUnavailable)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			base := stripePeer(t, map[string][]answer{"POST /v1/payment_intents": {{c.status, c.body}}})
			s, _ := newStripe(t, base, -1)
			in := validIntent(payment.Card)
			in.PaymentMethod = "pm_card_visa"
			res, err := s.Pay(context.Background(), in)
			c.check(t, res, err)
		})
	}
}

func TestStripePeer_PayUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	s, _ := newStripe(t, base, -1)
	_, err := s.Pay(context.Background(), validIntent(payment.WeChatPay))
	if !errors.Is(err, payment.ErrUnavailable) {
		t.Fatalf("Pay to a closed port: %v, want ErrUnavailable", err)
	}
}

// A connection lost before Stripe answered leaves the outcome unknown:
// stripe-go retries it with the same Idempotency-Key, so Stripe answers the
// first outcome instead of charging twice.
func TestStripePeer_RetryKeepsIdempotencyKey(t *testing.T) {
	t.Parallel()
	var calls sync32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.next("pay") == 0 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close() // the connection drops with no answer
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"pi_2","object":"payment_intent","status":"succeeded","amount":12900,"amount_received":12900}`))
	}))
	t.Cleanup(srv.Close)
	s, rec := newStripe(t, srv.URL, 2)
	res, err := s.Pay(context.Background(), validIntent(payment.WeChatPay))
	if err != nil || res.Status != payment.Succeeded || res.Reference != "pi_2" {
		t.Fatalf("Pay = %+v, %v", res, err)
	}
	sent := rec.exchanges()
	if len(sent) != 2 || sent[0].IdempotencyKey != "chk_1" || sent[1].IdempotencyKey != "chk_1" {
		t.Fatalf("sent %+v, want two tries with Idempotency-Key chk_1", sent)
	}
}

// Without retries, the same lost connection is ErrUnavailable.
func TestStripePeer_LostConnectionUnavailable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	s, _ := newStripe(t, srv.URL, -1)
	if _, err := s.Pay(context.Background(), validIntent(payment.WeChatPay)); !errors.Is(err, payment.ErrUnavailable) {
		t.Fatalf("Pay: %v, want ErrUnavailable", err)
	}
}

func TestStripePeer_Cancel(t *testing.T) {
	t.Parallel()
	const unexpected = `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"This PaymentIntent's status is %s."}}`
	pi := func(status string) string {
		return `{"id":"pi_1","object":"payment_intent","amount":12900,"amount_received":12900,"status":"` + status + `"}`
	}
	refund := `{"id":"re_1","object":"refund","amount":12900,"status":"succeeded","payment_intent":"pi_1"}`
	cases := []struct {
		name   string
		routes map[string][]answer
		check  func(error) bool
		paths  []string
	}{
		{"voided", map[string][]answer{"POST /v1/payment_intents/pi_1/cancel": ok200(pi("canceled"))},
			func(err error) bool { return err == nil }, []string{"/v1/payment_intents/pi_1/cancel"}},
		{"already captured: refunded in full", map[string][]answer{
			"POST /v1/payment_intents/pi_1/cancel": {{400, unexpected}},
			"GET /v1/payment_intents/pi_1":         ok200(pi("succeeded")),
			"POST /v1/refunds":                     ok200(refund)},
			func(err error) bool { return err == nil },
			[]string{"/v1/payment_intents/pi_1/cancel", "/v1/payment_intents/pi_1", "/v1/refunds"}},
		{"already canceled", map[string][]answer{
			"POST /v1/payment_intents/pi_1/cancel": {{400, unexpected}},
			"GET /v1/payment_intents/pi_1":         ok200(pi("canceled"))},
			func(err error) bool { return err == nil },
			[]string{"/v1/payment_intents/pi_1/cancel", "/v1/payment_intents/pi_1"}},
		{"still processing", map[string][]answer{
			"POST /v1/payment_intents/pi_1/cancel": {{400, unexpected}},
			"GET /v1/payment_intents/pi_1":         ok200(pi("processing"))},
			func(err error) bool { return apperr.Is(err, apperr.Conflict) },
			[]string{"/v1/payment_intents/pi_1/cancel", "/v1/payment_intents/pi_1"}},
		{"Stripe down", map[string][]answer{"POST /v1/payment_intents/pi_1/cancel": {{503, `{"error":{"type":"api_error","message":"down"}}`}}},
			errorsIsUnavailable, []string{"/v1/payment_intents/pi_1/cancel"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, rec := newStripe(t, stripePeer(t, c.routes), -1)
			if err := s.Cancel(context.Background(), "pi_1"); !c.check(err) {
				t.Fatalf("Cancel: %v", err)
			}
			var paths []string
			for _, ex := range rec.exchanges() {
				paths = append(paths, ex.Path)
				if ex.Path == "/v1/refunds" {
					wantForm(t, ex, map[string]string{"payment_intent": "pi_1", "amount": ""})
					if ex.IdempotencyKey != "omo-cancel-pi_1" {
						t.Errorf("refund Idempotency-Key %q", ex.IdempotencyKey)
					}
				}
			}
			if strings.Join(paths, " ") != strings.Join(c.paths, " ") {
				t.Fatalf("sent %v, want %v", paths, c.paths)
			}
		})
	}
}

func TestStripePeer_Refund(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		ans   answer
		want  payment.RefundResult
		check func(error) bool
	}{
		{"pending", answer{200, `{"id":"re_1","object":"refund","amount":500,"status":"pending","payment_intent":"pi_1"}`},
			payment.RefundResult{Reference: "re_1", Status: payment.Pending, Amount: 500}, nil},
		{"succeeded", answer{200, `{"id":"re_2","object":"refund","amount":500,"status":"succeeded","payment_intent":"pi_1"}`},
			payment.RefundResult{Reference: "re_2", Status: payment.Succeeded, Amount: 500}, nil},
		{"more than captured", answer{400, `{"error":{"type":"invalid_request_error","code":"amount_too_large","param":"amount","message":"Refund amount (HK$600.00) is greater than unrefunded amount on charge (HK$500.00)"}}`},
			payment.RefundResult{}, func(err error) bool {
				e, ok := apperr.As(err)
				return ok && e.Kind == apperr.Conflict && strings.Contains(e.Message, "greater than unrefunded")
			}},
		{"already refunded", answer{400, `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}`},
			payment.RefundResult{}, func(err error) bool { return apperr.Is(err, apperr.Conflict) }},
		{"Stripe down", answer{502, `{"error":{"type":"api_error","message":"bad gateway"}}`},
			payment.RefundResult{}, errorsIsUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStripe(t, stripePeer(t, map[string][]answer{"POST /v1/refunds": {c.ans}}), -1)
			got, err := s.Refund(context.Background(), payment.Refund{Reference: "pi_1", Amount: 500, IdempotencyKey: "rfd_1"})
			if c.check != nil {
				if !c.check(err) {
					t.Fatalf("Refund = %+v, %v", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Refund = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// Intents Stripe cannot take are refused before any request.
func TestStripePeer_RefusesBeforeSending(t *testing.T) {
	t.Parallel()
	s, rec := newStripe(t, stripePeer(t, nil), -1)
	noAlipayReturn := validIntent(payment.Alipay)
	noAlipayReturn.ReturnURL = ""
	krona := validIntent(payment.Card)
	krona.Currency = "isk"
	fils := validIntent(payment.Card)
	fils.Currency, fils.Amount = "BHD", 12345
	for _, in := range []payment.Intent{validIntent(payment.PayInStore), validIntent(payment.PaidAtPOS), noAlipayReturn, krona, fils} {
		if _, err := s.Pay(context.Background(), in); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("Pay(%s %d %s): %v, want Invalid", in.Method, in.Amount, in.Currency, err)
		}
	}
	if _, err := s.Refund(context.Background(), payment.Refund{Reference: "pi_1", Amount: -1}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("Refund(-1): %v, want Invalid", err)
	}
	if err := s.Cancel(context.Background(), ""); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("Cancel(\"\"): %v, want Invalid", err)
	}
	if sent := rec.exchanges(); len(sent) != 0 {
		t.Fatalf("sent %+v", sent)
	}
}
