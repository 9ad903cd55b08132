package sqldb

import (
	"context"
	"errors"
	"time"
)

// quoteMember reads what a quote needs of a customer in one statement: the
// customer its merge group survives in, that member's standing (joined
// false when it never earned) and balances. A quote is a handful of point
// lookups, and each statement costs more than its lookup.
func quoteMember(ctx context.Context, q Querier, tenantID, customerID string) (survivor string, m memberRow, joined bool, b MemberBalances, err error) {
	var (
		memberID                                    *string
		tierID, baseTierID                          *string
		tierSince, reviewAt, joinedAt, lastActivity *time.Time
		lifetime                                    *int64
	)
	err = q.QueryRow(ctx, `SELECT c.survivor_id, m.customer_id, m.tier_id, m.base_tier_id, m.tier_since, m.review_at, m.lifetime_earned,
			m.joined_at, m.last_activity_at,
			COALESCE((SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'available' AND owner = c.survivor_id), 0),
			COALESCE((SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'pending' AND owner = c.survivor_id), 0),
			COALESCE((SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'owed' AND owner = c.survivor_id), 0),
			COALESCE((SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'held' AND owner = c.survivor_id), 0)
		FROM customers c LEFT JOIN loyalty_members m ON m.tenant_id = c.tenant_id AND m.customer_id = c.survivor_id
		WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, customerID).Scan(&survivor, &memberID, &tierID, &baseTierID, &tierSince, &reviewAt,
		&lifetime, &joinedAt, &lastActivity, &b.Available, &b.Pending, &b.Owed, &b.Held)
	if errors.Is(err, ErrNoRows) {
		return "", m, false, b, notFoundCustomer(customerID)
	}
	if err != nil || memberID == nil {
		return survivor, m, false, b, err
	}
	m = memberRow{CustomerID: *memberID, TierID: *tierID, BaseTierID: *baseTierID, TierSince: tierSince.UTC(), ReviewAt: reviewAt.UTC(),
		LifetimeEarned: *lifetime, JoinedAt: joinedAt.UTC(), LastActivityAt: lastActivity.UTC()}
	return survivor, m, true, b, nil
}
