package payment_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/payment"
	"github.com/omo-platform/omo/internal/payment/paymenttest"
)

// These tests talk to Stripe's own stripe-mock, which checks each request
// against Stripe's OpenAPI spec (an unknown or malformed parameter is a 400,
// which Pay turns into an error) and answers fixtures. The fixtures do not
// follow the request: every PaymentIntent comes back in the same status, so
// the tests check what was sent and accepted, and that the answer maps to
// a valid result; status mapping and declines are tested against a peer in
// stripe_peer_test.go.

func TestStripeMock_Pay(t *testing.T) {
	t.Parallel()
	base := paymenttest.StripeMock(t)
	cases := []struct {
		name string
		edit func(*payment.Intent)
		want map[string]string // form values the request must carry
		none []string          // form keys it must not carry
	}{
		{"card with token", func(in *payment.Intent) { in.PaymentMethod = "pm_card_visa" },
			map[string]string{"payment_method_types[0]": "card", "payment_method": "pm_card_visa", "confirm": "true"},
			[]string{"payment_method_data[type]"}},
		{"card confirmed by the storefront", func(in *payment.Intent) { in.Customer = "ann@example.com" },
			map[string]string{"payment_method_types[0]": "card", "receipt_email": "ann@example.com"},
			[]string{"confirm", "payment_method"}},
		{"card for a Stripe customer", func(in *payment.Intent) { in.PaymentMethod, in.Customer = "pm_card_visa", "cus_123" },
			map[string]string{"customer": "cus_123", "confirm": "true"}, []string{"receipt_email"}},
		{"alipay", func(in *payment.Intent) {
			in.Method, in.ReturnURL, in.Currency = payment.Alipay, "https://shop.example/back", "CNY"
		},
			map[string]string{"payment_method_types[0]": "alipay", "payment_method_data[type]": "alipay",
				"return_url": "https://shop.example/back", "confirm": "true", "currency": "cny"},
			[]string{"payment_method"}},
		{"wechat pay", func(in *payment.Intent) { in.Method = payment.WeChatPay },
			map[string]string{"payment_method_types[0]": "wechat_pay", "payment_method_data[type]": "wechat_pay",
				"payment_method_options[wechat_pay][client]": "web", "confirm": "true"},
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, rec := newStripe(t, base, -1)
			in := validIntent(payment.Card)
			in.IdempotencyKey = "chk_" + strings.ReplaceAll(c.name, " ", "_")
			c.edit(&in)
			res, err := s.Pay(context.Background(), in)
			if err != nil {
				t.Fatalf("Pay: %v (stripe-mock refused the request?)", err)
			}
			if res.Provider != "stripe" || !strings.HasPrefix(res.Reference, "pi_") || res.Method != in.Method || !validStatus(res.Status) {
				t.Fatalf("Pay = %+v", res)
			}
			sent := rec.exchanges()
			if len(sent) != 1 || sent[0].Method != http.MethodPost || sent[0].Path != "/v1/payment_intents" || sent[0].Status != http.StatusOK {
				t.Fatalf("sent %+v, want one accepted POST /v1/payment_intents", sent)
			}
			ex := sent[0]
			if ex.IdempotencyKey != in.IdempotencyKey {
				t.Errorf("Idempotency-Key %q, want %q", ex.IdempotencyKey, in.IdempotencyKey)
			}
			wantForm(t, ex, map[string]string{"amount": "12900", "capture_method": "automatic",
				"metadata[omo_order_id]": "ord_1", "metadata[cart_id]": "crt_1"})
			if in.Currency == "HKD" {
				wantForm(t, ex, map[string]string{"currency": "hkd"})
			}
			wantForm(t, ex, c.want)
			for _, k := range c.none {
				if ex.Form.Has(k) {
					t.Errorf("request carries %s=%q", k, ex.Form.Get(k))
				}
			}
		})
	}
}

func TestStripeMock_Refund(t *testing.T) {
	t.Parallel()
	s, rec := newStripe(t, paymenttest.StripeMock(t), -1)
	cases := []struct {
		reason string
		want   map[string]string
	}{
		{"requested_by_customer", map[string]string{"reason": "requested_by_customer", "metadata[omo_reason]": "requested_by_customer"}},
		{"wrong size, returned at Causeway Bay", map[string]string{"reason": "", "metadata[omo_reason]": "wrong size, returned at Causeway Bay"}},
		{"", map[string]string{"reason": "", "metadata[omo_reason]": ""}},
	}
	for i, c := range cases {
		got, err := s.Refund(context.Background(), payment.Refund{Reference: "pi_123", Amount: 500, Reason: c.reason, IdempotencyKey: "rfd_" + c.reason})
		if err != nil {
			t.Fatalf("Refund(%q): %v", c.reason, err)
		}
		if !strings.HasPrefix(got.Reference, "re_") || got.Amount != 500 || !validStatus(got.Status) {
			t.Errorf("Refund(%q) = %+v", c.reason, got)
		}
		ex := rec.exchanges()[i]
		if ex.Path != "/v1/refunds" || ex.Status != http.StatusOK || ex.IdempotencyKey != "rfd_"+c.reason {
			t.Errorf("sent %+v", ex)
		}
		wantForm(t, ex, map[string]string{"payment_intent": "pi_123", "amount": "500"})
		wantForm(t, ex, c.want)
	}
}

func TestStripeMock_Cancel(t *testing.T) {
	t.Parallel()
	s, rec := newStripe(t, paymenttest.StripeMock(t), -1)
	if err := s.Cancel(context.Background(), "pi_123"); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	sent := rec.exchanges()
	if len(sent) != 1 || sent[0].Path != "/v1/payment_intents/pi_123/cancel" || sent[0].Status != http.StatusOK {
		t.Fatalf("sent %+v", sent)
	}
}
