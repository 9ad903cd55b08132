package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/payment"
	"github.com/omo-platform/omo/internal/sqldb"
)

// payer adapts the payment providers to what checkout needs, for one
// brand: with a connected Stripe account, Stripe acts for that account.
type payer struct {
	reg           *payment.Registry
	stripeAccount string
}

var _ sqldb.Payer = payer{}

// payerFor is the payer of a tenant, with its connected Stripe account.
func (s *server) payerFor(ctx context.Context, tenantID string) (payer, error) {
	set, err := s.db.CommerceSettings(ctx, tenantID)
	if err != nil {
		return payer{}, err
	}
	return payer{reg: s.payer.reg, stripeAccount: set.StripeAccount}, nil
}

// forTenant gives the tenant's view of a provider: for new payments.
func (p payer) forTenant(prov payment.Provider) payment.Provider {
	return onAccount(prov, p.stripeAccount)
}

// onAccount is a provider acting for a Stripe account ("" the platform's):
// a stored payment is refunded and cancelled on the account it was taken
// on, whatever the brand uses today.
func onAccount(prov payment.Provider, account string) payment.Provider {
	if st, ok := prov.(*payment.Stripe); ok && account != "" {
		return st.ForAccount(account)
	}
	return prov
}

func (p payer) Pay(ctx context.Context, r sqldb.PayRequest) (sqldb.PayResult, error) {
	m, err := payment.ParseMethod(r.Method)
	if err != nil {
		return sqldb.PayResult{}, apperr.Field("body.payment.method", err.Error(), r.Method)
	}
	prov, err := p.reg.ForMethod(m)
	if err != nil {
		return sqldb.PayResult{}, apperr.Field("body.payment.method", err.Error(), r.Method)
	}
	res, err := p.forTenant(prov).Pay(ctx, payment.Intent{OrderID: r.OrderID, Currency: r.Currency, Amount: r.Amount, Method: m, PaymentMethod: r.PaymentMethod,
		ReturnURL: r.ReturnURL, Customer: r.Customer, IdempotencyKey: r.IdempotencyKey})
	if err != nil {
		return sqldb.PayResult{}, err
	}
	out := payResult(res.Provider, res.Reference, res.Status, res.Captured, res)
	if res.Provider == payment.StripeName {
		out.Account = p.stripeAccount
	}
	return out, nil
}

func payResult(provider, ref string, st payment.Status, captured int64, res payment.Result) sqldb.PayResult {
	out := sqldb.PayResult{Provider: provider, Reference: ref, Captured: captured, ClientSecret: res.ClientSecret,
		NextActionURL: res.NextActionURL, FailureCode: res.FailureCode, FailureReason: res.FailureMessage}
	switch st {
	case payment.Succeeded:
		out.Status = sqldb.PaySucceeded
	case payment.Pending:
		out.Status = sqldb.PayPending
	case payment.Failed, payment.Canceled:
		out.Status = sqldb.PayFailed
	default: // requires_action, processing, authorized: the provider confirms later
		out.Status = sqldb.PayAction
	}
	return out
}

func (p payer) Cancel(ctx context.Context, provider, reference, account string) error {
	prov, err := p.reg.Provider(provider)
	if err != nil {
		return err
	}
	return onAccount(prov, account).Cancel(ctx, reference)
}

func (p payer) Refund(ctx context.Context, r sqldb.RefundRequest) (sqldb.PayResult, error) {
	prov, err := p.reg.Provider(r.Provider)
	if err != nil {
		return sqldb.PayResult{}, err
	}
	res, err := onAccount(prov, r.Account).Refund(ctx, payment.Refund{Reference: r.Reference, Amount: r.Amount, Reason: r.Reason,
		IdempotencyKey: r.IdempotencyKey})
	if err != nil {
		return sqldb.PayResult{Provider: r.Provider, Status: sqldb.PayFailed}, err
	}
	return payResult(r.Provider, res.Reference, res.Status, res.Amount, payment.Result{}), nil
}

// stripeWebhook takes Stripe's signed events for a tenant
// (POST /webhooks/stripe/{tenant}): payment confirmations and failures of
// asynchronous methods (Alipay, WeChat Pay, 3-D Secure). Each event applies
// once; event types OMO does not apply are acknowledged.
func (s *server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	tenantID, err := id.Parse(id.Tenant, r.PathValue("tenant"))
	if err != nil {
		writeProblem(w, newProblem(http.StatusNotFound, "no such tenant"))
		return
	}
	ev, ok := s.parseStripeEvent(w, r)
	if !ok {
		return
	}
	s.applyStripeEvent(w, r, tenantID, ev)
}

// stripeConnectWebhook is the platform's one Connect endpoint
// (POST /webhooks/stripe): events of every brand's connected account
// arrive there, signed with its one secret. The brand is the one whose
// payment the event is about, taken on the event's account; an event
// about no payment of OMO's is acknowledged and ignored.
func (s *server) stripeConnectWebhook(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.parseStripeEvent(w, r)
	if !ok {
		return
	}
	tenantID, found, err := s.db.PaymentTenant(r.Context(), payment.StripeName, ev.Reference, ev.Account)
	if err != nil {
		s.webhookFailed(w, r, http.StatusServiceUnavailable, err)
		return
	}
	if !found {
		writeJSON(w, http.StatusOK, map[string]any{"received": true, "applied": false})
		return
	}
	s.applyStripeEvent(w, r, tenantID, ev)
}

// parseStripeEvent reads and verifies a delivery; it reports false when it
// has answered the request.
func (s *server) parseStripeEvent(w http.ResponseWriter, r *http.Request) (payment.WebhookEvent, bool) {
	st := s.deps.Payments.Stripe()
	if st == nil {
		writeProblem(w, newProblem(http.StatusNotFound, "Stripe is not configured (OMO_STRIPE_SECRET_KEY)"))
		return payment.WebhookEvent{}, false
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeProblem(w, newProblem(http.StatusBadRequest, "could not read the body"))
		return payment.WebhookEvent{}, false
	}
	ev, err := st.ParseWebhook(payload, r.Header.Get("Stripe-Signature"))
	if errors.Is(err, payment.ErrUnhandledEvent) {
		// Signed, but of a type OMO does not apply: acknowledge it, or
		// Stripe would retry it for days.
		writeJSON(w, http.StatusOK, map[string]any{"received": true, "applied": false})
		return ev, false
	}
	if err != nil {
		writeProblem(w, newProblem(http.StatusBadRequest, err.Error()))
		return ev, false
	}
	return ev, true
}

// applyStripeEvent applies a verified event to a tenant's payment.
func (s *server) applyStripeEvent(w http.ResponseWriter, r *http.Request, tenantID string, ev payment.WebhookEvent) {
	want, err := s.eventAccount(r.Context(), tenantID, ev.Reference)
	if err != nil {
		s.webhookFailed(w, r, http.StatusServiceUnavailable, err)
		return
	}
	if ev.Account != want {
		// Signed by the platform, but about another account than the one
		// the payment was taken on (or the brand uses): applying it could
		// confirm this brand's order with someone else's payment.
		writeProblem(w, newProblem(http.StatusBadRequest, fmt.Sprintf("the event is for Stripe account %q; this payment's account is %q",
			ev.Account, want)))
		return
	}
	if ev.Reference == "" || ev.Refund != "" || (ev.Status != payment.Succeeded && ev.Status != payment.Failed && ev.Status != payment.Canceled) {
		writeJSON(w, http.StatusOK, map[string]any{"received": true, "applied": false})
		return
	}
	pe := sqldb.PaymentEvent{TenantID: tenantID, Provider: payment.StripeName, EventID: ev.ID, Reference: ev.Reference,
		Succeeded: ev.Status == payment.Succeeded, Failure: ev.FailureMessage}
	if pe.Succeeded {
		if done := s.refundLatePayment(w, r, pe, ev.Amount); done {
			return
		}
	}
	applied, err := s.db.ApplyPaymentEvent(r.Context(), pe)
	if errors.Is(err, sqldb.ErrLatePayment) && s.refundLatePayment(w, r, pe, ev.Amount) {
		return // cancelled between the check above and the event: refunded now
	}
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, context.Canceled) {
			status = http.StatusServiceUnavailable
		}
		s.webhookFailed(w, r, status, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "applied": applied})
}

// eventAccount is the Stripe account an event about reference must come
// from: the one the payment was taken on, or, for an event about no stored
// payment, the brand's account today.
func (s *server) eventAccount(ctx context.Context, tenantID, reference string) (string, error) {
	acct, found, err := s.db.PaymentAccount(ctx, tenantID, payment.StripeName, reference)
	if err != nil || found {
		return acct, err
	}
	set, err := s.db.CommerceSettings(ctx, tenantID)
	return set.StripeAccount, err
}

// refundLatePayment gives back a payment that succeeded after its order
// was cancelled unpaid: the refund goes to the provider first (its
// idempotency key makes Stripe's retries of the event refund once), then
// the event is recorded. It reports whether it answered the request.
func (s *server) refundLatePayment(w http.ResponseWriter, r *http.Request, e sqldb.PaymentEvent, received int64) bool {
	lp, err := s.db.FindLatePayment(r.Context(), e.TenantID, e.Provider, e.Reference)
	if err != nil {
		s.webhookFailed(w, r, http.StatusServiceUnavailable, err)
		return true
	}
	if lp == nil {
		return false
	}
	amount := lp.Amount
	if received > 0 {
		amount = received
	}
	pr, err := s.payerFor(r.Context(), e.TenantID)
	var res sqldb.PayResult
	if err == nil {
		res, err = pr.Refund(r.Context(), sqldb.RefundRequest{Provider: e.Provider, Reference: e.Reference, Account: lp.Account, Amount: amount,
			Reason: "the order was cancelled before the payment arrived", IdempotencyKey: "late:" + lp.PaymentID})
	}
	if errors.Is(err, payment.ErrAlreadyRefunded) {
		// Refunded in full already (the order's cancel refunded a payment
		// that had just succeeded): record it as refunded.
		res, err = sqldb.PayResult{Provider: e.Provider, Reference: "already refunded", Status: sqldb.PaySucceeded}, nil
	}
	if err == nil && res.Status == sqldb.PayFailed {
		err = fmt.Errorf("the provider refused the refund of late payment %s", e.Reference)
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "stripe webhook: refunding a late payment", "err", err, "reference", e.Reference)
		writeProblem(w, newProblem(http.StatusServiceUnavailable, "the late payment could not be refunded yet; Stripe will retry"))
		return true
	}
	applied, err := s.db.RecordLateRefund(r.Context(), e, *lp, amount, res.Reference)
	if err != nil {
		s.webhookFailed(w, r, http.StatusServiceUnavailable, err)
		return true
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "applied": applied, "refunded": true})
	return true
}

// PaymentVoider cancels a tenant's open provider payment (its Stripe
// account included) for the jobs that cancel unpaid orders, logging what
// fails.
func PaymentVoider(reg *payment.Registry, log *slog.Logger) sqldb.VoidPayment {
	return func(ctx context.Context, tenantID, provider, reference, account string) error {
		err := payer{reg: reg}.Cancel(ctx, provider, reference, account)
		if err != nil {
			log.WarnContext(ctx, "voiding the payment of a cancelled unpaid order", "reference", reference, "err", err)
		}
		return err
	}
}

// PaymentRefunder sends a stored payment's refund to its provider, on the
// account the payment was taken on, for the job that retries refunds.
func PaymentRefunder(reg *payment.Registry) sqldb.RefundFunc {
	return payer{reg: reg}.Refund
}

// webhookFailed answers a delivery the store could not apply: Stripe sends
// it again later.
func (s *server) webhookFailed(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.log.ErrorContext(r.Context(), "stripe webhook", "err", err)
	writeProblem(w, newProblem(status, "the event could not be applied; Stripe will retry"))
}
