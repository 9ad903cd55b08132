package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
)

func erasedError(customerID string) error {
	return apperr.New(apperr.Conflict, "customer %s was erased", id.Format(id.Customer, customerID))
}

// EraseCustomer erases the personal data of the person an id resolves to and
// of every customer merged into it: identifiers become keyed-hash tombstones
// (so they cannot silently re-create the person), traits are cleared,
// consent evidence is removed, merge snapshots are emptied. Non-personal
// facts keep their customer id. A job scrubs old values from the audit log and
// cached responses. Erasing twice is not an error.
func (db *DB) EraseCustomer(ctx context.Context, tenantID, customerID string, a Actor) (*Profile, error) {
	t, err := db.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out *Profile
	err = db.WriteTx(ctx, func(tx *Tx) error {
		p, err := findProfile(ctx, tx, tenantID, customerID)
		if err != nil {
			return err
		}
		if p.ErasedAt == nil {
			if err := eraseGroup(ctx, tx, t.Pepper, p, a); err != nil {
				return err
			}
		}
		out, err = findProfile(ctx, tx, tenantID, p.ID)
		return err
	})
	return out, err
}

func eraseGroup(ctx context.Context, tx *Tx, pepper []byte, p *Profile, a Actor) error {
	now := tx.Now()
	for _, i := range p.Identifiers {
		if _, err := tx.Exec(ctx, `INSERT INTO identifier_tombstones (tenant_id, type, value_hash, erased_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, p.TenantID, i.Type, tombstoneHash(pepper, i), now); err != nil {
			return fmt.Errorf("sqldb: tombstone: %w", err)
		}
	}
	ids, err := groupIDs(ctx, tx, p.TenantID, p.ID)
	if err != nil {
		return err
	}
	for _, cid := range ids {
		for _, q := range []string{
			`DELETE FROM customer_identifiers WHERE tenant_id = $1 AND customer_id = $2`,
			`DELETE FROM customer_search_terms WHERE tenant_id = $1 AND customer_id = $2`,
			`UPDATE customer_consents SET source = '', evidence = '' WHERE tenant_id = $1 AND customer_id = $2`,
			`UPDATE customer_merges SET snapshot = '{}', linked_by = '[]' WHERE tenant_id = $1 AND (survivor_id = $2 OR merged_id = $2)`,
		} {
			if _, err := tx.Exec(ctx, q, p.TenantID, cid); err != nil {
				return fmt.Errorf("sqldb: erase: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE customers SET first_name = NULL, last_name = NULL, gender = NULL, birthday = NULL,
			locale = NULL, home_location = NULL, attributes = '{}', trait_sources = '{}', erased_at = $3, updated_at = $3
			WHERE tenant_id = $1 AND id = $2`, p.TenantID, cid, now); err != nil {
			return fmt.Errorf("sqldb: erase: %w", err)
		}
	}
	if err := writeAudit(ctx, tx, p.TenantID, p.ID, "erased", nil, a); err != nil {
		return err
	}
	return tx.Enqueue(ctx, customer.ErasedJob{TenantID: p.TenantID, CustomerIDs: ids}, nil)
}

// ScrubErased removes personal data that outlived an erasure: before/after
// values in the audit log (the field names stay, as evidence of what was done)
// and cached idempotent responses about the customers. It is the work of
// customer.ErasedJob and may run more than once.
func (db *DB) ScrubErased(ctx context.Context, j customer.ErasedJob) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		for _, cid := range j.CustomerIDs {
			if err := scrubAudit(ctx, tx, j.TenantID, cid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET response_body = NULL, status_code = 410, content_type = NULL
				WHERE tenant_id = $1 AND customer_id = $2`, j.TenantID, cid); err != nil {
				return err
			}
		}
		return nil
	})
}

func scrubAudit(ctx context.Context, tx *Tx, tenantID, customerID string) error {
	entries, err := auditRows(ctx, tx, tenantID, customerID)
	if err != nil {
		return err
	}
	for eid, changes := range entries {
		for i := range changes {
			if changes[i].Before != nil {
				changes[i].Before = "[erased]"
			}
			if changes[i].After != nil {
				changes[i].After = "[erased]"
			}
		}
		raw, _ := json.Marshal(changes)
		if _, err := tx.Exec(ctx, `UPDATE audit_log SET changes = $4 WHERE tenant_id = $1 AND customer_id = $2 AND id = $3`,
			tenantID, customerID, eid, string(raw)); err != nil {
			return err
		}
	}
	return nil
}

func auditRows(ctx context.Context, tx *Tx, tenantID, customerID string) (map[string][]customer.Change, error) {
	rows, err := tx.Query(ctx, `SELECT id, changes FROM audit_log WHERE tenant_id = $1 AND customer_id = $2`, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]customer.Change{}
	for rows.Next() {
		var eid, raw string
		if err := rows.Scan(&eid, &raw); err != nil {
			return nil, err
		}
		var changes []customer.Change
		if err := json.Unmarshal([]byte(raw), &changes); err != nil {
			return nil, err
		}
		out[eid] = changes
	}
	return out, rows.Err()
}
