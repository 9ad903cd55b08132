package sqldb

import (
	"context"
	"sort"
	"time"

	"github.com/omo-platform/omo/internal/loyalty"
)

// Liability is what a tenant's points are worth to its members: the points
// outstanding and their value, by tier and by expiry month, the flows of
// points per month, and an estimate of the points that will never be used.
type Liability struct {
	AsOf         time.Time
	PointName    string
	Available    int64
	Pending      int64
	Owed         int64 // clawed back after being spent, to be settled (≥ 0 here)
	Values       []LiabilityValue
	ByTier       []TierLiability
	ByExpiry     []MonthPoints // available points by the month they expire; Month "" for never
	Flows        []MonthFlows  // per month, newest first
	BreakageRate float64       // expired ÷ (expired + redeemed) so far; 0 without history
	Breakage     int64         // outstanding points expected to expire unused, by that rate
	program      loyalty.Program
}

// Value is what points are worth in a currency of the program (minor units).
func (l *Liability) Value(points int64, currency string) int64 {
	v, _ := l.program.Value(points, currency)
	return v
}

// LiabilityValue is the outstanding points' value in one currency.
type LiabilityValue struct {
	Currency  string
	Available int64 // minor units
	Pending   int64
	Breakage  int64
}

// TierLiability is the outstanding points of the members of one tier.
type TierLiability struct {
	TierID, Code       string
	Members            int64
	Available, Pending int64
}

// MonthPoints is points in a calendar month (UTC), "2026-11".
type MonthPoints struct {
	Month  string
	Points int64
}

// MonthFlows is the points issued, redeemed, expired and adjusted in a month.
type MonthFlows struct {
	Month                               string
	Issued, Redeemed, Expired, Adjusted int64
	ClawedBack                          int64
}

// FindLoyaltyLiability reports a tenant's points liability. Flows cover the
// months since `since`.
func (db *DB) FindLoyaltyLiability(ctx context.Context, tenantID string, since time.Time) (*Liability, error) {
	q := db.Read()
	cfg, err := db.loyaltyConfigFor(ctx, q, tenantID)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, noProgram()
	}
	l := &Liability{AsOf: db.Now(), PointName: cfg.Program.PointName, program: cfg.Program}
	if err := l.byTier(ctx, q, tenantID, cfg); err != nil {
		return nil, err
	}
	if err := l.byExpiry(ctx, q, tenantID); err != nil {
		return nil, err
	}
	if err := l.flows(ctx, q, tenantID, since); err != nil {
		return nil, err
	}
	l.value(&cfg.Program)
	return l, nil
}

func (l *Liability) byTier(ctx context.Context, q Querier, tenantID string, cfg *loyaltyConfig) error {
	byTier := map[string]*TierLiability{}
	err := queryEach(ctx, q, `SELECT COALESCE(m.tier_id, ''), a.kind, COUNT(*), SUM(a.balance) FROM loyalty_accounts a
		LEFT JOIN loyalty_members m ON m.tenant_id = a.tenant_id AND m.customer_id = a.owner
		WHERE a.tenant_id = $1 AND a.kind IN ('available', 'pending', 'owed') GROUP BY m.tier_id, a.kind`,
		[]any{tenantID}, func(r Rows) error {
			var tier, kind string
			var n, sum int64
			if err := r.Scan(&tier, &kind, &n, &sum); err != nil {
				return err
			}
			t := byTier[tier]
			if t == nil {
				t = &TierLiability{TierID: tier}
				if tt, ok := cfg.Ladder.ByID(tier); ok {
					t.Code = tt.Code
				}
				byTier[tier] = t
			}
			switch kind {
			case loyalty.AccountAvailable:
				t.Available, t.Members, l.Available = sum, n, l.Available+sum
			case loyalty.AccountPending:
				t.Pending, l.Pending = sum, l.Pending+sum
			default:
				l.Owed -= sum
			}
			return nil
		})
	for _, t := range byTier {
		if t.Available != 0 || t.Pending != 0 {
			l.ByTier = append(l.ByTier, *t)
		}
	}
	sort.Slice(l.ByTier, func(i, j int) bool { return l.ByTier[i].Code < l.ByTier[j].Code })
	return err
}

func (l *Liability) byExpiry(ctx context.Context, q Querier, tenantID string) error {
	months := map[string]int64{}
	err := queryEach(ctx, q, `SELECT expires_at, SUM(remaining) FROM loyalty_lots
		WHERE tenant_id = $1 AND status = 'available' AND remaining > 0 GROUP BY expires_at`, []any{tenantID}, func(r Rows) error {
		var at *time.Time
		var n int64
		if err := r.Scan(&at, &n); err != nil {
			return err
		}
		m := ""
		if at != nil {
			m = at.UTC().Format("2006-01")
		}
		months[m] += n
		return nil
	})
	for m, n := range months {
		l.ByExpiry = append(l.ByExpiry, MonthPoints{Month: m, Points: n})
	}
	sort.Slice(l.ByExpiry, func(i, j int) bool {
		a, b := l.ByExpiry[i].Month, l.ByExpiry[j].Month
		return a != "" && (b == "" || a < b)
	})
	return err
}

// flows sums the program accounts' postings per month: issued (earned and
// adjustments given, less claw-backs), redeemed, expired.
func (l *Liability) flows(ctx context.Context, q Querier, tenantID string, since time.Time) error {
	byMonth := map[string]*MonthFlows{}
	var redeemed, expired int64
	err := queryEach(ctx, q, `SELECT e.kind, p.account_kind, e.occurred_at, p.points FROM loyalty_postings p
		JOIN loyalty_entries e ON e.tenant_id = p.tenant_id AND e.id = p.entry_id
		WHERE p.tenant_id = $1 AND p.account_kind IN ('issued', 'budget', 'redeemed', 'expired', 'adjustment')`,
		[]any{tenantID}, func(r Rows) error {
			var kind, account string
			var at time.Time
			var n int64
			if err := r.Scan(&kind, &account, &at, &n); err != nil {
				return err
			}
			switch account {
			case loyalty.AccountRedeemed:
				redeemed += n
			case loyalty.AccountExpired:
				expired += n
			}
			if at.Before(since) || kind == loyalty.EntryFund {
				return nil
			}
			m := at.UTC().Format("2006-01")
			f := byMonth[m]
			if f == nil {
				f = &MonthFlows{Month: m}
				byMonth[m] = f
			}
			switch {
			case kind == loyalty.EntryClawback:
				f.ClawedBack += n
			case account == loyalty.AccountIssued || account == loyalty.AccountBudget:
				f.Issued -= n
			case account == loyalty.AccountRedeemed:
				f.Redeemed += n
			case account == loyalty.AccountExpired:
				f.Expired += n
			case account == loyalty.AccountAdjustment:
				f.Adjusted -= n
			}
			return nil
		})
	for _, f := range byMonth {
		l.Flows = append(l.Flows, *f)
	}
	sort.Slice(l.Flows, func(i, j int) bool { return l.Flows[i].Month > l.Flows[j].Month })
	if redeemed+expired > 0 {
		l.BreakageRate = float64(expired) / float64(redeemed+expired) // for display; the points below are exact
		l.Breakage, _ = loyalty.MulDiv(l.Available+l.Pending, expired, redeemed+expired)
	}
	return err
}

// value prices the outstanding points in every currency the program values
// points in.
func (l *Liability) value(p *loyalty.Program) {
	for _, v := range p.PointValues {
		a, _ := p.Value(l.Available, v.Currency)
		pe, _ := p.Value(l.Pending, v.Currency)
		b, _ := p.Value(l.Breakage, v.Currency)
		l.Values = append(l.Values, LiabilityValue{Currency: v.Currency, Available: a, Pending: pe, Breakage: b})
	}
}
