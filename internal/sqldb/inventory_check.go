package sqldb

import (
	"context"
	"fmt"
)

// inventoryChecks are the stock invariants, each a query returning one row
// per violation (three text columns). tenant_id = $1, or every tenant when
// $1 is ”.
var inventoryChecks = []struct{ name, query string }{
	{"on hand equals the journal", `SELECT s.tenant_id, s.sku || ' @ ' || s.location_id,
			CAST(s.on_hand AS TEXT) || ' on hand, ' || CAST(COALESCE(m.total, 0) AS TEXT) || ' in the journal'
		FROM inventory_levels s LEFT JOIN (SELECT tenant_id, sku, location_id, SUM(quantity) AS total FROM inventory_movements
			WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id, sku, location_id) m
			ON m.tenant_id = s.tenant_id AND m.sku = s.sku AND m.location_id = s.location_id
		WHERE ($1 = '' OR s.tenant_id = $1) AND s.on_hand <> COALESCE(m.total, 0)`},
	{"every journal entry has a level", `SELECT m.tenant_id, m.sku || ' @ ' || m.location_id, CAST(COUNT(*) AS TEXT) || ' movements'
		FROM inventory_movements m WHERE ($1 = '' OR m.tenant_id = $1) AND NOT EXISTS (SELECT 1 FROM inventory_levels s
			WHERE s.tenant_id = m.tenant_id AND s.sku = m.sku AND s.location_id = m.location_id)
		GROUP BY m.tenant_id, m.sku, m.location_id`},
	{"reserved equals the open reservation lines", `SELECT s.tenant_id, s.sku || ' @ ' || s.location_id,
			CAST(s.reserved AS TEXT) || ' reserved, ' || CAST(COALESCE(h.total, 0) AS TEXT) || ' held by reservations'
		FROM inventory_levels s LEFT JOIN (SELECT tenant_id, sku, location_id, SUM(quantity) AS total FROM inventory_reservation_lines
			WHERE ($1 = '' OR tenant_id = $1) AND status = 'held' GROUP BY tenant_id, sku, location_id) h
			ON h.tenant_id = s.tenant_id AND h.sku = s.sku AND h.location_id = s.location_id
		WHERE ($1 = '' OR s.tenant_id = $1) AND s.reserved <> COALESCE(h.total, 0)`},
	{"held lines have a level", `SELECT l.tenant_id, l.reservation_id, l.sku || ' @ ' || l.location_id FROM inventory_reservation_lines l
		WHERE ($1 = '' OR l.tenant_id = $1) AND l.status = 'held' AND NOT EXISTS (SELECT 1 FROM inventory_levels s
			WHERE s.tenant_id = l.tenant_id AND s.sku = l.sku AND s.location_id = l.location_id)`},
	{"no level below zero", `SELECT tenant_id, sku || ' @ ' || location_id, CAST(on_hand AS TEXT) || ' on hand, ' || CAST(reserved AS TEXT) || ' reserved'
		FROM inventory_levels WHERE ($1 = '' OR tenant_id = $1) AND (on_hand < 0 OR reserved < 0)`},
	{"a reservation is held exactly while a line holds", `SELECT r.tenant_id, r.id, r.status FROM inventory_reservations r
		WHERE ($1 = '' OR r.tenant_id = $1) AND (r.status = 'held') <> EXISTS (SELECT 1 FROM inventory_reservation_lines l
			WHERE l.tenant_id = r.tenant_id AND l.reservation_id = r.id AND l.status = 'held')`},
	{"every committed line sold once", `SELECT l.tenant_id, l.reservation_id, CAST(l.line_no AS TEXT) || ': ' ||
			CAST((SELECT COUNT(*) FROM inventory_movements m WHERE m.tenant_id = l.tenant_id AND m.reservation_id = l.reservation_id
				AND m.natural_key = 'reservation:' || l.reservation_id || ':' || CAST(l.line_no AS TEXT) AND m.kind = 'sale'
				AND m.quantity = -l.quantity) AS TEXT) || ' sales'
		FROM inventory_reservation_lines l WHERE ($1 = '' OR l.tenant_id = $1) AND (l.status = 'committed') <> EXISTS (
			SELECT 1 FROM inventory_movements m WHERE m.tenant_id = l.tenant_id AND m.reservation_id = l.reservation_id
				AND m.natural_key = 'reservation:' || l.reservation_id || ':' || CAST(l.line_no AS TEXT) AND m.kind = 'sale'
				AND m.quantity = -l.quantity)`},
	{"every transfer balances", `SELECT tenant_id, transfer_id, sku || ': ' || CAST(SUM(quantity) AS TEXT) FROM inventory_movements
		WHERE ($1 = '' OR tenant_id = $1) AND transfer_id <> '' GROUP BY tenant_id, transfer_id, sku HAVING SUM(quantity) <> 0`},
	{"no natural key applied twice", `SELECT tenant_id, natural_key, CAST(COUNT(*) AS TEXT) FROM inventory_movements
		WHERE ($1 = '' OR tenant_id = $1) AND natural_key IS NOT NULL GROUP BY tenant_id, natural_key HAVING COUNT(*) > 1`},
}

// CheckInventory runs the stock invariants for a tenant ("" for all) and
// returns one line per violation; none means the stock is sound: on hand
// equals the sum of the journal, reserved equals the open reservation
// lines, nothing below zero, every committed line sold exactly once, every
// transfer out matched by its transfer in. Tests run it after every scenario.
func (db *DB) CheckInventory(ctx context.Context, tenantID string) ([]string, error) {
	var out []string
	for _, c := range inventoryChecks {
		err := queryEach(ctx, db.Read(), c.query, []any{tenantID}, func(r Rows) error {
			var a, b, d string
			if err := r.Scan(&a, &b, &d); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s: tenant %s: %s: %s", c.name, a, b, d))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqldb: inventory check %q: %w", c.name, err)
		}
	}
	return out, nil
}
