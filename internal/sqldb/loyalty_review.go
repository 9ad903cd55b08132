package sqldb

import (
	"context"
	"fmt"
	"time"
)

// ReviewLoyaltyTiers reviews the tiers of members whose qualification period
// has ended (after the program's grace days): a member keeps the tier when
// the year before the review reached its threshold, and otherwise goes down
// one tier, never more; what the current window already earns still counts.
// It returns how many members it reviewed.
func (db *DB) ReviewLoyaltyTiers(ctx context.Context, now time.Time, only ...string) (int, error) {
	total := 0
	for {
		var n int
		err := db.writeTxAlone(ctx, func(tx *Tx) error {
			var err error
			n, err = reviewBatch(ctx, tx, now, onlyTenant(only))
			return err
		})
		total += n
		if err != nil || n < lotBatch {
			return total, err
		}
	}
}

func reviewBatch(ctx context.Context, tx *Tx, now time.Time, tenant string) (int, error) {
	type due struct {
		tenant string
		m      memberRow
	}
	var members []due
	err := queryEach(ctx, tx, `SELECT tenant_id, `+memberColumns+` FROM loyalty_members WHERE review_at <= $1 AND ($3 = '' OR tenant_id = $3)
		ORDER BY review_at LIMIT $2`+lockFor(tx), []any{now.UTC(), lotBatch, tenant}, func(r Rows) error {
		var d due
		err := r.Scan(&d.tenant, &d.m.CustomerID, &d.m.TierID, &d.m.BaseTierID, &d.m.TierSince, &d.m.ReviewAt, &d.m.LifetimeEarned,
			&d.m.JoinedAt, &d.m.LastActivityAt)
		d.m.ReviewAt, d.m.JoinedAt = d.m.ReviewAt.UTC(), d.m.JoinedAt.UTC()
		members = append(members, d)
		return err
	})
	if err != nil {
		return 0, err
	}
	reviewed := 0
	for _, d := range members {
		ok, err := reviewMember(ctx, tx, d.tenant, d.m, now)
		if err != nil {
			return reviewed, err
		}
		if ok {
			reviewed++
		}
	}
	return reviewed, nil
}

// reviewMember reviews one member; false when its grace days still run.
func reviewMember(ctx context.Context, tx *Tx, tenantID string, m memberRow, now time.Time) (bool, error) {
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, tenantID)
	if err != nil || cfg == nil {
		return false, err
	}
	t := cfg.Program.Tiering
	if now.Before(m.ReviewAt.AddDate(0, 0, t.GraceDays)) {
		return false, nil
	}
	current, ok := cfg.Ladder.ByID(m.TierID)
	if !ok {
		current, _ = cfg.Ladder.Entry()
	}
	period, err := qualifyingValue(ctx, tx, cfg, tenantID, m.CustomerID, m.ReviewAt.AddDate(-1, 0, 0), m.ReviewAt)
	if err != nil {
		return false, err
	}
	kept, _ := cfg.Ladder.Review(current, period)
	if kept.ID == "" {
		kept = current
	}
	window, err := qualifyingValue(ctx, tx, cfg, tenantID, m.CustomerID, t.PeriodStart(now, m.JoinedAt), now)
	if err != nil {
		return false, err
	}
	target := kept
	if earned, ok := cfg.Ladder.Earned(window); ok && earned.Rank > target.Rank {
		target = earned
	}
	m.BaseTierID = target.ID
	reviewAt := m.ReviewAt
	for !m.ReviewAt.After(now) {
		m.ReviewAt = t.PeriodEnd(m.ReviewAt, m.JoinedAt)
	}
	if target.ID != current.ID {
		reason := fmt.Sprintf("review of the period ending %s: qualifying value %d against %d", reviewAt.Format("2006-01-02"), period, current.Threshold)
		if err := changeTier(ctx, tx, tenantID, &m, current, target, reason, now); err != nil {
			return false, err
		}
	}
	return true, saveMember(ctx, tx, tenantID, m)
}
