package sqldb

import (
	"context"
	"errors"
	"time"

	"github.com/omo-platform/omo/internal/loyalty"
)

// qualifyingWindow is the tier window a quote sums the member's qualifying
// value over, when it is known before the member is read (every window but
// the membership year, which starts on the member's joining date).
type qualifyingWindow struct {
	column   string // spend or status_points
	from, to string // local days, inclusive
	known    bool
}

func quoteWindow(cfg *loyaltyConfig, at time.Time) qualifyingWindow {
	t := cfg.Program.Tiering
	if len(cfg.Ladder) == 0 || t.Window == loyalty.WindowMembershipYear {
		return qualifyingWindow{column: "spend", from: "9999-12-31", to: ""}
	}
	col := "spend"
	if t.Basis == loyalty.BasisStatusPoints {
		col = "status_points"
	}
	return qualifyingWindow{column: col, from: t.PeriodStart(at, time.Time{}).Format("2006-01-02"), to: at.Format("2006-01-02"), known: true}
}

// quoteMember reads what a quote needs of a customer in one statement: the
// customer its merge group survives in, that member's standing (joined
// false when it never earned), balances, and its qualifying value over w
// (summed over the merge group, as qualifyingValue does). A quote is a
// handful of point lookups, and each statement costs more than its lookup.
// It also reads the program's version (-1 without a program), so that a
// quote can trust the config cached in this process without a statement
// of its own.
func quoteMember(ctx context.Context, q Querier, tenantID, customerID string, w qualifyingWindow) (survivor string, m memberRow, joined bool,
	b MemberBalances, qualifying int64, version int, err error) {
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
			COALESCE((SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'held' AND owner = c.survivor_id), 0),
			COALESCE((SELECT SUM(`+w.column+`) FROM loyalty_qualifying WHERE tenant_id = $1 AND day >= $3 AND day <= $4
				AND customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = c.survivor_id)), 0),
			COALESCE((SELECT version FROM loyalty_programs WHERE tenant_id = $1), -1)
		FROM customers c LEFT JOIN loyalty_members m ON m.tenant_id = c.tenant_id AND m.customer_id = c.survivor_id
		WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, customerID, w.from, w.to).Scan(&survivor, &memberID, &tierID, &baseTierID, &tierSince, &reviewAt,
		&lifetime, &joinedAt, &lastActivity, &b.Available, &b.Pending, &b.Owed, &b.Held, &qualifying, &version)
	if errors.Is(err, ErrNoRows) {
		return "", m, false, b, 0, 0, notFoundCustomer(customerID)
	}
	if err != nil || memberID == nil {
		return survivor, m, false, b, qualifying, version, err
	}
	m = memberRow{CustomerID: *memberID, TierID: *tierID, BaseTierID: *baseTierID, TierSince: tierSince.UTC(), ReviewAt: reviewAt.UTC(),
		LifetimeEarned: *lifetime, JoinedAt: joinedAt.UTC(), LastActivityAt: lastActivity.UTC()}
	return survivor, m, true, b, qualifying, version, nil
}

// memberQuote is what quoteMember read, with the window it summed over.
type memberQuote struct {
	survivor   string
	member     memberRow
	joined     bool
	balances   MemberBalances
	qualifying int64
	version    int
	window     qualifyingWindow
}

func readMemberQuote(ctx context.Context, q Querier, tenantID, customerID string, w qualifyingWindow) (memberQuote, error) {
	mq := memberQuote{window: w}
	var err error
	mq.survivor, mq.member, mq.joined, mq.balances, mq.qualifying, mq.version, err = quoteMember(ctx, q, tenantID, customerID, w)
	return mq, err
}
