package sqldb

import (
	"context"
	"errors"

	"github.com/omo-platform/omo/internal/id"
)

// LatePayment is a provider payment that succeeded after its order was
// cancelled unpaid (the shopper finished Alipay after the payment window,
// or the order was cancelled while its payment was open): the money must
// go back, since no order will ever use it.
type LatePayment struct {
	PaymentID, OrderID, Provider, Reference, Account string
	Amount                                           int64
}

// FindLatePayment answers the late payment a success event is about, or
// nil when the event's payment belongs to an order that is still awaiting
// it (or already paid), or to no order of the tenant.
func (db *DB) FindLatePayment(ctx context.Context, tenantID, provider, reference string) (*LatePayment, error) {
	var lp LatePayment
	var status, orderPayment string
	var refunded int64
	err := db.Read().QueryRow(ctx, `SELECT p.id, p.order_id, p.account, p.amount, p.status, p.refunded, o.payment_status
		FROM payments p JOIN orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
		WHERE p.tenant_id = $1 AND p.provider = $2 AND p.reference = $3`, tenantID, provider, reference).
		Scan(&lp.PaymentID, &lp.OrderID, &lp.Account, &lp.Amount, &status, &refunded, &orderPayment)
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if orderPayment != PaymentFailed || status != PayFailed || refunded > 0 {
		return nil, nil
	}
	lp.Provider, lp.Reference = provider, reference
	return &lp, nil
}

// RecordLateRefund records, once per provider event, that a late payment
// was taken and refunded in full through its provider (refundRef is the
// provider's refund): the payment shows both, a refund row keeps the
// provider's reference, and the order's history says what happened.
func (db *DB) RecordLateRefund(ctx context.Context, e PaymentEvent, lp LatePayment, amount int64, refundRef string) (bool, error) {
	applied := false
	err := db.WriteTx(ctx, func(tx *Tx) error {
		applied = false
		n, err := tx.Exec(ctx, `INSERT INTO payment_webhook_events (tenant_id, provider, event_id, received_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, e.TenantID, e.Provider, e.EventID, tx.Now())
		if err != nil || n == 0 {
			return err
		}
		n, err = tx.Exec(ctx, `UPDATE payments SET status = 'refunded', amount = $3, captured = $3, refunded = $3, updated_at = $4
			WHERE tenant_id = $1 AND id = $2 AND refunded = 0`, e.TenantID, lp.PaymentID, amount, tx.Now())
		if err != nil || n == 0 {
			return err
		}
		applied = true
		if _, err := tx.Exec(ctx, `INSERT INTO refunds (tenant_id, id, order_id, return_id, payment_id, amount, points, status, reference, created_at)
			VALUES ($1, $2, $3, '', $4, $5, 0, $6, $7, $8)`, e.TenantID, id.New(), lp.OrderID, lp.PaymentID, amount, PaySucceeded, refundRef, tx.Now()); err != nil {
			return err
		}
		return recordOrderEvent(ctx, tx, e.TenantID, lp.OrderID, "payment.refunded_late", Actor{Actor: "provider:" + e.Provider}, map[string]any{
			"payment_id": id.Format(id.Payment, lp.PaymentID), "amount": amount, "refund": refundRef,
			"reason": "the payment succeeded after the order was cancelled; refunded in full"})
	})
	return applied, err
}

// PaymentAccount is the provider account a tenant's payment was taken on
// (found false when the tenant has no payment with that reference).
func (db *DB) PaymentAccount(ctx context.Context, tenantID, provider, reference string) (string, bool, error) {
	var acct string
	err := db.Read().QueryRow(ctx, `SELECT account FROM payments WHERE tenant_id = $1 AND provider = $2 AND reference = $3`,
		tenantID, provider, reference).Scan(&acct)
	if errors.Is(err, ErrNoRows) {
		return "", false, nil
	}
	return acct, err == nil, err
}

// PaymentTenant finds the tenant of a payment by its provider reference
// and the account it was taken on, for a webhook endpoint shared by every
// brand (Stripe Connect). A provider's references are unique to it.
func (db *DB) PaymentTenant(ctx context.Context, provider, reference, account string) (string, bool, error) {
	if reference == "" {
		return "", false, nil
	}
	var tenantID string
	err := db.Read().QueryRow(ctx, `SELECT tenant_id FROM payments WHERE provider = $1 AND reference = $2 AND account = $3 LIMIT 1`,
		provider, reference, account).Scan(&tenantID)
	if errors.Is(err, ErrNoRows) {
		return "", false, nil
	}
	return tenantID, err == nil, err
}
