package payment

import (
	"context"
	"strings"

	"github.com/omo-platform/omo/internal/id"
)

// OfflineName is the offline provider's name, stored with its payments.
const OfflineName = "offline"

// Offline is the provider for money that changes hands outside OMO: paid at
// a location's counter, to the courier, or already at the POS. It holds no
// money and keeps no state, so it only records what people say happened:
//
//   - PayInStore and CashOnDelivery answer Pending with nothing captured:
//     the money is collected later, and marking it collected is the order's
//     business (an associate or the courier's report), not a provider call.
//   - PaidAtPOS answers Succeeded with the whole amount captured and the POS
//     reference (Intent.PaymentMethod) as the payment's reference: the POS
//     took the money before it asked OMO for the order.
//   - Refund answers Succeeded at once: cash (or the POS's own refund) is
//     handed back at the counter as the refund is recorded. The caller keeps
//     refunds within what was captured; Offline cannot check it.
//   - Cancel does nothing and never fails: no money moved through OMO. A POS
//     that took money for an order OMO refused voids its own sale.
//
// References are deterministic (method and order, or the POS reference), so a
// retried Pay answers the same reference.
type Offline struct{}

// Name implements Provider.
func (Offline) Name() string { return OfflineName }

// Methods implements Provider.
func (Offline) Methods() []Method { return []Method{PayInStore, CashOnDelivery, PaidAtPOS} }

// Pay implements Provider.
func (o Offline) Pay(_ context.Context, in Intent) (Result, error) {
	if err := in.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{Provider: OfflineName, Method: in.Method}
	switch in.Method {
	case PayInStore, CashOnDelivery:
		res.Reference = string(in.Method) + ":" + strings.TrimSpace(in.OrderID)
		res.Status = Pending
	case PaidAtPOS:
		res.Reference = string(PaidAtPOS) + ":" + strings.TrimSpace(in.PaymentMethod)
		res.Status = Succeeded
		res.Captured = in.Amount
	default:
		return Result{}, notTaken(o, in.Method)
	}
	return res, nil
}

// Cancel implements Provider: offline payments hold no money to release.
func (Offline) Cancel(context.Context, string) error { return nil }

// Refund implements Provider: the refund is handed back at the counter as it
// is recorded. Its reference is made from the idempotency key when there is
// one, so a retried refund answers the same reference.
func (Offline) Refund(_ context.Context, r Refund) (RefundResult, error) {
	if err := validateRefund(r); err != nil {
		return RefundResult{}, err
	}
	key := r.IdempotencyKey
	if key == "" {
		key = id.New()
	}
	return RefundResult{Reference: "refund:" + r.Reference + ":" + key, Status: Succeeded, Amount: r.Amount}, nil
}
