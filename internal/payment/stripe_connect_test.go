package payment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/payment"
)

// TestStripeConnect_EveryRequestActsForTheAccount pays, refunds and
// cancels for a brand's connected account: every request carries its
// Stripe-Account header, and the platform's own provider sends none.
func TestStripeConnect_EveryRequestActsForTheAccount(t *testing.T) {
	t.Parallel()
	const unexpected = `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"This PaymentIntent's status is succeeded."}}`
	pi := `{"id":"pi_1","object":"payment_intent","amount":12900,"amount_received":12900,"currency":"hkd","status":"succeeded","payment_method_types":["card"]}`
	refund := `{"id":"re_1","object":"refund","amount":500,"status":"succeeded","payment_intent":"pi_1"}`
	base := stripePeer(t, map[string][]answer{
		"POST /v1/payment_intents":             ok200(pi),
		"POST /v1/payment_intents/pi_1/cancel": {{400, unexpected}},
		"GET /v1/payment_intents/pi_1":         ok200(pi),
		"POST /v1/refunds":                     ok200(refund),
	})
	platform, rec := newStripe(t, base, -1)
	for _, acct := range []string{"acct_1OmoBrandHK", ""} {
		s := platform
		if acct != "" {
			s = platform.ForAccount(acct)
		}
		if s.Account() != acct {
			t.Fatalf("Account() = %q, want %q", s.Account(), acct)
		}
		ctx := context.Background()
		if _, err := s.Pay(ctx, payment.Intent{OrderID: "ord_1", Currency: "HKD", Amount: 12900, Method: payment.Card, PaymentMethod: "pm_card_visa"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Refund(ctx, payment.Refund{Reference: "pi_1", Amount: 500}); err != nil {
			t.Fatal(err)
		}
		if err := s.Cancel(ctx, "pi_1"); err != nil { // cancel, read, refund in full
			t.Fatal(err)
		}
	}
	sent := rec.exchanges()
	if len(sent) != 10 {
		t.Fatalf("%d requests, want 10", len(sent))
	}
	for i, ex := range sent {
		want := "acct_1OmoBrandHK"
		if i >= 5 {
			want = ""
		}
		if ex.StripeAccount != want {
			t.Errorf("%s %s: Stripe-Account %q, want %q", ex.Method, ex.Path, ex.StripeAccount, want)
		}
	}
	if platform.Account() != "" {
		t.Fatal("ForAccount changed the platform's provider")
	}
}

// TestStripeConnect_WebhookNamesTheAccount reads the connected account a
// Connect endpoint's event happened in.
func TestStripeConnect_WebhookNamesTheAccount(t *testing.T) {
	t.Parallel()
	s := webhookStripe(t)
	payload := event("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":12900,"amount_received":12900,"status":"succeeded"}`)
	payload = []byte(strings.Replace(string(payload), `"id":"evt_1",`, `"id":"evt_1","account":"acct_1OmoBrandHK",`, 1))
	ev, err := s.ParseWebhook(payload, sign(payload, webhookSecret, time.Now()))
	if err != nil || ev.Account != "acct_1OmoBrandHK" || ev.Reference != "pi_1" {
		t.Fatalf("event %+v, %v", ev, err)
	}
}
