package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/omo-platform/omo/internal/apperr"
)

// WebhookTolerance is how old a webhook's signed timestamp may be: older
// deliveries are refused, so a captured request cannot be replayed later.
const WebhookTolerance = 5 * time.Minute

// WebhookEvent is a verified Stripe event about a payment or a refund.
type WebhookEvent struct {
	ID        string // Stripe's event id ("evt_…"): apply each id once, Stripe delivers at least once
	Type      string // Stripe's event type ("payment_intent.succeeded")
	Reference string // the payment's reference (the PaymentIntent "pi_…")
	Refund    string // the refund's id ("re_…") for refund events, else ""
	Status    Status // the payment's status, or the refund's for refund events
	// Amount is what the payment has captured (Result.Captured), or the
	// refund's amount for refund events, in minor units.
	Amount         int64
	FailureCode    string
	FailureMessage string
	// Account is the connected account the event happened in (Stripe
	// Connect), "" for the platform's own.
	Account string
}

// Webhook errors, for errors.Is. A handler answers ErrWebhookSignature and
// other Invalid errors with 400, and ErrUnhandledEvent with 2xx (Stripe
// retries anything else for days).
var (
	ErrWebhookSignature = errors.New("stripe webhook signature does not verify")
	ErrUnhandledEvent   = errors.New("stripe webhook event type is not one OMO handles")
)

// paymentEvents maps the PaymentIntent events OMO applies to the status each
// one asserts.
var paymentEvents = map[stripe.EventType]Status{
	stripe.EventTypePaymentIntentSucceeded:               Succeeded,
	stripe.EventTypePaymentIntentProcessing:              Processing,
	stripe.EventTypePaymentIntentPaymentFailed:           Failed,
	stripe.EventTypePaymentIntentCanceled:                Canceled,
	stripe.EventTypePaymentIntentRequiresAction:          RequiresAction,
	stripe.EventTypePaymentIntentAmountCapturableUpdated: Authorized,
}

// refundEvents are the events whose object is a Refund.
var refundEvents = map[stripe.EventType]bool{
	stripe.EventTypeRefundCreated:       true,
	stripe.EventTypeRefundUpdated:       true,
	stripe.EventTypeRefundFailed:        true,
	stripe.EventTypeChargeRefundUpdated: true,
}

// ParseWebhook verifies a webhook delivery with the endpoint's signing secret
// (the Stripe-Signature header, WebhookTolerance) and reads the payment or
// refund it is about.
//
// Errors: apperr Invalid wrapping ErrWebhookSignature for a missing, malformed,
// wrong or stale signature; apperr Invalid for a verified body that is not a
// well-formed event; ErrUnhandledEvent (with ID and Type filled in the event)
// for event types OMO does not apply.
func (s *Stripe) ParseWebhook(payload []byte, signatureHeader string) (WebhookEvent, error) {
	e, err := webhook.ConstructEventWithOptions(payload, signatureHeader, s.webhookSecret, webhook.ConstructEventOptions{
		Tolerance: WebhookTolerance,
		// OMO reads only fields stable across API versions (ids, status,
		// amounts, errors), so an endpoint on another version still works.
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return WebhookEvent{}, webhookError(err)
	}
	ev := WebhookEvent{ID: e.ID, Type: string(e.Type), Account: e.Account}
	if e.ID == "" || e.Data == nil || len(e.Data.Raw) == 0 {
		return ev, invalidEvent("the event has no id or no data.object")
	}
	if status, ok := paymentEvents[e.Type]; ok {
		return paymentEvent(ev, status, e.Data.Raw)
	}
	if refundEvents[e.Type] {
		return refundEvent(ev, e.Data.Raw)
	}
	return ev, fmt.Errorf("%w: %q", ErrUnhandledEvent, e.Type)
}

func paymentEvent(ev WebhookEvent, status Status, raw json.RawMessage) (WebhookEvent, error) {
	var pi stripe.PaymentIntent
	if err := json.Unmarshal(raw, &pi); err != nil || pi.ID == "" || pi.Object != "payment_intent" {
		return ev, invalidEvent(ev.Type + " does not carry a payment_intent object")
	}
	ev.Reference, ev.Status, ev.Amount = pi.ID, status, pi.AmountReceived
	if status == Failed && pi.LastPaymentError != nil {
		ev.FailureCode, ev.FailureMessage = string(pi.LastPaymentError.Code), pi.LastPaymentError.Msg
		if pi.LastPaymentError.DeclineCode != "" {
			ev.FailureCode = string(pi.LastPaymentError.DeclineCode)
		}
	}
	if status == Canceled {
		ev.FailureCode, ev.FailureMessage = "canceled", string(pi.CancellationReason)
	}
	return ev, nil
}

func refundEvent(ev WebhookEvent, raw json.RawMessage) (WebhookEvent, error) {
	var rf stripe.Refund
	if err := json.Unmarshal(raw, &rf); err != nil || rf.ID == "" || rf.Object != "refund" {
		return ev, invalidEvent(ev.Type + " does not carry a refund object")
	}
	if rf.PaymentIntent == nil || rf.PaymentIntent.ID == "" {
		// A refund of a charge made outside PaymentIntents was not made by OMO.
		return ev, fmt.Errorf("%w: refund %s belongs to no payment intent", ErrUnhandledEvent, rf.ID)
	}
	ev.Reference, ev.Refund, ev.Status, ev.Amount = rf.PaymentIntent.ID, rf.ID, refundStatus(rf.Status), rf.Amount
	ev.FailureCode = string(rf.FailureReason)
	return ev, nil
}

// webhookError words stripe-go's verification errors for whoever reads the
// webhook endpoint's logs or Stripe's delivery attempts.
func webhookError(err error) error {
	var msg string
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		msg = "the Stripe-Signature header is missing"
	case errors.Is(err, webhook.ErrInvalidHeader):
		msg = "the Stripe-Signature header is malformed (want t=<unix time>,v1=<hex>)"
	case errors.Is(err, webhook.ErrTooOld):
		msg = "the signature's timestamp is more than 5 minutes old (a replay, or a clock out of step)"
	case errors.Is(err, webhook.ErrNoValidSignature):
		msg = "no v1 signature matches the body with this endpoint's signing secret"
	default:
		return invalidEvent(err.Error())
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: "stripe webhook refused: " + msg,
		Err: fmt.Errorf("%w: %w", ErrWebhookSignature, err)}
}

func invalidEvent(why string) error {
	return apperr.New(apperr.Invalid, "stripe webhook body is not a usable event: %s", why)
}
