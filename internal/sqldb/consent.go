package sqldb

import (
	"context"
	"fmt"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
)

// consentHistory lists every consent statement of a customer's merge group,
// oldest first.
func consentHistory(ctx context.Context, q Querier, tenantID, survivorID string) ([]customer.Consent, error) {
	rows, err := q.Query(ctx, `SELECT k.id, k.customer_id, k.message_channel, k.purpose, k.status, k.source, k.evidence,
		k.occurred_at, k.recorded_at
		FROM customer_consents k JOIN customers c ON c.tenant_id = k.tenant_id AND c.id = k.customer_id
		WHERE k.tenant_id = $1 AND c.survivor_id = $2 ORDER BY k.occurred_at, k.recorded_at, k.id`, tenantID, survivorID)
	if err != nil {
		return nil, fmt.Errorf("sqldb: consents: %w", err)
	}
	defer rows.Close()
	var out []customer.Consent
	for rows.Next() {
		var c customer.Consent
		if err := rows.Scan(&c.ID, &c.CustomerID, &c.MessageChannel, &c.Purpose, &c.Status, &c.Source, &c.Evidence,
			&c.OccurredAt, &c.RecordedAt); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// recordConsents appends consent statements to a live customer and audits them.
func recordConsents(ctx context.Context, tx *Tx, tenantID, customerID string, in []customer.ConsentInput, a Actor) ([]customer.Consent, error) {
	var out []customer.Consent
	var changes []customer.Change
	now := tx.Now()
	for _, c := range in {
		k := customer.Consent{ID: id.New(), CustomerID: customerID, MessageChannel: c.MessageChannel, Purpose: c.Purpose,
			Status: c.Status, Source: c.Source, Evidence: c.Evidence, OccurredAt: nowOr(c.OccurredAt, now), RecordedAt: now}
		_, err := tx.Exec(ctx, `INSERT INTO customer_consents (tenant_id, id, customer_id, message_channel, purpose, status,
			source, evidence, occurred_at, recorded_at, request_id, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			tenantID, k.ID, customerID, k.MessageChannel, k.Purpose, k.Status, k.Source, k.Evidence, k.OccurredAt, k.RecordedAt,
			a.RequestID, a.Actor)
		if err != nil {
			return nil, fmt.Errorf("sqldb: record consent: %w", err)
		}
		out = append(out, k)
		changes = append(changes, customer.Change{Field: "consents." + k.MessageChannel + "." + k.Purpose, After: k.Status})
	}
	if len(changes) > 0 {
		return out, writeAudit(ctx, tx, tenantID, customerID, "consent_recorded", changes, a)
	}
	return out, nil
}

// RecordConsents appends consent statements for the customer an id resolves to.
func (db *DB) RecordConsents(ctx context.Context, tenantID, customerID string, in []customer.ConsentInput, a Actor) ([]customer.Consent, error) {
	if err := customer.ValidateConsents(in, db.Now(), "body.consents"); err != nil {
		return nil, err
	}
	var out []customer.Consent
	err := db.WriteTx(ctx, func(tx *Tx) error {
		p, err := findProfile(ctx, tx, tenantID, customerID)
		if err != nil {
			return err
		}
		if p.ErasedAt != nil {
			return erasedError(p.ID)
		}
		out, err = recordConsents(ctx, tx, tenantID, p.ID, in, a)
		return err
	})
	return out, err
}

// ConsentHistory returns every consent statement of the customer an id
// resolves to, oldest first.
func (db *DB) ConsentHistory(ctx context.Context, tenantID, customerID string) ([]customer.Consent, error) {
	p, err := db.FindCustomerByID(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	return consentHistory(ctx, db.Read(), tenantID, p.ID)
}
