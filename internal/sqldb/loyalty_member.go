package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// memberRow is a member's standing in the program.
type memberRow struct {
	CustomerID     string
	TierID         string
	BaseTierID     string
	TierSince      time.Time
	ReviewAt       time.Time
	LifetimeEarned int64
	JoinedAt       time.Time
	LastActivityAt time.Time

	// storedReviewAt is ReviewAt as read from the database: saveMember
	// leaves the column (and its index) alone when it has not changed.
	storedReviewAt time.Time
}

const memberColumns = `customer_id, tier_id, base_tier_id, tier_since, review_at, lifetime_earned, joined_at, last_activity_at`

// loadMember reads a member (false when the customer never joined); lock
// takes the row lock on PostgreSQL, which serialises the sales of one member.
func loadMember(ctx context.Context, q Querier, tenantID, customerID string, lock bool) (memberRow, bool, error) {
	suffix := ""
	if lock {
		suffix = lockClause(q)
	}
	var m memberRow
	err := q.QueryRow(ctx, `SELECT `+memberColumns+` FROM loyalty_members WHERE tenant_id = $1 AND customer_id = $2`+suffix,
		tenantID, customerID).Scan(m.fields()...)
	if errors.Is(err, ErrNoRows) {
		return m, false, nil
	}
	m.afterRead()
	return m, err == nil, err
}

// fields are where a row of memberColumns scans to.
func (m *memberRow) fields() []any {
	return []any{&m.CustomerID, &m.TierID, &m.BaseTierID, &m.TierSince, &m.ReviewAt, &m.LifetimeEarned, &m.JoinedAt, &m.LastActivityAt}
}

// afterRead puts a row just scanned in UTC and remembers its review date.
func (m *memberRow) afterRead() {
	m.TierSince, m.ReviewAt, m.JoinedAt, m.LastActivityAt = m.TierSince.UTC(), m.ReviewAt.UTC(), m.JoinedAt.UTC(), m.LastActivityAt.UTC()
	m.storedReviewAt = m.ReviewAt
}

// balanceColumns select a member's four cached balances (available,
// pending, owed, held; 0 for an account never used) for the member whose
// id is owner, an SQL expression; $1 is the tenant.
func balanceColumns(owner string) string {
	var cols []string
	for _, kind := range []string{loyalty.AccountAvailable, loyalty.AccountPending, loyalty.AccountOwed, loyalty.AccountHeld} {
		cols = append(cols, `COALESCE((SELECT balance FROM loyalty_accounts a WHERE a.tenant_id = $1 AND a.kind = '`+kind+`' AND a.owner = `+owner+`), 0)`)
	}
	return strings.Join(cols, ", ")
}

// fields are where balanceColumns scan to.
func (b *MemberBalances) fields() []any { return []any{&b.Available, &b.Pending, &b.Owed, &b.Held} }

// newMember is a customer's standing on joining: the entry tier, reviewed at
// the end of the first period.
func newMember(cfg *loyaltyConfig, customerID string, at time.Time) memberRow {
	m := memberRow{CustomerID: customerID, TierSince: at, JoinedAt: at, LastActivityAt: at}
	if t, ok := cfg.Ladder.Entry(); ok {
		m.TierID, m.BaseTierID = t.ID, t.ID
	}
	m.ReviewAt = cfg.Program.Tiering.PeriodEnd(at, at)
	return m
}

// ensureMember loads a member for a write, enrolling the customer on its
// first loyalty activity. On PostgreSQL the row is locked.
func ensureMember(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tenantID, customerID string, at time.Time) (memberRow, error) {
	m, ok, err := loadMember(ctx, tx, tenantID, customerID, true)
	if err != nil || ok {
		return m, err
	}
	m = newMember(cfg, customerID, at)
	if _, err := tx.Exec(ctx, `INSERT INTO loyalty_members (tenant_id, `+memberColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, customer_id) DO NOTHING`,
		tenantID, m.CustomerID, m.TierID, m.BaseTierID, m.TierSince, m.ReviewAt, m.LifetimeEarned, m.JoinedAt, m.LastActivityAt); err != nil {
		return m, err
	}
	m, _, err = loadMember(ctx, tx, tenantID, customerID, true)
	return m, err
}

func saveMember(ctx context.Context, tx *Tx, tenantID string, m memberRow) error {
	set := `tier_id = $3, base_tier_id = $4, tier_since = $5, lifetime_earned = $6, last_activity_at = $7`
	args := []any{tenantID, m.CustomerID, m.TierID, m.BaseTierID, m.TierSince, m.LifetimeEarned, m.LastActivityAt}
	// Most saves (every sale) keep the review date. Setting it anyway
	// rewrote its index entry: a page of WAL per sale on SQLite, and no HOT
	// update on PostgreSQL.
	if !m.ReviewAt.Equal(m.storedReviewAt) {
		set += `, review_at = $8`
		args = append(args, m.ReviewAt)
	}
	return tx.ExecLater(ctx, `UPDATE loyalty_members SET `+set+` WHERE tenant_id = $1 AND customer_id = $2`, args...)
}

// periods are the usage periods of a moment, in the local time of the sale.
func periods(local time.Time) (day, month string) {
	return "d:" + local.Format("2006-01-02"), "m:" + local.Format("2006-01")
}

// memberState gathers what earning needs to know of a member, reading only
// what the program's rules use; usage, when not nil, are the member's rule
// counters read already (a quote reads them with the member).
func memberState(ctx context.Context, q Querier, cfg *loyaltyConfig, tenantID string, m memberRow, local time.Time,
	usage map[string]loyalty.RuleUsage) (loyalty.Member, error) {
	st := loyalty.Member{}
	if t, ok := cfg.Ladder.ByID(m.TierID); ok {
		st.Tier = &t
	} else if t, ok := cfg.Ladder.Entry(); ok {
		st.Tier = &t
	}
	var err error
	if cfg.needs.firstPurchase {
		var n int64
		err = q.QueryRow(ctx, `SELECT COALESCE(SUM(purchases), 0) FROM customer_sales WHERE tenant_id = $1 AND customer_id IN
			(SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)`, tenantID, m.CustomerID).Scan(&n)
		st.FirstPurchase = n == 0
	}
	if err == nil && cfg.needs.customer {
		st.BirthMonth, st.Attributes, err = customerFacts(ctx, q, tenantID, m.CustomerID)
	}
	if err == nil && cfg.needs.usage {
		if st.Usage = usage; usage == nil {
			st.Usage, err = ruleUsage(ctx, q, tenantID, m.CustomerID, local)
		}
	}
	if err == nil && len(cfg.needs.budgets) > 0 {
		st.Budgets, err = budgets(ctx, q, tenantID, cfg.needs.budgets)
	}
	return st, err
}

func customerFacts(ctx context.Context, q Querier, tenantID, customerID string) (int, map[string]any, error) {
	c, err := loadCustomerRow(ctx, q, tenantID, customerID, "")
	if err != nil {
		return 0, nil, err
	}
	month := 0
	if b := c.Traits.Birthday; b != nil && len(*b) == 10 {
		_, _ = fmt.Sscanf((*b)[5:7], "%d", &month)
	}
	attrs := map[string]any{}
	for k, v := range c.Traits.Attributes {
		attrs[k] = v
	}
	for k, v := range map[string]*string{"gender": c.Traits.Gender, "locale": c.Traits.Locale, "home_location": c.Traits.HomeLocation} {
		if v != nil {
			attrs[k] = *v
		}
	}
	return month, attrs, nil
}

func ruleUsage(ctx context.Context, q Querier, tenantID, customerID string, local time.Time) (map[string]loyalty.RuleUsage, error) {
	day, month := periods(local)
	out := map[string]loyalty.RuleUsage{}
	err := queryEach(ctx, q, `SELECT rule_id, period, uses FROM loyalty_rule_usage
		WHERE tenant_id = $1 AND customer_id = $2 AND period IN ('all', $3, $4)`, []any{tenantID, customerID, day, month},
		func(r Rows) error {
			var rule, period string
			var n int64
			if err := r.Scan(&rule, &period, &n); err != nil {
				return err
			}
			setUsage(out, rule, period, n)
			return nil
		})
	return out, err
}

// setUsage puts a rule's counter of one period (see periods) in out.
func setUsage(out map[string]loyalty.RuleUsage, rule, period string, n int64) {
	u := out[rule]
	switch {
	case period == "all":
		u.Total = n
	case strings.HasPrefix(period, "d:"):
		u.Day = n
	default:
		u.Month = n
	}
	out[rule] = u
}

func budgets(ctx context.Context, q Querier, tenantID string, ruleIDs []string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, r := range ruleIDs {
		b, err := accountBalance(ctx, q, tenantID, loyalty.Account{Kind: loyalty.AccountBudget, Owner: r}, true)
		if err != nil {
			return nil, err
		}
		out[r] = b
	}
	return out, nil
}

// countUses counts one award of each rule against its limits in the
// sale's periods, in one statement however many rules awarded.
func countUses(ctx context.Context, tx *Tx, tenantID, customerID string, ruleIDs []string, local time.Time) error {
	if len(ruleIDs) == 0 {
		return nil
	}
	day, month := periods(local)
	uses := map[string]int64{}
	var order []string
	for _, r := range ruleIDs {
		if uses[r] == 0 {
			order = append(order, r)
		}
		uses[r]++
	}
	rows := make([][]any, 0, 3*len(order))
	for _, r := range order {
		for _, period := range []string{"all", day, month} {
			rows = append(rows, []any{tenantID, customerID, r, period, uses[r]})
		}
	}
	return insertRows(ctx, tx, "loyalty_rule_usage", "tenant_id, customer_id, rule_id, period, uses", rows,
		` ON CONFLICT (tenant_id, customer_id, rule_id, period) DO UPDATE SET uses = loyalty_rule_usage.uses + excluded.uses`)
}

// uncountUse takes back an award a return took back in full from the
// rule's counters of the sale's periods (never below zero).
func uncountUse(ctx context.Context, tx *Tx, tenantID, customerID, ruleID string, local time.Time) error {
	day, month := periods(local)
	return tx.ExecLater(ctx, `UPDATE loyalty_rule_usage SET uses = CASE WHEN uses > 0 THEN uses - 1 ELSE 0 END
		WHERE tenant_id = $1 AND customer_id = $2 AND rule_id = $3 AND period IN ('all', $4, $5)`, tenantID, customerID, ruleID, day, month)
}

// addQualifying adds to a member's qualifying value of one local day.
func addQualifying(ctx context.Context, tx *Tx, tenantID, customerID string, local time.Time, spend, status int64) error {
	if spend == 0 && status == 0 {
		return nil
	}
	return tx.ExecLater(ctx, `INSERT INTO loyalty_qualifying (tenant_id, customer_id, day, spend, status_points) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, customer_id, day) DO UPDATE SET spend = loyalty_qualifying.spend + excluded.spend,
			status_points = loyalty_qualifying.status_points + excluded.status_points`,
		tenantID, customerID, local.Format("2006-01-02"), spend, status)
}

// qualifyingValue is a member's qualifying value (spend or status points, by
// the program's basis) over local days [from, to], summed over its merge
// group like the purchase aggregates, so merges and unmerges move nothing.
func qualifyingValue(ctx context.Context, q Querier, cfg *loyaltyConfig, tenantID, customerID string, from, to time.Time) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT `+qualifyingSum(qualifyingColumn(cfg), "$2", "$3", "$4"),
		tenantID, customerID, from.Format("2006-01-02"), to.Format("2006-01-02")).Scan(&v)
	return v, err
}

// qualifyingColumn is the loyalty_qualifying column the program's tiers
// count: spend or status points.
func qualifyingColumn(cfg *loyaltyConfig) string {
	if cfg.Program.Tiering.Basis == loyalty.BasisStatusPoints {
		return "status_points"
	}
	return "spend"
}

// qualifyingSum is the SQL expression of a member's qualifying value over
// local days [from, to], summed over its merge group: survivor, from and to
// are SQL expressions; $1 is the tenant. The quote and a sale's member read
// select it with the member, qualifyingValue on its own.
func qualifyingSum(column, survivor, from, to string) string {
	return `COALESCE((SELECT SUM(` + column + `) FROM loyalty_qualifying WHERE tenant_id = $1
		AND customer_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = ` + survivor + `)
		AND day >= ` + from + ` AND day <= ` + to + `), 0)`
}

// TierChangedJob is the fact of a member's tier changing, for the modules
// that react to it (journeys, clienteling).
type TierChangedJob struct {
	TenantID   string `json:"tenant_id"`
	CustomerID string `json:"customer_id"`
	FromTierID string `json:"from_tier_id"`
	ToTierID   string `json:"to_tier_id"`
	Reason     string `json:"reason"`
}

// Kind names the job.
func (TierChangedJob) Kind() string { return "loyalty.tier_changed" }

// retier moves a member to the tier its standing gives. After a purchase or
// an event (gained) it only upgrades, as soon as the window's value reaches
// a threshold, and reads nothing when the member is at the top already: a
// downgrade waits for the review at the end of the period. After a return
// it may go down, to the higher of the tier kept at the last review and
// what the value still earns.
func retier(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tenantID string, m *memberRow, at time.Time, gained bool, reason string) error {
	return retierKnowing(ctx, tx, cfg, tenantID, m, at, gained, reason, nil)
}

// retierKnowing is retier with the member's qualifying value when the caller
// knows it already (nil: read it).
func retierKnowing(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tenantID string, m *memberRow, at time.Time, gained bool, reason string,
	known *int64) error {
	if len(cfg.Ladder) == 0 {
		return nil
	}
	current, ok := cfg.Ladder.ByID(m.TierID)
	if !ok {
		current, _ = cfg.Ladder.Entry()
	}
	if _, higher := cfg.Ladder.Next(current); gained && !higher {
		return nil
	}
	t := cfg.Program.Tiering
	var value int64
	if known != nil {
		value = *known
	} else {
		var err error
		if value, err = qualifyingValue(ctx, tx, cfg, tenantID, m.CustomerID, t.PeriodStart(at, m.JoinedAt), at); err != nil {
			return err
		}
	}
	target, _ := cfg.Ladder.Earned(value)
	if base, ok := cfg.Ladder.ByID(m.BaseTierID); ok && base.Rank > target.Rank {
		target = base
	}
	if target.ID == current.ID || (gained && target.Rank < current.Rank) {
		return nil
	}
	return changeTier(ctx, tx, tenantID, m, current, target, fmt.Sprintf("%s: qualifying value %d", reason, value), at)
}

func changeTier(ctx context.Context, tx *Tx, tenantID string, m *memberRow, from, to loyalty.Tier, reason string, at time.Time) error {
	m.TierID, m.TierSince = to.ID, at
	if err := tx.ExecLater(ctx, `INSERT INTO loyalty_tier_changes (tenant_id, id, customer_id, from_tier_id, to_tier_id, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, tenantID, id.New(), m.CustomerID, from.ID, to.ID, reason, tx.Now()); err != nil {
		return err
	}
	return tx.Enqueue(ctx, TierChangedJob{TenantID: tenantID, CustomerID: m.CustomerID, FromTierID: from.ID, ToTierID: to.ID, Reason: reason}, nil)
}
