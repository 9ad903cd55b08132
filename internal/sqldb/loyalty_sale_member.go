package sqldb

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/omo-platform/omo/internal/loyalty"
)

// saleMember is what a purchase needs of a member that exists, read with
// the member row in the one statement of readSaleMember: its balances, the
// program's version (so the cached config needs no statement of its own),
// its rule counters of the sale's periods when rules have limits, and its
// qualifying value before the sale when the tier window does not depend on
// the member. Every statement on the single writer costs more than the
// lookup it makes, so a purchase reads all of them at once, as a quote
// does (readMemberQuote).
type saleMember struct {
	member     memberRow
	balances   MemberBalances
	version    int                          // -1 when the program is gone
	usage      map[string]loyalty.RuleUsage // nil when not read
	qualifying *int64                       // nil when not read
	window     qualifyingWindow
}

// readSaleMember reads a member for a purchase, locked on PostgreSQL; false
// when the customer never joined.
func readSaleMember(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tenantID, customerID string, local time.Time) (saleMember, bool, error) {
	sm := saleMember{window: quoteWindow(cfg, local)}
	args := []any{tenantID, customerID}
	param := func(v any) string {
		args = append(args, v) // only when used: PostgreSQL wants a type for every parameter
		return "$" + strconv.Itoa(len(args))
	}
	qualifying := `NULL`
	if sm.window.known {
		qualifying = qualifyingSum(sm.window.column, "$2", param(sm.window.from), param(sm.window.to))
	}
	usage := `NULL`
	if cfg.needs.usage {
		day, month := periods(local)
		usage = `(SELECT ` + usageAggregate(tx) + ` FROM loyalty_rule_usage WHERE tenant_id = $1 AND customer_id = $2
			AND period IN ('all', ` + param(day) + `, ` + param(month) + `))`
	}
	var counters *string
	var v *int64
	err := tx.QueryRow(ctx, `SELECT `+memberColumns+`, `+balanceColumns("$2")+`,
			COALESCE((SELECT version FROM loyalty_programs WHERE tenant_id = $1), -1), `+qualifying+`, `+usage+`
		FROM loyalty_members WHERE tenant_id = $1 AND customer_id = $2`+lockClause(tx), args...).
		Scan(append(append(sm.member.fields(), sm.balances.fields()...), &sm.version, &v, &counters)...)
	if errors.Is(err, ErrNoRows) {
		return sm, false, nil
	}
	if err != nil {
		return sm, false, err
	}
	sm.member.afterRead()
	sm.qualifying = v
	if cfg.needs.usage {
		sm.usage = parseUsage(counters)
	}
	return sm, true, nil
}

// usageAggregate folds a member's rule counters into one text column,
// with the separators parseUsage splits on.
func usageAggregate(q Querier) string {
	agg := "group_concat"
	if engineOf(q) == Postgres {
		agg = "string_agg"
	}
	return agg + `(rule_id || '` + usageFieldSep + `' || period || '` + usageFieldSep + `' || uses, '` + usageRowSep + `')`
}

// qualifyingAfter is the member's qualifying value once the sale's own
// addition (addQualifying, on the sale's day, inside the window) counts;
// nil when the value before it was not read.
func (sm saleMember) qualifyingAfter(spend, status int64) *int64 {
	if sm.qualifying == nil {
		return nil
	}
	v := *sm.qualifying + spend
	if sm.window.column == "status_points" {
		v = *sm.qualifying + status
	}
	return &v
}
