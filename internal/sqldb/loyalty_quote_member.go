package sqldb

import (
	"context"
	"errors"
	"strconv"
	"strings"
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
	return qualifyingWindow{column: qualifyingColumn(cfg), from: t.PeriodStart(at, time.Time{}).Format("2006-01-02"), to: at.Format("2006-01-02"), known: true}
}

// memberQuote is what a quote needs of a customer, read in one statement
// by readMemberQuote: the customer its merge group survives in, that
// member's standing (joined false when it never earned), balances, its
// qualifying value over the window (summed over the merge group, as
// qualifyingValue does), its rule usage counters of the sale's periods
// when the rules have limits, and the program's version (-1 without a
// program), so that a quote can trust the config cached in this process
// without a statement of its own. A quote is a handful of point lookups,
// and each statement costs more than its lookup.
type memberQuote struct {
	survivor   string
	member     memberRow
	joined     bool
	balances   MemberBalances
	qualifying int64
	usage      map[string]loyalty.RuleUsage // nil when not read
	version    int
	window     qualifyingWindow
}

// usageSeparators split the usage counters folded into one text column:
// rule ids and periods ("all", "d:2026-11-20", "m:2026-11") hold neither.
const usageRowSep, usageFieldSep = ";", "|"

func readMemberQuote(ctx context.Context, q Querier, tenantID, customerID string, w qualifyingWindow, usage bool, local time.Time) (memberQuote, error) {
	mq := memberQuote{window: w}
	var (
		memberID, tierID, baseTierID, counters      *string
		tierSince, reviewAt, joinedAt, lastActivity *time.Time
		lifetime                                    *int64
	)
	args := []any{tenantID, customerID, w.from, w.to}
	usageColumn := `NULL`
	if usage {
		day, month := periods(local)
		args = append(args, day, month) // only then: PostgreSQL wants a type for every parameter
		usageColumn = `(SELECT ` + usageAggregate(q) + ` FROM loyalty_rule_usage WHERE tenant_id = $1 AND customer_id = c.survivor_id
			AND period IN ('all', $5, $6))`
	}
	err := q.QueryRow(ctx, `SELECT c.survivor_id, m.customer_id, m.tier_id, m.base_tier_id, m.tier_since, m.review_at, m.lifetime_earned,
			m.joined_at, m.last_activity_at,
			`+balanceColumns("c.survivor_id")+`,
			`+qualifyingSum(w.column, "c.survivor_id", "$3", "$4")+`,
			COALESCE((SELECT version FROM loyalty_programs WHERE tenant_id = $1), -1),
			`+usageColumn+`
		FROM customers c LEFT JOIN loyalty_members m ON m.tenant_id = c.tenant_id AND m.customer_id = c.survivor_id
		WHERE c.tenant_id = $1 AND c.id = $2`, args...).Scan(append(append([]any{&mq.survivor, &memberID, &tierID,
		&baseTierID, &tierSince, &reviewAt, &lifetime, &joinedAt, &lastActivity}, mq.balances.fields()...), &mq.qualifying, &mq.version, &counters)...)
	if errors.Is(err, ErrNoRows) {
		return mq, notFoundCustomer(customerID)
	}
	if err != nil {
		return mq, err
	}
	if usage {
		mq.usage = parseUsage(counters)
	}
	if memberID != nil {
		mq.joined = true
		mq.member = memberRow{CustomerID: *memberID, TierID: *tierID, BaseTierID: *baseTierID, TierSince: tierSince.UTC(), ReviewAt: reviewAt.UTC(),
			LifetimeEarned: *lifetime, JoinedAt: joinedAt.UTC(), LastActivityAt: lastActivity.UTC()}
	}
	return mq, nil
}

// parseUsage reads the folded usage counters as ruleUsage returns them.
func parseUsage(counters *string) map[string]loyalty.RuleUsage {
	out := map[string]loyalty.RuleUsage{}
	if counters == nil || *counters == "" {
		return out
	}
	for _, row := range strings.Split(*counters, usageRowSep) {
		f := strings.Split(row, usageFieldSep)
		if len(f) != 3 {
			continue
		}
		if n, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			setUsage(out, f[0], f[1], n)
		}
	}
	return out
}
