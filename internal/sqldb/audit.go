package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
)

// Actor says who caused a write and in which request, for audit and merges.
type Actor struct {
	Actor     string // "key:<id>", "user:<id>" or "system"
	RequestID string
}

// AuditEntry is one recorded change to a customer's data.
type AuditEntry struct {
	ID         string            `json:"id"`
	CustomerID string            `json:"customer_id"`
	Action     string            `json:"action"`
	Changes    []customer.Change `json:"changes"`
	Actor      string            `json:"actor"`
	RequestID  string            `json:"request_id"`
	CreatedAt  time.Time         `json:"created_at"`
}

func writeAudit(ctx context.Context, tx *Tx, tenantID, customerID, action string, changes []customer.Change, a Actor) error {
	if changes == nil {
		changes = []customer.Change{}
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("sqldb: audit: %w", err)
	}
	err = tx.ExecLater(ctx, `INSERT INTO audit_log (tenant_id, id, customer_id, action, changes, actor, request_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tenantID, id.New(), customerID, action, string(raw), a.Actor, a.RequestID, tx.Now())
	if err != nil {
		return fmt.Errorf("sqldb: audit: %w", err)
	}
	return nil
}

// AuditFilter pages through a customer's audit log, newest first.
type AuditFilter struct {
	TenantID   string
	CustomerID string
	Limit      int
	Before     string // cursor: the last entry id of the previous page
}

// FindAuditEntries lists the audit log of a customer and of every customer
// merged into it, newest first.
func (db *DB) FindAuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	p, err := db.FindCustomerByID(ctx, f.TenantID, f.CustomerID)
	if err != nil {
		return nil, err
	}
	before := f.Before
	if before == "" {
		before = "~"
	}
	rows, err := db.Read().Query(ctx, `SELECT a.id, a.customer_id, a.action, a.changes, a.actor, a.request_id, a.created_at
		FROM audit_log a
		WHERE a.tenant_id = $1 AND a.customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)
			AND a.id < $3 ORDER BY a.id DESC LIMIT $4`,
		f.TenantID, p.ID, before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqldb: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var changes string
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.Action, &changes, &e.Actor, &e.RequestID, &e.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
