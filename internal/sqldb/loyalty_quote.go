package sqldb

import (
	"context"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/transaction"
)

// QuoteParams is a basket to quote: what it would earn if bought now.
type QuoteParams struct {
	TenantID         string
	CustomerID       string // "" quotes for a guest who would join
	SalesChannelCode string
	LocationCode     string
	OccurredAt       time.Time // zero: now, in the location's zone
	Currency         string
	TaxInclusive     bool
	Lines            []transaction.Line
	Tenders          []transaction.Tender
}

// Quote is what a basket would earn, explained, and where it would leave
// the member.
type Quote struct {
	Earning        loyalty.Earning
	Currency       string
	Totals         transaction.Totals
	Pending        bool
	AvailableAt    time.Time
	Balances       MemberBalances
	Tier           *loyalty.Tier // now
	TierAfter      *loyalty.Tier // after this purchase
	QualifyingNow  int64
	QualifyingThen int64
	NextTier       *loyalty.Tier // after this purchase
	GapToNext      int64
	// Rewards the member could redeem now, here: eligible, in stock, and
	// affordable with the available balance.
	Rewards []Reward
}

// QuoteLoyalty evaluates a basket exactly as recording it would, writing
// nothing: the same program, rules and member state go into the same
// function, so recording the basket gives what the quote said.
func (db *DB) QuoteLoyalty(ctx context.Context, p QuoteParams) (*Quote, error) {
	tr, err := db.quoteTransaction(ctx, &p)
	if err != nil {
		return nil, err
	}
	q := db.readPoint()
	b := basketOf(tr, p.SalesChannelCode, p.LocationCode)
	cfg := db.cachedLoyaltyConfig(p.TenantID)
	var mq memberQuote
	if p.CustomerID != "" && cfg != nil {
		// The member read also returns the program's version: when it is
		// the cached config's, the config is current and costs nothing.
		if mq, err = readMemberQuote(ctx, q, p.TenantID, p.CustomerID, quoteWindow(cfg, b.At), cfg.needs.usage, b.At); err != nil {
			return nil, err
		}
	}
	if cfg == nil || (p.CustomerID != "" && mq.version != cfg.Version) || p.CustomerID == "" {
		if cfg, err = db.loyaltyConfigFor(ctx, q, p.TenantID); err != nil {
			return nil, err
		}
		if cfg == nil {
			return nil, noProgram()
		}
		if p.CustomerID != "" {
			if mq, err = readMemberQuote(ctx, q, p.TenantID, p.CustomerID, quoteWindow(cfg, b.At), cfg.needs.usage, b.At); err != nil {
				return nil, err
			}
		}
	}
	m := newMember(cfg, "", tr.OccurredAt)
	var balances MemberBalances
	var qualifying *int64
	if p.CustomerID != "" {
		tr.CustomerID, balances = mq.survivor, mq.balances
		if mq.joined {
			m = mq.member
		} else {
			m.CustomerID = mq.survivor
		}
		if mq.window.known {
			qualifying = &mq.qualifying
		}
	}
	st, err := memberState(ctx, q, cfg, p.TenantID, m, b.At, mq.usage)
	if err != nil {
		return nil, err
	}
	out := &Quote{Earning: loyalty.Evaluate(&cfg.Program, cfg.Rules, st, b), Currency: tr.Currency, Totals: tr.Totals, Tier: st.Tier}
	out.AvailableAt = tr.OccurredAt.AddDate(0, 0, cfg.Program.ReturnDays(b.SalesChannel, b.Location))
	out.Pending = out.AvailableAt.After(db.Now())
	out.Balances = balances
	if err := out.progress(ctx, q, cfg, p.TenantID, m, tr, b.At, qualifying); err != nil {
		return nil, err
	}
	out.Rewards, err = db.redeemableRewards(ctx, p, out, db.Now())
	return out, err
}

// redeemableRewards lists the active rewards a member could redeem at the
// quote's sales channel and location with the points available now.
func (db *DB) redeemableRewards(ctx context.Context, p QuoteParams, q *Quote, now time.Time) ([]Reward, error) {
	if p.CustomerID == "" {
		return nil, nil
	}
	// A bounded read, run like the quote's point reads (readPoint).
	all, err := findRewards(ctx, db.readPoint(), RewardFilter{TenantID: p.TenantID, Status: "active", Limit: 1000})
	if err != nil {
		return nil, err
	}
	tier := ""
	if q.Tier != nil {
		tier = q.Tier.Code
	}
	var out []Reward
	for _, r := range all {
		inStock := r.Stock == nil || r.Redeemed < *r.Stock
		if inStock && r.Cost <= q.Balances.Available && r.eligible(tier, p.SalesChannelCode, p.LocationCode, now) == "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// progress fills the tier progress after the purchase.
// known is the member's qualifying value when the caller read it already.
func (out *Quote) progress(ctx context.Context, q Querier, cfg *loyaltyConfig, tenantID string, m memberRow, tr *transaction.Transaction,
	at time.Time, known *int64) error {
	if out.Tier == nil {
		return nil
	}
	if known != nil {
		out.QualifyingNow = *known
	} else if m.CustomerID != "" {
		v, err := qualifyingValue(ctx, q, cfg, tenantID, m.CustomerID, cfg.Program.Tiering.PeriodStart(at, m.JoinedAt), at)
		if err != nil {
			return err
		}
		out.QualifyingNow = v
	}
	add := qualifyingSpend(cfg, tr, basketOf(tr, "", ""))
	if cfg.Program.Tiering.Basis == loyalty.BasisStatusPoints {
		add = out.Earning.StatusPoints
	}
	out.QualifyingThen = out.QualifyingNow + add
	out.TierAfter = out.Tier
	if up, ok := cfg.Ladder.Upgrade(*out.Tier, out.QualifyingThen); ok {
		out.TierAfter = &up
	}
	if next, ok := cfg.Ladder.Next(*out.TierAfter); ok {
		out.NextTier, out.GapToNext = &next, max(0, next.Threshold-out.QualifyingThen)
	}
	return nil
}

// quoteTransaction checks a quoted basket as a purchase would be checked.
func (db *DB) quoteTransaction(ctx context.Context, p *QuoteParams) (*transaction.Transaction, error) {
	for i := range p.Lines {
		p.Lines[i].Number = i + 1
	}
	totals, err := transaction.Compute(p.Lines, p.TaxInclusive, "body.lines")
	if err != nil {
		return nil, err
	}
	if err := transaction.CheckTenders(p.Tenders, totals.Total, "body.tenders"); err != nil {
		return nil, err
	}
	q := db.readPoint()
	if _, err := db.channelByCode(ctx, q, p.TenantID, p.SalesChannelCode); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.Field("body.sales_channel", "no sales channel has this code", p.SalesChannelCode)
		}
		return nil, err
	}
	tr := &transaction.Transaction{TenantID: p.TenantID, Kind: transaction.KindPurchase, Lines: p.Lines, Tenders: p.Tenders,
		Totals: totals, TaxInclusive: p.TaxInclusive, Currency: p.Currency, OccurredAt: p.OccurredAt}
	zone := time.UTC
	if p.LocationCode != "" {
		loc, err := db.locationByCode(ctx, q, p.TenantID, p.LocationCode)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return nil, apperr.Field("body.location", "no location has this code", p.LocationCode)
			}
			return nil, err
		}
		if tr.Currency == "" {
			tr.Currency = loc.Currency
		}
		if z, err := location.Zone(loc.TimeZone); err == nil {
			zone = z
		}
	}
	if c, ok := money.NormalizeCurrency(tr.Currency); ok {
		tr.Currency = c
	} else {
		return nil, apperr.Field("body.currency", "an ISO 4217 code (or a location whose currency applies)", p.Currency)
	}
	if tr.OccurredAt.IsZero() {
		tr.OccurredAt = db.Now().In(zone)
	}
	_, offset := tr.OccurredAt.Zone()
	tr.UTCOffset = offset / 60
	tr.OccurredAt = tr.OccurredAt.UTC()
	return tr, nil
}
