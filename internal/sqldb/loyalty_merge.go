package sqldb

import (
	"context"

	"github.com/omo-platform/omo/internal/loyalty"
)

// mergeLoyalty moves a merged customer's points to the survivor: its lots
// (which keep who earned them, for an unmerge) and an entry that moves its
// available, pending and owed balances. The survivor keeps the higher of the
// two tiers and the sum of their lifetime points.
func mergeLoyalty(ctx context.Context, tx *Tx, tenantID, survivorID, mergedID, mergeID string) error {
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, tenantID)
	if err != nil || cfg == nil {
		return err
	}
	gone, ok, err := loadMember(ctx, tx, tenantID, mergedID, true)
	if err != nil || !ok {
		return err
	}
	b, err := memberBalances(ctx, tx, tenantID, mergedID)
	if err != nil {
		return err
	}
	if err := moveBalances(ctx, tx, tenantID, mergedID, survivorID, "merge:"+mergeID, loyalty.EntryMerge, b, "merged into this member"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE loyalty_lots SET customer_id = $3 WHERE tenant_id = $1 AND customer_id = $2 AND remaining > 0`,
		tenantID, mergedID, survivorID); err != nil {
		return err
	}
	s, err := ensureMember(ctx, tx, cfg, tenantID, survivorID, gone.JoinedAt)
	if err != nil {
		return err
	}
	s.LifetimeEarned += gone.LifetimeEarned
	if gone.LastActivityAt.After(s.LastActivityAt) {
		s.LastActivityAt = gone.LastActivityAt
	}
	mine, _ := cfg.Ladder.ByID(s.TierID)
	theirs, ok := cfg.Ladder.ByID(gone.TierID)
	if ok && theirs.Rank > mine.Rank {
		s.BaseTierID = gone.BaseTierID
		if err := changeTier(ctx, tx, tenantID, &s, mine, theirs, "merge: the merged member's tier is higher", tx.Now()); err != nil {
			return err
		}
	}
	return saveMember(ctx, tx, tenantID, s)
}

// moveBalances posts an entry moving balances from one member to another.
func moveBalances(ctx context.Context, tx *Tx, tenantID, from, to, key, kind string, b MemberBalances, reason string) error {
	var ps []loyalty.Posting
	for _, m := range []struct {
		kind   string
		points int64
	}{{loyalty.AccountAvailable, b.Available}, {loyalty.AccountPending, b.Pending}, {loyalty.AccountOwed, b.Owed}} {
		if m.points == 0 {
			continue
		}
		ps = append(ps, loyalty.Posting{Account: member(m.kind, from), Points: -m.points},
			loyalty.Posting{Account: member(m.kind, to), Points: m.points})
	}
	if len(ps) == 0 {
		return nil
	}
	// Credits first, so that an owed balance (negative) moves without the
	// debit of a positive account meeting an empty one.
	ordered := make([]loyalty.Posting, 0, len(ps))
	for _, p := range ps {
		if p.Points > 0 {
			ordered = append(ordered, p)
		}
	}
	for _, p := range ps {
		if p.Points < 0 {
			ordered = append(ordered, p)
		}
	}
	_, err := postEntry(ctx, tx, loyalty.Entry{TenantID: tenantID, Kind: kind, CustomerID: to, NaturalKey: key,
		Reason: reason, Postings: ordered, OccurredAt: tx.Now()})
	return err
}

// unmergeLoyalty gives a detached customer (and those merged into it
// before) back what is left of the points they earned, with the owed balance
// the merge moved, as far as it is still owed.
func unmergeLoyalty(ctx context.Context, tx *Tx, tenantID, survivorID, mergedID, mergeID string) error {
	var b MemberBalances
	err := queryEach(ctx, tx, `SELECT status, COALESCE(SUM(remaining), 0) FROM loyalty_lots
		WHERE tenant_id = $1 AND customer_id = $2 AND remaining > 0 AND origin_customer_id IN
			(SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $3) GROUP BY status`,
		[]any{tenantID, survivorID, mergedID}, func(r Rows) error {
			var status string
			var n int64
			if err := r.Scan(&status, &n); err != nil {
				return err
			}
			if status == "available" {
				b.Available = n
			} else {
				b.Pending = n
			}
			return nil
		})
	if err != nil {
		return err
	}
	if b.Owed, err = owedMovedBy(ctx, tx, tenantID, survivorID, mergedID, mergeID); err != nil {
		return err
	}
	if err := moveBalances(ctx, tx, tenantID, survivorID, mergedID, "unmerge:"+mergeID, loyalty.EntryUnmerge, b,
		"unmerged: the points this member earned and has not spent go back"); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE loyalty_lots SET customer_id = $3 WHERE tenant_id = $1 AND customer_id = $2 AND remaining > 0
		AND origin_customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $3)`, tenantID, survivorID, mergedID)
	return err
}

// owedMovedBy is the owed balance a merge moved to the survivor, capped by
// what the survivor still owes (≤ 0).
func owedMovedBy(ctx context.Context, tx *Tx, tenantID, survivorID, mergedID, mergeID string) (int64, error) {
	var moved int64
	err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(p.points), 0) FROM loyalty_postings p JOIN loyalty_entries e
		ON e.tenant_id = p.tenant_id AND e.id = p.entry_id
		WHERE e.tenant_id = $1 AND e.natural_key = $2 AND p.account_kind = 'owed' AND p.account_owner = $3`,
		tenantID, "merge:"+mergeID, mergedID).Scan(&moved)
	if err != nil || moved == 0 {
		return 0, err
	}
	owed, err := accountBalance(ctx, tx, tenantID, member(loyalty.AccountOwed, survivorID), true)
	return max(-moved, owed), err // moved > 0 took the merged member's debt; owed ≤ 0
}
