// Package payment takes money for orders through payment providers: an
// offline provider (pay in store, cash on delivery, already paid at the POS)
// and Stripe (card, Alipay, WeChat Pay) through the official stripe-go client.
//
// It is an adapter, not a domain: it talks HTTP to the provider but keeps no
// state. The order stores what a provider answered (provider name, reference,
// status, amount captured) with the order, in the order's own transaction;
// this package never touches the database. Asynchronous confirmations arrive
// as signed webhooks that Stripe.ParseWebhook verifies and turns into a
// WebhookEvent for the order to apply.
package payment

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// Method is how the shopper pays.
type Method string

// The methods OMO knows. The Stripe ones are Stripe's payment_method_types.
const (
	Card           Method = "card"
	Alipay         Method = "alipay"
	WeChatPay      Method = "wechat_pay"
	PayInStore     Method = "pay_in_store"
	CashOnDelivery Method = "cash_on_delivery"
	PaidAtPOS      Method = "paid_at_pos"
)

// Methods lists every method in a stable order.
func Methods() []Method {
	return []Method{Card, Alipay, WeChatPay, PayInStore, CashOnDelivery, PaidAtPOS}
}

// ParseMethod reads a method name, refusing names OMO does not know with a
// field error at "payment.method".
func ParseMethod(s string) (Method, error) {
	m := Method(strings.TrimSpace(s))
	if slices.Contains(Methods(), m) {
		return m, nil
	}
	return "", apperr.Field("payment.method", "unknown payment method; use one of "+joinMethods(Methods()), s)
}

func joinMethods(ms []Method) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// Intent asks a provider to take an amount for an order.
type Intent struct {
	OrderID  string
	Currency string // ISO 4217, any case
	Amount   int64  // minor units of Currency
	Method   Method
	// PaymentMethod is the provider's token for the shopper's instrument
	// (Stripe "pm_…" made by Stripe.js); empty for Alipay and WeChat Pay,
	// whose instrument Stripe creates. For PaidAtPOS it is the POS's own
	// reference for the sale (receipt number), which becomes the payment's
	// reference.
	PaymentMethod string
	// ReturnURL is where the shopper comes back after a redirect (Alipay,
	// 3-D Secure). Required for Alipay.
	ReturnURL string
	// Customer is an optional Stripe customer id ("cus_…") or an email that
	// receives the provider's receipt.
	Customer string
	// IdempotencyKey makes a retried Pay or Refund safe: the provider answers
	// the first result again instead of charging twice. Pass the checkout's
	// own key (plus an attempt number when the shopper retries with another
	// card, since Stripe replays a failure for the same key).
	IdempotencyKey string
	Metadata       map[string]string
}

// Validate checks an intent before any provider sees it. Errors are apperr
// Invalid with fields under "payment." (payment.amount, payment.currency, …).
func (in Intent) Validate() error {
	var fields []apperr.FieldError
	bad := func(loc, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: "payment." + loc, Message: msg, Value: v})
	}
	if strings.TrimSpace(in.OrderID) == "" {
		bad("order_id", "is required", nil)
	}
	if in.Amount <= 0 || in.Amount > money.MaxAmount {
		bad("amount", "must be a positive amount in minor units, at most 10^15", in.Amount)
	}
	if _, ok := money.NormalizeCurrency(in.Currency); !ok {
		bad("currency", "is not an ISO 4217 currency code", in.Currency)
	}
	if !slices.Contains(Methods(), in.Method) {
		bad("method", "unknown payment method; use one of "+joinMethods(Methods()), string(in.Method))
	}
	if in.Method == PaidAtPOS && strings.TrimSpace(in.PaymentMethod) == "" {
		bad("payment_method", "a payment already taken at the POS needs the POS reference (receipt number)", nil)
	}
	if in.Method == Alipay && in.ReturnURL == "" {
		bad("return_url", "Alipay redirects the shopper and needs a URL to come back to", nil)
	}
	fields = append(fields, metadataErrors(in.Metadata)...)
	if len(fields) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: "validation failed", Fields: fields}
}

// metadataErrors holds metadata to Stripe's limits (50 keys, keys of 40
// characters, values of 500), keeping one key for omo_order_id.
func metadataErrors(md map[string]string) []apperr.FieldError {
	var fields []apperr.FieldError
	if len(md) > 49 {
		fields = append(fields, apperr.FieldError{Location: "payment.metadata", Message: "holds at most 49 keys", Value: len(md)})
	}
	for _, k := range slices.Sorted(maps.Keys(md)) {
		switch {
		case k == "" || utf8.RuneCountInString(k) > 40 || strings.ContainsAny(k, "[]"):
			fields = append(fields, apperr.FieldError{Location: "payment.metadata", Message: "keys have 1 to 40 characters and no brackets", Value: k})
		case utf8.RuneCountInString(md[k]) > 500:
			fields = append(fields, apperr.FieldError{Location: "payment.metadata." + k, Message: "values have at most 500 characters"})
		}
	}
	return fields
}

// Status is where a payment or refund stands.
type Status string

// The statuses. A checkout completes on Succeeded, Pending (offline: money
// collected later) and Processing (the provider confirms later by webhook);
// RequiresAction sends the shopper to finish 3-D Secure or a wallet; Failed
// and Canceled take no money.
const (
	Succeeded      Status = "succeeded"
	RequiresAction Status = "requires_action"
	Processing     Status = "processing"
	Authorized     Status = "authorized" // held, not captured (never with automatic capture; kept for completeness)
	Pending        Status = "pending"
	Failed         Status = "failed"
	Canceled       Status = "canceled"
)

// Result is a provider's answer to Pay.
type Result struct {
	Provider  string // "offline", "stripe"
	Reference string // the provider's id for the payment ("pi_…"; offline: see Offline)
	Method    Method
	Status    Status
	Captured  int64 // minor units taken so far
	// ClientSecret lets the storefront finish the payment with Stripe.js
	// (3-D Secure, a card entered in the browser). Show it to the shopper's
	// browser only.
	ClientSecret string
	// NextActionURL is where to send the shopper: Alipay's redirect, or the
	// page Stripe hosts with the WeChat Pay QR code.
	NextActionURL string
	// QRCodeData is the WeChat Pay payload (weixin://…) for a storefront that
	// draws its own QR code.
	QRCodeData     string
	FailureCode    string // provider's code: card_declined, expired_card, …
	FailureMessage string // provider's message, fit to show the shopper
}

// Refund asks a provider to give back part or all of a payment.
type Refund struct {
	Reference      string // the payment's Result.Reference
	Amount         int64  // minor units; the caller keeps refunds within what was captured
	Reason         string // free text; Stripe's own reasons (duplicate, fraudulent, requested_by_customer) are passed as such
	IdempotencyKey string
}

// RefundResult is a provider's answer to Refund.
type RefundResult struct {
	Reference string // the refund's id ("re_…")
	Status    Status // Succeeded, Pending, RequiresAction, Failed or Canceled
	Amount    int64
}

// Provider takes and gives back money. Implementations are safe for
// concurrent use.
//
// Errors: apperr Invalid for an intent that fails Validate or a method the
// provider does not take; errors wrapping ErrUnavailable when the provider
// could not be reached or answered 5xx (the outcome is unknown: retry with
// the same idempotency key); apperr Conflict when the provider refuses a
// refund or cancel (already refunded, more than was captured); other errors
// for misconfiguration (a bad API key). A declined payment is not an error:
// it is a Result with Status Failed.
type Provider interface {
	Name() string
	Methods() []Method
	// Pay creates and confirms a payment, captured automatically.
	Pay(ctx context.Context, in Intent) (Result, error)
	// Cancel undoes a payment the order could not keep (its transaction
	// failed after Pay): it voids what was not captured and refunds in full
	// what was. Cancelling an already canceled payment is not an error.
	Cancel(ctx context.Context, reference string) error
	Refund(ctx context.Context, r Refund) (RefundResult, error)
}

// ErrUnavailable marks errors where the provider could not be reached or
// failed on its side: the payment's outcome is unknown.
var ErrUnavailable = errors.New("payment provider unavailable")

// ErrAlreadyRefunded marks a refund the provider refused because the
// payment is refunded in full already (by an earlier cancel, say): the
// money is back, there is nothing left to do.
var ErrAlreadyRefunded = errors.New("payment already refunded in full")

func validateRefund(r Refund) error {
	var fields []apperr.FieldError
	if strings.TrimSpace(r.Reference) == "" {
		fields = append(fields, apperr.FieldError{Location: "refund.reference", Message: "is required"})
	}
	if r.Amount <= 0 || r.Amount > money.MaxAmount {
		fields = append(fields, apperr.FieldError{Location: "refund.amount", Message: "must be a positive amount in minor units", Value: r.Amount})
	}
	if len(fields) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: "validation failed", Fields: fields}
}

func notTaken(p Provider, m Method) error {
	return apperr.Field("payment.method", "the "+p.Name()+" provider does not take "+string(m)+"; it takes "+joinMethods(p.Methods()), string(m))
}
