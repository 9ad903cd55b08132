package sqldb

import (
	"context"
	"fmt"
)

// loyaltyChecks are the ledger's invariants, each a query that returns one
// row per violation (text columns describing it). tenant_id = $1, or every
// tenant when $1 is ”.
var loyaltyChecks = []struct{ name, query string }{
	{"entries balance", `SELECT tenant_id, entry_id, CAST(SUM(points) AS TEXT) FROM loyalty_postings
		WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id, entry_id HAVING SUM(points) <> 0`},
	{"every entry has postings", `SELECT e.tenant_id, e.id, e.kind FROM loyalty_entries e
		WHERE ($1 = '' OR e.tenant_id = $1) AND NOT EXISTS (SELECT 1 FROM loyalty_postings p WHERE p.tenant_id = e.tenant_id AND p.entry_id = e.id)`},
	{"cached balances equal their postings", `SELECT a.tenant_id, a.kind || ':' || a.owner,
			CAST(a.balance AS TEXT) || ' cached, ' || CAST(COALESCE(p.total, 0) AS TEXT) || ' posted'
		FROM loyalty_accounts a LEFT JOIN (SELECT tenant_id, account_kind, account_owner, SUM(points) AS total FROM loyalty_postings
			WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id, account_kind, account_owner) p
			ON p.tenant_id = a.tenant_id AND p.account_kind = a.kind AND p.account_owner = a.owner
		WHERE ($1 = '' OR a.tenant_id = $1) AND a.balance <> COALESCE(p.total, 0)`},
	{"postings to cached accounts have an account", `SELECT p.tenant_id, p.account_kind || ':' || p.account_owner, CAST(p.total AS TEXT)
		FROM (SELECT tenant_id, account_kind, account_owner, SUM(points) AS total FROM loyalty_postings
			WHERE ($1 = '' OR tenant_id = $1) AND account_kind IN ('available', 'pending', 'owed', 'held', 'budget')
			GROUP BY tenant_id, account_kind, account_owner) p
		WHERE p.total <> 0 AND NOT EXISTS (SELECT 1 FROM loyalty_accounts a
			WHERE a.tenant_id = p.tenant_id AND a.kind = p.account_kind AND a.owner = p.account_owner)`},
	{"no member balance below zero", `SELECT tenant_id, kind || ':' || owner, CAST(balance AS TEXT) FROM loyalty_accounts
		WHERE ($1 = '' OR tenant_id = $1) AND ((kind IN ('available', 'pending', 'held', 'budget') AND balance < 0) OR (kind = 'owed' AND balance > 0))`},
	{"lots add up to the member's balance", `SELECT a.tenant_id, a.kind || ':' || a.owner,
			CAST(a.balance AS TEXT) || ' in the account, ' || CAST(COALESCE(l.total, 0) AS TEXT) || ' in lots'
		FROM loyalty_accounts a LEFT JOIN (SELECT tenant_id, customer_id, status, SUM(remaining) AS total FROM loyalty_lots
			WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id, customer_id, status) l
			ON l.tenant_id = a.tenant_id AND l.customer_id = a.owner AND l.status = a.kind
		WHERE ($1 = '' OR a.tenant_id = $1) AND a.kind IN ('available', 'pending') AND a.balance <> COALESCE(l.total, 0)`},
	{"lots without an account", `SELECT l.tenant_id, l.customer_id, l.status FROM loyalty_lots l
		WHERE ($1 = '' OR l.tenant_id = $1) AND l.remaining > 0 AND NOT EXISTS (SELECT 1 FROM loyalty_accounts a
			WHERE a.tenant_id = l.tenant_id AND a.kind = l.status AND a.owner = l.customer_id)`},
	{"every lot equals its points less its takes", `SELECT l.tenant_id, l.id, CAST(l.points AS TEXT) || ' − takes ≠ ' || CAST(l.remaining AS TEXT)
		FROM loyalty_lots l LEFT JOIN (SELECT tenant_id, lot_id, SUM(points) AS total FROM loyalty_lot_takes
			WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id, lot_id) t ON t.tenant_id = l.tenant_id AND t.lot_id = l.id
		WHERE ($1 = '' OR l.tenant_id = $1) AND l.points - COALESCE(t.total, 0) <> l.remaining`},
	{"held balances equal the open holds", `SELECT a.tenant_id, a.owner, CAST(a.balance AS TEXT) || ' held, ' ||
			CAST(COALESCE(h.total, 0) AS TEXT) || ' in open holds'
		FROM loyalty_accounts a LEFT JOIN (SELECT tenant_id, customer_id, SUM(points) AS total FROM loyalty_holds
			WHERE ($1 = '' OR tenant_id = $1) AND status = 'held' GROUP BY tenant_id, customer_id) h
			ON h.tenant_id = a.tenant_id AND h.customer_id = a.owner
		WHERE ($1 = '' OR a.tenant_id = $1) AND a.kind = 'held' AND a.balance <> COALESCE(h.total, 0)`},
	{"no natural key applied twice", `SELECT tenant_id, natural_key, CAST(COUNT(*) AS TEXT) FROM loyalty_entries
		WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id, natural_key HAVING COUNT(*) > 1`},
	{"one earn entry per transaction", `SELECT tenant_id, transaction_id, CAST(COUNT(*) AS TEXT) FROM loyalty_entries
		WHERE ($1 = '' OR tenant_id = $1) AND kind = 'earn' AND transaction_id IS NOT NULL GROUP BY tenant_id, transaction_id HAVING COUNT(*) > 1`},
	{"claw-backs within what was earned", `SELECT tenant_id, entry_id, CAST(line_number AS TEXT) FROM loyalty_award_lines
		WHERE ($1 = '' OR tenant_id = $1) AND (clawed < 0 OR clawed > points)`},
}

// CheckLoyalty runs the ledger's invariants for a tenant ("" for all) and
// returns one line per violation; none means the ledger is sound. Tests run
// it after every scenario; `omo loyalty check` runs it on a live database.
func (db *DB) CheckLoyalty(ctx context.Context, tenantID string) ([]string, error) {
	var out []string
	for _, c := range loyaltyChecks {
		err := queryEach(ctx, db.Read(), c.query, []any{tenantID}, func(r Rows) error {
			var a, b, d string
			if err := r.Scan(&a, &b, &d); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s: tenant %s: %s: %s", c.name, a, b, d))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqldb: loyalty check %q: %w", c.name, err)
		}
	}
	return out, nil
}
