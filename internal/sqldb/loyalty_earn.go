package sqldb

import (
	"context"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/transaction"
)

// LoyaltyOutcome is what a recorded transaction did to the member's points,
// returned in the same response: the balance is right the moment the sale is
// acknowledged, with no batch in between.
type LoyaltyOutcome struct {
	EntryID     string
	Points      int64 // earned (a purchase) or clawed back (a return)
	Pending     bool  // earned points wait for the return window
	AvailableAt time.Time
	Earning     loyalty.Earning
	Balances    MemberBalances // after the transaction
	Tier        *loyalty.Tier  // after the transaction
	TierChanged bool
}

// basketOf is the loyalty view of a transaction.
func basketOf(tr *transaction.Transaction, channelCode, locationCode string) loyalty.Basket {
	b := loyalty.Basket{Currency: tr.Currency, SalesChannel: channelCode, Location: locationCode, At: tr.Local()}
	for _, l := range tr.Lines {
		// A line's total includes its tax either way: in the price, or added on top.
		b.Lines = append(b.Lines, loyalty.BasketLine{Number: l.Number, SKU: l.SKU, Category: l.Category, Quantity: l.Quantity, Total: l.Total, Tax: l.Tax})
	}
	for _, t := range tr.Tenders {
		b.Tenders = append(b.Tenders, loyalty.BasketTender{Type: t.Type, Amount: t.Amount})
	}
	return b
}

// accrue applies a recorded transaction to its customer's loyalty account,
// in the transaction that records it: a purchase earns, a linked return
// claws back what its lines earned, and either moves the member's qualifying
// value and tier. Guests and tenants without a program are untouched (nil).
func accrue(ctx context.Context, tx *Tx, tr *transaction.Transaction, p RecordParams, link *returnLink) (*LoyaltyOutcome, error) {
	if tr.CustomerID == "" {
		return nil, nil
	}
	out := &LoyaltyOutcome{}
	var (
		cfg *loyaltyConfig
		m   memberRow
		sm  saleMember
		err error
	)
	if tr.Kind == transaction.KindPurchase {
		// A purchase only adds to the balances read here; a return's
		// claw-back is read back after it is posted.
		if cfg, sm, err = purchaseMember(ctx, tx, tr); err == nil && cfg != nil {
			m, out.Balances = sm.member, sm.balances
		}
	} else if cfg, err = tx.db.loyaltyConfigFor(ctx, tx, tr.TenantID); err == nil && cfg != nil {
		m, err = ensureMember(ctx, tx, cfg, tr.TenantID, tr.CustomerID, tr.OccurredAt)
	}
	if err != nil || cfg == nil {
		return nil, err
	}
	before := m.TierID
	if tr.Kind == transaction.KindPurchase {
		err = earnPurchase(ctx, tx, cfg, &m, sm, tr, basketOf(tr, p.SalesChannelCode, p.LocationCode), out)
	} else {
		err = clawbackReturn(ctx, tx, cfg, &m, tr, basketOf(tr, p.SalesChannelCode, p.LocationCode), link, out)
	}
	if err != nil {
		return nil, err
	}
	if tr.OccurredAt.After(m.LastActivityAt) {
		m.LastActivityAt = tr.OccurredAt
	}
	if err := saveMember(ctx, tx, tr.TenantID, m); err != nil {
		return nil, err
	}
	out.TierChanged = m.TierID != before
	if t, ok := cfg.Ladder.ByID(m.TierID); ok {
		out.Tier = &t
	}
	if tr.Kind == transaction.KindReturn {
		out.Balances, err = memberBalances(ctx, tx, tr.TenantID, tr.CustomerID)
	}
	return out, err
}

func earnKey(transactionID string) string { return "earn:" + transactionID }

// earnPurchase posts what a purchase earns: pending for the return window
// (or available at once, less what the member owes from earlier claw-backs),
// as one lot, with every award's split over the lines kept for returns.
func earnPurchase(ctx context.Context, tx *Tx, cfg *loyaltyConfig, m *memberRow, sm saleMember, tr *transaction.Transaction, b loyalty.Basket, out *LoyaltyOutcome) error {
	st, err := memberState(ctx, tx, cfg, tr.TenantID, *m, b.At, sm.usage)
	if err != nil {
		return err
	}
	e := loyalty.Evaluate(&cfg.Program, cfg.Rules, st, b)
	out.Earning, out.Points = e, e.Points
	spend := qualifyingSpend(cfg, tr, b)
	if err := addQualifying(ctx, tx, tr.TenantID, m.CustomerID, b.At, spend, e.StatusPoints); err != nil {
		return err
	}
	if cfg.Program.Referral != nil {
		window := tr.OccurredAt.AddDate(0, 0, cfg.Program.ReturnDays(b.SalesChannel, b.Location))
		if err := noteReferralPurchase(ctx, tx, cfg, tr, loyalty.EligibleSpend(&cfg.Program, b), window); err != nil {
			return err
		}
	}
	if e.Points > 0 {
		if err := postEarning(ctx, tx, cfg, m, tr, b, e, out); err != nil {
			return err
		}
		m.LifetimeEarned += e.Points
	}
	return retierKnowing(ctx, tx, cfg, tr.TenantID, m, b.At, true, "purchase "+describeReceipt(*tr), sm.qualifyingAfter(spend, e.StatusPoints))
}

// purchaseMember finds the tenant's config and the member a purchase earns
// for, enrolling a customer on its first sale. A member that exists is read
// in one statement with the program's version: the cached config is used
// when it is current, and read again (with the member) when it is not. nil
// config: the tenant has no program.
func purchaseMember(ctx context.Context, tx *Tx, tr *transaction.Transaction) (*loyaltyConfig, saleMember, error) {
	absent := false
	if cfg := tx.db.cachedLoyaltyConfig(tr.TenantID); cfg != nil {
		sm, joined, err := readSaleMember(ctx, tx, cfg, tr.TenantID, tr.CustomerID, tr.Local())
		if err != nil || (joined && sm.version == cfg.Version) {
			return cfg, sm, err
		}
		absent = !joined
	}
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, tr.TenantID)
	if err != nil || cfg == nil {
		return nil, saleMember{}, err
	}
	if !absent {
		if sm, joined, err := readSaleMember(ctx, tx, cfg, tr.TenantID, tr.CustomerID, tr.Local()); err != nil || joined {
			return cfg, sm, err
		}
	}
	// A customer's first sale enrols it. Its counters and qualifying value
	// (what its merge group brings) are left unread here: memberState and
	// retier read them.
	sm := saleMember{}
	if sm.member, err = ensureMember(ctx, tx, cfg, tr.TenantID, tr.CustomerID, tr.OccurredAt); err != nil {
		return nil, sm, err
	}
	sm.balances, err = memberBalances(ctx, tx, tr.TenantID, tr.CustomerID)
	return cfg, sm, err
}

// qualifyingSpend is what a transaction adds to (or, a return, takes from)
// the spend tiers count: its eligible amount, in the tiering currency.
func qualifyingSpend(cfg *loyaltyConfig, tr *transaction.Transaction, b loyalty.Basket) int64 {
	if cfg.Program.Tiering.Basis != loyalty.BasisSpend || tr.Currency != cfg.Program.Tiering.Currency {
		return 0
	}
	net := loyalty.EligibleSpend(&cfg.Program, b)
	if tr.Kind == transaction.KindReturn {
		return -net
	}
	return net
}

func postEarning(ctx context.Context, tx *Tx, cfg *loyaltyConfig, m *memberRow, tr *transaction.Transaction, b loyalty.Basket, e loyalty.Earning, out *LoyaltyOutcome) error {
	days := cfg.Program.ReturnDays(b.SalesChannel, b.Location)
	out.AvailableAt = tr.OccurredAt.AddDate(0, 0, days)
	out.Pending = out.AvailableAt.After(tx.Now())
	entryID := id.New()
	credit, settled := loyalty.AccountAvailable, int64(0)
	if out.Pending {
		credit = loyalty.AccountPending
		out.Balances.Pending += e.Points
	} else {
		settled = min(e.Points, -out.Balances.Owed)
		out.Balances.Available += e.Points - settled
		out.Balances.Owed += settled
	}
	postings := sourcePostings(e.Awards, -1)
	postings = append(postings, loyalty.Posting{Account: member(credit, m.CustomerID), Points: e.Points - settled})
	if settled > 0 {
		postings = append(postings, loyalty.Posting{Account: member(loyalty.AccountOwed, m.CustomerID), Points: settled})
	}
	var err error
	out.EntryID, err = postEntry(ctx, tx, loyalty.Entry{TenantID: tr.TenantID, ID: entryID, Kind: loyalty.EntryEarn, CustomerID: m.CustomerID,
		NaturalKey: earnKey(tr.ID), TransactionID: tr.ID, Reason: "purchase " + describeReceipt(*tr), Postings: postings,
		Awards: e.Awards, OccurredAt: tr.OccurredAt})
	if err != nil {
		return err
	}
	if lotPoints := e.Points - settled; lotPoints > 0 {
		status := "available"
		if out.Pending {
			status = "pending"
		}
		err = insertLot(ctx, tx, tr.TenantID, lotRow{Lot: loyalty.Lot{ID: id.New(), Remaining: lotPoints,
			ExpiresAt: cfg.Program.Expiry.ExpiresAt(tr.OccurredAt), EarnedAt: tr.OccurredAt},
			CustomerID: m.CustomerID, OriginCustomerID: m.CustomerID, EntryID: entryID, Status: status, Points: lotPoints, AvailableAt: out.AvailableAt})
		if err != nil {
			return err
		}
	}
	return recordAwards(ctx, tx, cfg, tr.TenantID, entryID, m.CustomerID, b.At, e.Awards)
}

// sourcePostings are the program side of awards: budgeted rules pay from
// their budget account, the rest from issued. sign −1 issues, +1 takes back.
func sourcePostings(awards []loyalty.Award, sign int64) []loyalty.Posting {
	var issued int64
	var out []loyalty.Posting
	for _, a := range awards {
		if a.Budgeted {
			out = append(out, loyalty.Posting{Account: loyalty.Account{Kind: loyalty.AccountBudget, Owner: a.RuleID}, Points: sign * a.Points})
		} else {
			issued += a.Points
		}
	}
	if issued != 0 {
		out = append(out, loyalty.Posting{Account: loyalty.Account{Kind: loyalty.AccountIssued}, Points: sign * issued})
	}
	return out
}

// recordAwards keeps every award's points per line (for claw-backs) and
// counts the rule awards against their limits.
func recordAwards(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tenantID, entryID, customerID string, local time.Time, awards []loyalty.Award) error {
	var rows [][]any
	var rules []string
	for i, a := range awards {
		for _, lp := range a.Lines {
			rows = append(rows, []any{tenantID, entryID, i, lp.Number, a.RuleID, a.Budgeted, a.Status, lp.Points, int64(0)})
		}
		// Uses are counted for the rules whose limits read them (a rule
		// that gains a limit in a later version counts from then on).
		if a.Source == loyalty.SourceRule && cfg.needs.limited[a.RuleID] {
			rules = append(rules, a.RuleID)
		}
	}
	if err := countUses(ctx, tx, tenantID, customerID, rules, local); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	return insertRows(ctx, tx, "loyalty_award_lines", "tenant_id, entry_id, award_no, line_number, rule_id, budgeted, status, points, clawed", rows, "")
}
