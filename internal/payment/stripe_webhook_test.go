package payment_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/payment"
)

const webhookSecret = "whsec_test_omo"

// event is a Stripe event body around one object.
func event(typ, object string) []byte {
	return []byte(`{"id":"evt_1","object":"event","api_version":"2026-03-25.dahlia","created":1767225600,"livemode":false,` +
		`"pending_webhooks":1,"type":"` + typ + `","data":{"object":` + object + `}}`)
}

// sign signs payload as Stripe does, at the given time.
func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func webhookStripe(t *testing.T) *payment.Stripe {
	t.Helper()
	s, err := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_omo", WebhookSecret: webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStripeWebhook_Events(t *testing.T) {
	t.Parallel()
	s := webhookStripe(t)
	pi := func(status, extra string) string {
		return `{"id":"pi_1","object":"payment_intent","amount":12900,"currency":"hkd","status":"` + status + `"` + extra + `}`
	}
	cases := []struct {
		typ, object string
		want        payment.WebhookEvent
	}{
		{"payment_intent.succeeded", pi("succeeded", `,"amount_received":12900`),
			payment.WebhookEvent{Reference: "pi_1", Status: payment.Succeeded, Amount: 12900}},
		{"payment_intent.processing", pi("processing", ``),
			payment.WebhookEvent{Reference: "pi_1", Status: payment.Processing}},
		{"payment_intent.payment_failed", pi("requires_payment_method", `,"last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"stolen_card","message":"Your card was declined."}`),
			payment.WebhookEvent{Reference: "pi_1", Status: payment.Failed, FailureCode: "stolen_card", FailureMessage: "Your card was declined."}},
		{"payment_intent.canceled", pi("canceled", `,"cancellation_reason":"abandoned"`),
			payment.WebhookEvent{Reference: "pi_1", Status: payment.Canceled, FailureCode: "canceled", FailureMessage: "abandoned"}},
		{"payment_intent.requires_action", pi("requires_action", ``),
			payment.WebhookEvent{Reference: "pi_1", Status: payment.RequiresAction}},
		{"payment_intent.amount_capturable_updated", pi("requires_capture", `,"amount_capturable":12900`),
			payment.WebhookEvent{Reference: "pi_1", Status: payment.Authorized}},
		{"refund.updated", `{"id":"re_1","object":"refund","amount":500,"status":"succeeded","payment_intent":"pi_1"}`,
			payment.WebhookEvent{Reference: "pi_1", Refund: "re_1", Status: payment.Succeeded, Amount: 500}},
		{"refund.failed", `{"id":"re_2","object":"refund","amount":500,"status":"failed","failure_reason":"expired_or_canceled_card","payment_intent":{"id":"pi_1","object":"payment_intent"}}`,
			payment.WebhookEvent{Reference: "pi_1", Refund: "re_2", Status: payment.Failed, Amount: 500, FailureCode: "expired_or_canceled_card"}},
		{"charge.refund.updated", `{"id":"re_3","object":"refund","amount":700,"status":"pending","payment_intent":"pi_1"}`,
			payment.WebhookEvent{Reference: "pi_1", Refund: "re_3", Status: payment.Pending, Amount: 700}},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			t.Parallel()
			body := event(c.typ, c.object)
			got, err := s.ParseWebhook(body, sign(body, webhookSecret, time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.ID, want.Type = "evt_1", c.typ
			if got != want {
				t.Fatalf("ParseWebhook =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

// Stripe signs with the endpoint's API version; another version still parses.
func TestStripeWebhook_OtherAPIVersion(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Replace(string(event("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","status":"succeeded","amount_received":5}`)),
		"2026-03-25.dahlia", "2020-08-27", 1))
	got, err := webhookStripe(t).ParseWebhook(body, sign(body, webhookSecret, time.Now()))
	if err != nil || got.Status != payment.Succeeded || got.Amount != 5 {
		t.Fatalf("ParseWebhook = %+v, %v", got, err)
	}
}

func TestStripeWebhook_Refused(t *testing.T) {
	t.Parallel()
	s := webhookStripe(t)
	good := event("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","status":"succeeded","amount_received":12900}`)
	now := time.Now()
	cases := []struct {
		name      string
		body      []byte
		header    string
		signature bool   // refused as ErrWebhookSignature
		say       string // in the message
	}{
		{"other secret", good, sign(good, "whsec_other", now), true, "no v1 signature matches"},
		{"tampered body", []byte(strings.Replace(string(good), "12900", "99999", 1)), sign(good, webhookSecret, now), true, "no v1 signature matches"},
		{"stale timestamp", good, sign(good, webhookSecret, now.Add(-6*time.Minute)), true, "more than 5 minutes old"},
		{"no header", good, "", true, "missing"},
		{"malformed header", good, "t=abc,v1", true, "malformed"},
		{"no v1 signature", good, "t=1767225600,v0=abcd", true, "no v1 signature"},
		{"signed but not JSON", []byte("hello"), sign([]byte("hello"), webhookSecret, now), false, "not a usable event"},
		{"thin event", []byte(`{"id":"evt_2","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered"}`),
			sign([]byte(`{"id":"evt_2","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered"}`), webhookSecret, now), false, "not a usable event"},
		{"payment event without a payment intent", event("payment_intent.succeeded", `{"id":"cus_1","object":"customer"}`),
			sign(event("payment_intent.succeeded", `{"id":"cus_1","object":"customer"}`), webhookSecret, now), false, "payment_intent object"},
		{"refund event without a refund", event("refund.updated", `{"id":"pi_1","object":"payment_intent"}`),
			sign(event("refund.updated", `{"id":"pi_1","object":"payment_intent"}`), webhookSecret, now), false, "refund object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.ParseWebhook(c.body, c.header)
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid {
				t.Fatalf("ParseWebhook: %v, want apperr Invalid", err)
			}
			if errors.Is(err, payment.ErrWebhookSignature) != c.signature {
				t.Errorf("errors.Is(ErrWebhookSignature) = %v, want %v (%v)", !c.signature, c.signature, err)
			}
			if !strings.Contains(e.Message, c.say) {
				t.Errorf("message %q does not say %q", e.Message, c.say)
			}
		})
	}
}

func TestStripeWebhook_UnhandledEvent(t *testing.T) {
	t.Parallel()
	s := webhookStripe(t)
	cases := map[string][]byte{
		"other type":              event("customer.created", `{"id":"cus_1","object":"customer"}`),
		"refund of a bare charge": event("refund.created", `{"id":"re_9","object":"refund","amount":100,"status":"succeeded","charge":"ch_1","payment_intent":null}`),
	}
	for name, body := range cases {
		got, err := s.ParseWebhook(body, sign(body, webhookSecret, time.Now()))
		if !errors.Is(err, payment.ErrUnhandledEvent) || apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v, want ErrUnhandledEvent", name, err)
		}
		if got.ID != "evt_1" || got.Type == "" {
			t.Errorf("%s: event %+v, want its id and type for the log", name, got)
		}
	}
}

// FuzzParseWebhook feeds bodies either signed with the endpoint secret (so the
// JSON reading is reached) or with arbitrary headers (which must never
// verify). Whatever comes in, ParseWebhook answers a complete event or one of
// its documented errors, and never panics.
func FuzzParseWebhook(f *testing.F) {
	f.Add(event("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","status":"succeeded","amount_received":1}`), "", true)
	f.Add(event("refund.updated", `{"id":"re_1","object":"refund","amount":5,"status":"pending","payment_intent":"pi_1"}`), "", true)
	f.Add(event("payment_intent.payment_failed", `{"id":"pi_1","object":"payment_intent","last_payment_error":{"code":"x"}}`), "", true)
	f.Add(event("refund.failed", `{"id":"re_1","object":"refund","payment_intent":{"id":""}}`), "", true)
	f.Add([]byte(`{"id":"evt_1","object":"event","data":{"object":null}}`), "", true)
	f.Add([]byte(`{"object":"event","type":"payment_intent.succeeded","data":{"object":{"object":"payment_intent","id":"pi_1"}}}`), "", true)
	f.Add([]byte(`[]`), "", true)
	f.Add([]byte(`{}`), "t=1767225600,v1=00", false)
	f.Add([]byte(`{}`), "t=,v1=zz,v1=00,=,", false)
	s, err := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_omo", WebhookSecret: webhookSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string, signed bool) {
		if signed {
			header = sign(body, webhookSecret, time.Now())
		}
		ev, err := s.ParseWebhook(body, header)
		switch {
		case err == nil:
			if !signed {
				t.Fatalf("an unsigned body verified with header %q", header)
			}
			if ev.ID == "" || ev.Type == "" || ev.Reference == "" || !validStatus(ev.Status) {
				t.Fatalf("incomplete event %+v", ev)
			}
			if strings.HasPrefix(ev.Type, "refund.") != (ev.Refund != "") && ev.Type != "charge.refund.updated" {
				t.Fatalf("refund id %q on a %s event", ev.Refund, ev.Type)
			}
		case errors.Is(err, payment.ErrUnhandledEvent):
			if !signed {
				t.Fatalf("an unsigned body got past the signature: %v", err)
			}
		default:
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error %v is neither Invalid nor ErrUnhandledEvent", err)
			}
			if !signed && !errors.Is(err, payment.ErrWebhookSignature) {
				t.Fatalf("an unsigned body failed after the signature check: %v", err)
			}
		}
	})
}
