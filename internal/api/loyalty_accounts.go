package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/transaction"
)

// BalancesBody are a member's points by state.
type BalancesBody struct {
	Available int64 `json:"available" doc:"spendable now"`
	Pending   int64 `json:"pending" doc:"earned, waiting for the return window"`
	Held      int64 `json:"held" doc:"held for a payment not yet captured"`
	Owed      int64 `json:"owed" doc:"clawed back by returns after being spent; later earnings settle it first"`
}

func balancesBody(b sqldb.MemberBalances) BalancesBody {
	return BalancesBody{Available: b.Available, Pending: b.Pending, Held: b.Held, Owed: -b.Owed}
}

// DatedPointsBody is points on one date.
type DatedPointsBody struct {
	Date   time.Time `json:"date"`
	Points int64     `json:"points"`
}

func datedPoints(in []loyalty.Expiring) []DatedPointsBody {
	out := make([]DatedPointsBody, 0, len(in))
	for _, e := range in {
		out = append(out, DatedPointsBody{Date: e.Date, Points: e.Points})
	}
	return out
}

// LoyaltyAccountBody is a member's standing.
type LoyaltyAccountBody struct {
	CustomerID      string            `json:"customer_id"`
	Member          bool              `json:"member" doc:"false until the customer's first loyalty activity"`
	Balances        BalancesBody      `json:"balances"`
	LifetimeEarned  int64             `json:"lifetime_earned"`
	Tier            *TierBody         `json:"tier"`
	TierSince       time.Time         `json:"tier_since"`
	Basis           string            `json:"qualifying_basis" enum:"spend,status_points"`
	QualifyingValue int64             `json:"qualifying_value" doc:"in the current window: minor units of spend, or status points"`
	NextTier        *TierBody         `json:"next_tier"`
	GapToNextTier   int64             `json:"gap_to_next_tier" doc:"qualifying value still needed for the next tier"`
	KeepTierGap     int64             `json:"keep_tier_gap" doc:"qualifying value still needed by review_at to keep the current tier"`
	ReviewAt        time.Time         `json:"review_at" doc:"when the current tier is next reviewed"`
	Expiring        []DatedPointsBody `json:"expiring" doc:"every future expiry date with its points, soonest first"`
	Maturing        []DatedPointsBody `json:"maturing" doc:"pending points by the date they become available"`
}

type customerLoyaltyOutput struct{ Body LoyaltyAccountBody }

// EntryBody is a ledger entry.
type EntryBody struct {
	ID            string        `json:"id"`
	Kind          string        `json:"kind" enum:"earn,mature,clawback,adjust,expire,redeem,restore,hold,capture,release,fund,merge,unmerge"`
	CustomerID    string        `json:"customer_id"`
	NaturalKey    string        `json:"natural_key" doc:"what makes the entry apply once"`
	TransactionID string        `json:"transaction_id,omitempty"`
	Reason        string        `json:"reason"`
	Actor         string        `json:"actor,omitempty"`
	Postings      []PostingBody `json:"postings" doc:"they sum to zero"`
	Awards        []AwardBody   `json:"awards,omitempty"`
	OccurredAt    time.Time     `json:"occurred_at"`
	CreatedAt     time.Time     `json:"created_at"`
}

// PostingBody is one line of an entry.
type PostingBody struct {
	Account string `json:"account" doc:"available, pending, owed, held (the member's), issued, redeemed, expired, adjustment, funding (the program's), budget (a rule's)"`
	Owner   string `json:"owner,omitempty" doc:"the member (cus_…) or rule (rul_…) the account belongs to"`
	Points  int64  `json:"points" doc:"+ credit, − debit"`
}

func entryBody(e loyalty.Entry) EntryBody {
	b := EntryBody{ID: id.Format(id.Entry, e.ID), Kind: e.Kind, CustomerID: id.Format(id.Customer, e.CustomerID), NaturalKey: e.NaturalKey,
		TransactionID: id.Format(id.Transaction, e.TransactionID), Reason: e.Reason, Actor: e.Actor, OccurredAt: e.OccurredAt, CreatedAt: e.CreatedAt,
		Awards: awardBodies(e.Awards)}
	for _, p := range e.Postings {
		owner := p.Account.Owner
		switch p.Account.Kind {
		case loyalty.AccountBudget:
			owner = id.Format(id.Rule, owner)
		case loyalty.AccountAvailable, loyalty.AccountPending, loyalty.AccountOwed, loyalty.AccountHeld:
			owner = id.Format(id.Customer, owner)
		}
		b.Postings = append(b.Postings, PostingBody{Account: p.Account.Kind, Owner: owner, Points: p.Points})
	}
	return b
}

// AwardBody is one source of points.
type AwardBody struct {
	Source      string           `json:"source" enum:"base,rule"`
	RuleID      string           `json:"rule_id,omitempty"`
	RuleVersion int              `json:"rule_version,omitempty"`
	Name        string           `json:"name,omitempty"`
	Points      int64            `json:"points"`
	Reason      string           `json:"reason,omitempty"`
	Budgeted    bool             `json:"budgeted,omitempty" doc:"paid from the rule's budget"`
	Lines       []LinePointsBody `json:"lines"`
}

// LinePointsBody is the points of one line.
type LinePointsBody struct {
	LineNumber int   `json:"line_number"`
	Points     int64 `json:"points"`
}

func awardBodies(as []loyalty.Award) []AwardBody {
	out := make([]AwardBody, 0, len(as))
	for _, a := range as {
		b := AwardBody{Source: a.Source, RuleID: id.Format(id.Rule, a.RuleID), RuleVersion: a.RuleVersion, Name: a.Name, Points: a.Points,
			Reason: a.Reason, Budgeted: a.Budgeted, Lines: make([]LinePointsBody, 0, len(a.Lines))}
		for _, l := range a.Lines {
			b.Lines = append(b.Lines, LinePointsBody{LineNumber: l.Number, Points: l.Points})
		}
		out = append(out, b)
	}
	return out
}

// EarningBody explains what a basket earns.
type EarningBody struct {
	Points       int64             `json:"points"`
	StatusPoints int64             `json:"status_points"`
	Lines        []LineEarningBody `json:"lines"`
	Awards       []AwardBody       `json:"awards"`
	NotApplied   []RuleOutcomeBody `json:"not_applied,omitempty" doc:"with ?explain=true: live rules that gave nothing, and why"`
}

// LineEarningBody is one line's eligible amount and points.
type LineEarningBody struct {
	LineNumber int    `json:"line_number"`
	Eligible   int64  `json:"eligible" doc:"minor units that earn"`
	Points     int64  `json:"points"`
	Note       string `json:"note,omitempty"`
}

// RuleOutcomeBody is why a rule gave nothing.
type RuleOutcomeBody struct {
	RuleID string `json:"rule_id"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// earningBody explains an earning; explain adds every live rule that gave
// nothing with its reason (with fifty campaigns that is most of the answer,
// so a till asks for it only when someone wonders why).
func earningBody(e loyalty.Earning, explain bool) EarningBody {
	b := EarningBody{Points: e.Points, StatusPoints: e.StatusPoints, Awards: awardBodies(e.Awards),
		Lines: make([]LineEarningBody, 0, len(e.Lines))}
	for _, l := range e.Lines {
		b.Lines = append(b.Lines, LineEarningBody{LineNumber: l.Number, Eligible: l.Eligible, Points: l.Points, Note: l.Note})
	}
	if !explain {
		return b
	}
	for _, o := range e.NotApplied {
		b.NotApplied = append(b.NotApplied, RuleOutcomeBody{RuleID: id.Format(id.Rule, o.RuleID), Name: o.Name, Reason: o.Reason})
	}
	return b
}

// TransactionLoyaltyBody is what a recorded transaction did to points.
type TransactionLoyaltyBody struct {
	EntryID     string       `json:"entry_id,omitempty"`
	Points      int64        `json:"points" doc:"earned by a purchase, or clawed back by a return"`
	Pending     bool         `json:"pending" doc:"the points wait for the return window"`
	AvailableAt *time.Time   `json:"available_at,omitempty"`
	Earning     *EarningBody `json:"earning,omitempty" doc:"on a purchase: per line and per rule, with reasons"`
	Balances    BalancesBody `json:"balances" doc:"after this transaction"`
	Tier        *TierBody    `json:"tier"`
	TierChanged bool         `json:"tier_changed"`
}

func transactionLoyalty(o *sqldb.LoyaltyOutcome, kind string, explain bool) *TransactionLoyaltyBody {
	if o == nil {
		return nil
	}
	b := &TransactionLoyaltyBody{EntryID: id.Format(id.Entry, o.EntryID), Points: o.Points, Pending: o.Pending,
		Balances: balancesBody(o.Balances), Tier: tierBodyPtr(o.Tier), TierChanged: o.TierChanged}
	if kind == transaction.KindPurchase {
		e := earningBody(o.Earning, explain)
		b.Earning = &e
		if o.Points > 0 {
			b.AvailableAt = &o.AvailableAt
		}
	}
	return b
}

type entriesInput struct {
	ID string `path:"id" doc:"customer id, cus_…"`
	PageParams
}

type entriesOutput struct{ Body Page[EntryBody] }

type adjustInput struct {
	ID   string `path:"id" doc:"customer id, cus_…"`
	Body struct {
		Points    int64  `json:"points" doc:"positive gives, negative takes away (never more than is available)"`
		Reason    string `json:"reason" minLength:"1" maxLength:"500" doc:"stays on the ledger"`
		Reference string `json:"reference,omitempty" maxLength:"200" doc:"makes the adjustment apply once, e.g. a ticket number"`
	}
}

type adjustOutput struct {
	Status int
	Body   struct {
		EntryID  string       `json:"entry_id"`
		Balances BalancesBody `json:"balances"`
	}
}

// QuoteRequest is a basket to quote.
type QuoteRequest struct {
	CustomerID   string          `json:"customer_id,omitempty" doc:"cus_…; none quotes for a guest who would join"`
	SalesChannel string          `json:"sales_channel" doc:"sales channel code"`
	Location     string          `json:"location,omitempty" doc:"location code"`
	OccurredAt   *time.Time      `json:"occurred_at,omitempty" doc:"default now"`
	Currency     string          `json:"currency,omitempty" doc:"default the location's"`
	TaxInclusive *bool           `json:"tax_inclusive,omitempty" default:"true"`
	Lines        []LineRequest   `json:"lines" minItems:"1" maxItems:"5000"`
	Tenders      []TenderRequest `json:"tenders,omitempty" maxItems:"20"`
}

// QuoteBody is what a basket would earn.
type QuoteBody struct {
	Earning         EarningBody   `json:"earning"`
	Total           money.Amount  `json:"total"`
	Pending         bool          `json:"pending"`
	AvailableAt     time.Time     `json:"available_at"`
	Balances        BalancesBody  `json:"balances" doc:"now, before this purchase"`
	Tier            *TierBody     `json:"tier"`
	TierAfter       *TierBody     `json:"tier_after" doc:"after this purchase"`
	QualifyingValue int64         `json:"qualifying_value_after"`
	NextTier        *TierBody     `json:"next_tier"`
	GapToNextTier   int64         `json:"gap_to_next_tier"`
	Rewards         []RewardOffer `json:"rewards" doc:"rewards the member could redeem now"`
}

// RewardOffer is a reward the member could redeem.
type RewardOffer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Points int64  `json:"points"`
}

type quoteInput struct {
	Explain bool `query:"explain" doc:"also list every live rule that gave nothing, and why"`
	Body    QuoteRequest
}

type quoteOutput struct{ Body QuoteBody }

func (s *server) loyaltyAccountRoutes() {
	tags := []string{"Loyalty accounts"}
	huma.Register(s.api, huma.Operation{OperationID: "customer-loyalty", Method: http.MethodGet, Path: "/v1/customers/{id}/loyalty",
		Summary: "A member's points, tier and expiry calendar", Tags: tags}, s.customerLoyalty)
	huma.Register(s.api, huma.Operation{OperationID: "customer-loyalty-entries", Method: http.MethodGet, Path: "/v1/customers/{id}/loyalty/entries",
		Summary: "A member's ledger", Tags: tags, Description: "Journal entries with their postings, newest first."}, s.customerEntries)
	huma.Register(s.api, huma.Operation{OperationID: "adjust-loyalty-points", Method: http.MethodPost, Path: "/v1/customers/{id}/loyalty/adjustments",
		Summary: "Adjust a member's points", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "A manual correction with a reason, recorded with the acting key. Needs the loyalty:adjust scope."}, s.adjustPoints)
	huma.Register(s.api, huma.Operation{OperationID: "loyalty-quote", Method: http.MethodPost, Path: "/v1/loyalty/quote",
		Summary: "Quote what a basket earns", Tags: tags,
		Description: "Writes nothing. Recording the same basket as a purchase earns exactly what the quote says."}, s.quote)
}

func (s *server) customerLoyalty(ctx context.Context, in *customerIDInput) (*customerLoyaltyOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Customer, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	a, err := s.db.FindLoyaltyAccount(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customerLoyaltyOutput{Body: LoyaltyAccountBody{CustomerID: id.Format(id.Customer, a.CustomerID), Member: a.Member,
		Balances: balancesBody(a.Balances), LifetimeEarned: a.LifetimeEarned, Tier: tierBodyPtr(a.Tier), TierSince: a.TierSince,
		Basis: a.Basis, QualifyingValue: a.QualifyingNow, NextTier: tierBodyPtr(a.NextTier), GapToNextTier: a.GapToNext,
		KeepTierGap: a.KeepGap, ReviewAt: a.ReviewAt, Expiring: datedPoints(a.Expiring), Maturing: datedPoints(a.NextAvailable)}}, nil
}

func (s *server) customerEntries(ctx context.Context, in *entriesInput) (*entriesOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyRead, id.Customer, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	es, err := s.db.FindLoyaltyEntries(ctx, sqldb.EntryFilter{TenantID: p.TenantID, CustomerID: cid, Limit: in.limit() + 1, BeforeID: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &entriesOutput{Body: paginate(es, in.limit(), func(e loyalty.Entry) string { return e.ID }, entryBody)}, nil
}

func (s *server) adjustPoints(ctx context.Context, in *adjustInput) (*adjustOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeLoyaltyAdjust, id.Customer, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	res, err := s.db.AdjustLoyaltyPoints(ctx, sqldb.AdjustParams{TenantID: p.TenantID, CustomerID: cid, Points: in.Body.Points,
		Reason: in.Body.Reason, Reference: in.Body.Reference, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &adjustOutput{Status: http.StatusCreated}
	if !res.Created {
		out.Status = http.StatusOK
	}
	out.Body.EntryID, out.Body.Balances = id.Format(id.Entry, res.EntryID), balancesBody(res.Balances)
	return out, nil
}

func (s *server) quote(ctx context.Context, in *quoteInput) (*quoteOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	qp := sqldb.QuoteParams{TenantID: p.TenantID, SalesChannelCode: b.SalesChannel, LocationCode: b.Location, Currency: b.Currency,
		TaxInclusive: b.TaxInclusive == nil || *b.TaxInclusive, Lines: requestLines(b.Lines), Tenders: requestTenders(b.Tenders)}
	if b.OccurredAt != nil {
		qp.OccurredAt = *b.OccurredAt
	}
	if b.CustomerID != "" {
		if qp.CustomerID, err = id.Parse(id.Customer, b.CustomerID); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	q, err := s.db.QuoteLoyalty(ctx, qp)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &quoteOutput{Body: QuoteBody{Earning: earningBody(q.Earning, in.Explain), Total: money.Amount{Amount: q.Totals.Total, Currency: q.Currency},
		Pending: q.Pending, AvailableAt: q.AvailableAt, Balances: balancesBody(q.Balances), Tier: tierBodyPtr(q.Tier),
		TierAfter: tierBodyPtr(q.TierAfter), QualifyingValue: q.QualifyingThen, NextTier: tierBodyPtr(q.NextTier),
		GapToNextTier: q.GapToNext, Rewards: rewardOffers(q.Rewards)}}, nil
}

func rewardOffers(rs []sqldb.Reward) []RewardOffer {
	out := make([]RewardOffer, 0, len(rs))
	for _, r := range rs {
		out = append(out, RewardOffer{ID: id.Format(id.Reward, r.ID), Name: r.Name, Points: r.Cost})
	}
	return out
}
