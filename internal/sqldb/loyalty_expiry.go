package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// lotBatch bounds the lots one maturation or expiry transaction handles.
const lotBatch = 5000

// onlyTenant is the tenant a sweep (maturity, expiry, review, holds,
// referrals) is limited to, "" for all. The jobs sweep every tenant; tests
// move their own clocks and must not sweep each other's points.
func onlyTenant(only []string) string {
	if len(only) > 0 {
		return only[0]
	}
	return ""
}

// MatureLoyaltyPoints makes pending points whose return window has passed
// available, in batches, and returns how many lots it moved. Points a member
// owes from earlier claw-backs are settled first. Safe to run concurrently
// and again: each lot matures under its own natural key.
func (db *DB) MatureLoyaltyPoints(ctx context.Context, now time.Time, only ...string) (int, error) {
	total := 0
	for {
		var n int
		err := db.writeTxAlone(ctx, func(tx *Tx) error {
			var err error
			n, err = matureBatch(ctx, tx, now, onlyTenant(only))
			return err
		})
		total += n
		if err != nil || n < lotBatch {
			return total, err
		}
	}
}

func matureBatch(ctx context.Context, tx *Tx, now time.Time, tenant string) (int, error) {
	var due []struct {
		tenant string
		lot    lotRow
	}
	err := queryEach(ctx, tx, `SELECT tenant_id, id, customer_id, origin_customer_id, entry_id, points, remaining, status, available_at, expires_at, earned_at
		FROM loyalty_lots WHERE status = 'pending' AND remaining > 0 AND available_at <= $1 AND ($3 = '' OR tenant_id = $3)
		ORDER BY available_at LIMIT $2`+lockFor(tx), []any{now.UTC(), lotBatch, tenant}, func(r Rows) error {
		var tenant string
		var l lotRow
		if err := r.Scan(&tenant, &l.ID, &l.CustomerID, &l.OriginCustomerID, &l.EntryID, &l.Points, &l.Remaining, &l.Status,
			&l.AvailableAt, &l.ExpiresAt, &l.EarnedAt); err != nil {
			return err
		}
		due = append(due, struct {
			tenant string
			lot    lotRow
		}{tenant, l})
		return nil
	})
	for _, d := range due {
		if err == nil {
			err = matureLot(ctx, tx, d.tenant, d.lot)
		}
	}
	return len(due), err
}

func matureLot(ctx context.Context, tx *Tx, tenantID string, l lotRow) error {
	// The member's row lock orders this with the member's sales, which
	// settle the same owed balance.
	if _, _, err := loadMember(ctx, tx, tenantID, l.CustomerID, true); err != nil {
		return err
	}
	owed, err := accountBalance(ctx, tx, tenantID, member(loyalty.AccountOwed, l.CustomerID), true)
	if err != nil {
		return err
	}
	settled := min(l.Remaining, -owed)
	postings := []loyalty.Posting{{Account: member(loyalty.AccountPending, l.CustomerID), Points: -l.Remaining}}
	if l.Remaining > settled {
		postings = append(postings, loyalty.Posting{Account: member(loyalty.AccountAvailable, l.CustomerID), Points: l.Remaining - settled})
	}
	if settled > 0 {
		postings = append(postings, loyalty.Posting{Account: member(loyalty.AccountOwed, l.CustomerID), Points: settled})
	}
	entryID, err := postEntry(ctx, tx, loyalty.Entry{TenantID: tenantID, Kind: loyalty.EntryMature, CustomerID: l.CustomerID,
		NaturalKey: "mature:" + l.ID, Reason: "the return window has passed", Postings: postings, OccurredAt: l.AvailableAt})
	if err != nil {
		return err
	}
	if settled > 0 {
		if err := takeLots(ctx, tx, tenantID, entryID, []loyalty.Take{{LotID: l.ID, Points: settled}}); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE loyalty_lots SET status = 'available' WHERE tenant_id = $1 AND id = $2`, tenantID, l.ID)
	return err
}

// dueLot is a lot to expire.
type dueLot struct {
	tenant, customer, lot string
	remaining             int64
	expiresAt             time.Time
}

// ExpireLoyaltyPoints expires every available lot whose expiry has passed,
// and the points of members inactive longer than their program allows. Each
// member's expiring lots of a batch post one entry; the lots are emptied and
// every take recorded. It returns how many lots expired.
func (db *DB) ExpireLoyaltyPoints(ctx context.Context, now time.Time, only ...string) (int, error) {
	total := 0
	for {
		var n int
		err := db.writeTxAlone(ctx, func(tx *Tx) error {
			due, err := dueLots(ctx, tx, now, onlyTenant(only))
			if err != nil {
				return err
			}
			n = len(due)
			return expireLots(ctx, tx, due, "expired", now)
		})
		total += n
		if err != nil {
			return total, err
		}
		if n < lotBatch {
			break
		}
	}
	n, err := db.expireInactive(ctx, now, onlyTenant(only))
	return total + n, err
}

func dueLots(ctx context.Context, tx *Tx, now time.Time, tenant string) ([]dueLot, error) {
	var due []dueLot
	err := queryEach(ctx, tx, `SELECT tenant_id, customer_id, id, remaining, expires_at FROM loyalty_lots
		WHERE status = 'available' AND remaining > 0 AND expires_at <= $1 AND ($3 = '' OR tenant_id = $3)
		ORDER BY expires_at LIMIT $2`+lockFor(tx), []any{now.UTC(), lotBatch, tenant}, func(r Rows) error {
		var d dueLot
		err := r.Scan(&d.tenant, &d.customer, &d.lot, &d.remaining, &d.expiresAt)
		due = append(due, d)
		return err
	})
	return due, err
}

// expireLots posts one expiry entry per member of the lots given, set-based:
// the entries, their postings and the takes go in multi-row INSERTs and the
// lots are emptied by IN lists, so a million lots cost thousands of
// statements, not millions.
func expireLots(ctx context.Context, tx *Tx, due []dueLot, reason string, now time.Time) error {
	type group struct {
		tenant, customer, entry, first string
		points                         int64
	}
	groups := map[[2]string]*group{}
	var order []*group
	var takes [][]any
	lotsByTenant := map[string][]string{}
	for _, d := range due {
		k := [2]string{d.tenant, d.customer}
		g := groups[k]
		if g == nil {
			g = &group{tenant: d.tenant, customer: d.customer, entry: id.New(), first: d.lot}
			groups[k] = g
			order = append(order, g)
		}
		g.points, g.first = g.points+d.remaining, min(g.first, d.lot)
		takes = append(takes, []any{d.tenant, g.entry, d.lot, d.remaining})
		lotsByTenant[d.tenant] = append(lotsByTenant[d.tenant], d.lot)
	}
	var entries, postings [][]any
	for _, g := range order {
		entries = append(entries, []any{g.tenant, g.entry, loyalty.EntryExpire, g.customer, "expire:" + g.first,
			fmt.Sprintf("%d points %s", g.points, reason), now.UTC(), tx.Now()})
		postings = append(postings, []any{g.tenant, g.entry, 1, loyalty.AccountAvailable, g.customer, -g.points},
			[]any{g.tenant, g.entry, 2, loyalty.AccountExpired, "", g.points})
		if err := addToAccount(ctx, tx, g.tenant, loyalty.Posting{Account: member(loyalty.AccountAvailable, g.customer), Points: -g.points}); err != nil {
			return err
		}
	}
	for _, ins := range []struct {
		table, cols string
		rows        [][]any
	}{
		{"loyalty_entries", "tenant_id, id, kind, customer_id, natural_key, reason, occurred_at, created_at", entries},
		{"loyalty_postings", "tenant_id, entry_id, seq, account_kind, account_owner, points", postings},
		{"loyalty_lot_takes", "tenant_id, entry_id, lot_id, points", takes},
	} {
		if err := insertRows(ctx, tx, ins.table, ins.cols, ins.rows, ""); err != nil {
			return err
		}
	}
	for tenant, ids := range lotsByTenant {
		if err := emptyLots(ctx, tx, tenant, ids); err != nil {
			return err
		}
	}
	return nil
}

// emptyLots sets lots' remaining points to zero, in IN lists of
// power-of-two sizes (one prepared statement per size).
func emptyLots(ctx context.Context, tx *Tx, tenantID string, ids []string) error {
	for len(ids) > 0 {
		n := chunkLen(len(ids))
		args := make([]any, 0, n+1)
		args = append(args, tenantID)
		for _, l := range ids[:n] {
			args = append(args, l)
		}
		if _, err := tx.Exec(ctx, `UPDATE loyalty_lots SET remaining = 0 WHERE tenant_id = $1 AND id IN (`+inList(tx.Engine(), 2, n)+`)`, args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// expireInactive expires every available point of members whose last
// purchase is older than their program's inactivity limit.
func (db *DB) expireInactive(ctx context.Context, now time.Time, tenant string) (int, error) {
	programs, err := queryStrings(ctx, db.Read(), `SELECT tenant_id FROM loyalty_programs WHERE $1 = '' OR tenant_id = $1`, tenant)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, tenantID := range programs {
		cfg, err := db.loyaltyConfigFor(ctx, db.Read(), tenantID)
		if err != nil {
			return total, err
		}
		if cfg == nil || cfg.Program.Expiry.InactivityMonths == 0 {
			continue
		}
		p := cfg.Program
		cutoff := now.AddDate(0, -p.Expiry.InactivityMonths, 0)
		err = db.writeTxAlone(ctx, func(tx *Tx) error {
			var due []dueLot
			err := queryEach(ctx, tx, `SELECT l.tenant_id, l.customer_id, l.id, l.remaining, l.earned_at FROM loyalty_lots l
				JOIN loyalty_members m ON m.tenant_id = l.tenant_id AND m.customer_id = l.customer_id
				WHERE l.tenant_id = $1 AND l.status = 'available' AND l.remaining > 0 AND m.last_activity_at < $2`,
				[]any{tenantID, cutoff.UTC()}, func(r Rows) error {
					var d dueLot
					err := r.Scan(&d.tenant, &d.customer, &d.lot, &d.remaining, &d.expiresAt)
					due = append(due, d)
					return err
				})
			if err != nil {
				return err
			}
			total += len(due)
			return expireLots(ctx, tx, due, fmt.Sprintf("expired after %d months without a purchase", p.Expiry.InactivityMonths), now)
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
