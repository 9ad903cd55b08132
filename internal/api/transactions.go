package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/transaction"
)

// LineRequest is one receipt line as sent. Amounts are minor units of the
// transaction's currency.
type LineRequest struct {
	SKU          string `json:"sku" minLength:"1" maxLength:"64"`
	Name         string `json:"name,omitempty" maxLength:"200"`
	Category     string `json:"category,omitempty" maxLength:"200"`
	Quantity     int64  `json:"quantity" minimum:"1" maximum:"1000000" doc:"whole units; a return is kind return with positive quantities"`
	UnitPrice    int64  `json:"unit_price" minimum:"0" doc:"minor units"`
	Discount     int64  `json:"discount,omitempty" minimum:"0" doc:"for the whole line, minor units"`
	Tax          int64  `json:"tax,omitempty" minimum:"0" doc:"for the whole line, minor units; included in the price unless tax_inclusive is false"`
	OriginalLine int    `json:"original_line,omitempty" minimum:"0" doc:"on a return: the line number of the original purchase given back"`
}

// TenderRequest is one payment or refund.
type TenderRequest struct {
	Type      string `json:"type" enum:"cash,card,points,coupon,gift_card,voucher,wallet,other"`
	Amount    int64  `json:"amount" minimum:"0" doc:"minor units"`
	Reference string `json:"reference,omitempty" maxLength:"200" doc:"card approval code, coupon code, gift card number…"`
}

// TotalsClaim are the totals the sender computed; any that differ from OMO's are a 400.
type TotalsClaim struct {
	Subtotal *int64 `json:"subtotal,omitempty"`
	Discount *int64 `json:"discount,omitempty"`
	Tax      *int64 `json:"tax,omitempty"`
	Total    *int64 `json:"total,omitempty"`
}

// OriginalRequest names the purchase a return gives back.
type OriginalRequest struct {
	TransactionID string `json:"transaction_id,omitempty" doc:"trn_…"`
	ExternalID    string `json:"external_id,omitempty" maxLength:"128"`
	Location      string `json:"location,omitempty" maxLength:"64" doc:"location code of the original receipt (default: none)"`
	Register      string `json:"register,omitempty" maxLength:"64"`
	ReceiptNumber string `json:"receipt_number,omitempty" maxLength:"64"`
}

// TransactionCustomer names a customer by identifiers, as in identify.
type TransactionCustomer struct {
	Identifiers customer.IdentifierInput `json:"identifiers"`
	Traits      customer.Traits          `json:"traits,omitempty"`
}

// TransactionRequest is the body of POST /v1/transactions.
type TransactionRequest struct {
	Kind          string               `json:"kind" enum:"purchase,return"`
	SalesChannel  string               `json:"sales_channel" minLength:"1" maxLength:"64" doc:"sales channel code"`
	Location      string               `json:"location,omitempty" maxLength:"64" doc:"location code; omit for a sale with no physical place"`
	Register      string               `json:"register,omitempty" maxLength:"64"`
	ReceiptNumber string               `json:"receipt_number,omitempty" maxLength:"64" doc:"unique per location (or sales channel) and register"`
	ExternalID    string               `json:"external_id,omitempty" maxLength:"128" doc:"the sending system's id, unique per tenant"`
	OccurredAt    time.Time            `json:"occurred_at" doc:"RFC 3339 with the offset where it happened"`
	Currency      string               `json:"currency,omitempty" maxLength:"3" doc:"ISO 4217; defaults to the location's"`
	TaxInclusive  *bool                `json:"tax_inclusive,omitempty" default:"true" doc:"whether unit prices include tax"`
	Lines         []LineRequest        `json:"lines" minItems:"1" maxItems:"5000"`
	Tenders       []TenderRequest      `json:"tenders,omitempty" maxItems:"20" doc:"when given, they must add up to the total"`
	Totals        *TotalsClaim         `json:"totals,omitempty" doc:"the sender's totals, checked against OMO's"`
	CustomerID    string               `json:"customer_id,omitempty" doc:"cus_…; or give customer, or neither for a guest sale"`
	Customer      *TransactionCustomer `json:"customer,omitempty" doc:"identifiers resolved (or a customer created) as by POST /v1/customers"`
	AssociateID   string               `json:"associate_id,omitempty" maxLength:"64" doc:"the staff member credited"`
	Original      *OriginalRequest     `json:"original,omitempty" doc:"on a return: the purchase given back; unknown purchases make an unlinked return"`
	Source        string               `json:"source,omitempty" maxLength:"64" doc:"the sending system (pos, web, import…)"`
}

// LineBody is a recorded line.
type LineBody struct {
	LineNumber       int    `json:"line_number"`
	SKU              string `json:"sku"`
	Name             string `json:"name"`
	Category         string `json:"category"`
	Quantity         int64  `json:"quantity"`
	UnitPrice        int64  `json:"unit_price"`
	Discount         int64  `json:"discount"`
	Tax              int64  `json:"tax"`
	Total            int64  `json:"total"`
	OriginalLine     int    `json:"original_line,omitempty"`
	ReturnedQuantity int64  `json:"returned_quantity" doc:"on a purchase: how many of this line have been returned"`
}

// TotalsBody are the totals OMO computed.
type TotalsBody struct {
	Subtotal money.Amount `json:"subtotal" doc:"Σ quantity × unit price"`
	Discount money.Amount `json:"discount"`
	Tax      money.Amount `json:"tax"`
	Total    money.Amount `json:"total"`
}

// TransactionBody is a recorded purchase or return.
type TransactionBody struct {
	ID             string          `json:"id" example:"trn_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Kind           string          `json:"kind"`
	SalesChannelID string          `json:"sales_channel_id"`
	LocationID     string          `json:"location_id,omitempty"`
	Register       string          `json:"register"`
	ReceiptNumber  string          `json:"receipt_number,omitempty"`
	ExternalID     string          `json:"external_id,omitempty"`
	OccurredAt     time.Time       `json:"occurred_at"`
	LocalTime      string          `json:"local_time" doc:"occurred_at at the offset where it happened"`
	Currency       string          `json:"currency"`
	TaxInclusive   bool            `json:"tax_inclusive"`
	Lines          []LineBody      `json:"lines"`
	Tenders        []TenderRequest `json:"tenders"`
	Totals         TotalsBody      `json:"totals"`
	CustomerID     string          `json:"customer_id,omitempty" doc:"absent for a guest sale"`
	AssociateID    string          `json:"associate_id,omitempty"`
	OriginalID     string          `json:"original_transaction_id,omitempty" doc:"on a linked return"`
	Source         string          `json:"source,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

func transactionBody(t transaction.Transaction) TransactionBody {
	amt := func(v int64) money.Amount { return money.Amount{Amount: v, Currency: t.Currency} }
	b := TransactionBody{ID: id.Format(id.Transaction, t.ID), Kind: t.Kind, SalesChannelID: id.Format(id.Channel, t.SalesChannelID),
		LocationID: id.Format(id.Location, t.LocationID), Register: t.Register, ReceiptNumber: t.ReceiptNumber, ExternalID: t.ExternalID,
		OccurredAt: t.OccurredAt, LocalTime: t.Local().Format(time.RFC3339Nano), Currency: t.Currency, TaxInclusive: t.TaxInclusive,
		Lines: make([]LineBody, 0, len(t.Lines)), Tenders: make([]TenderRequest, 0, len(t.Tenders)),
		Totals:     TotalsBody{Subtotal: amt(t.Totals.Subtotal), Discount: amt(t.Totals.Discount), Tax: amt(t.Totals.Tax), Total: amt(t.Totals.Total)},
		CustomerID: id.Format(id.Customer, t.CustomerID), AssociateID: t.AssociateID, OriginalID: id.Format(id.Transaction, t.OriginalID),
		Source: t.Source, CreatedAt: t.CreatedAt}
	for _, l := range t.Lines {
		b.Lines = append(b.Lines, LineBody{LineNumber: l.Number, SKU: l.SKU, Name: l.Name, Category: l.Category, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, Discount: l.Discount, Tax: l.Tax, Total: l.Total, OriginalLine: l.OriginalLine, ReturnedQuantity: l.Returned})
	}
	for _, td := range t.Tenders {
		b.Tenders = append(b.Tenders, TenderRequest{Type: td.Type, Amount: td.Amount, Reference: td.Reference})
	}
	return b
}

// RecordBody is the answer to POST /v1/transactions.
type RecordBody struct {
	TransactionBody
	Duplicate       bool `json:"duplicate" doc:"true when this sale was recorded before: the original is returned and nothing was applied"`
	CustomerCreated bool `json:"customer_created" doc:"the identifiers named no known customer, so one was created"`
	Linked          bool `json:"linked" doc:"a return matched to its original purchase"`
	// Loyalty is set when the tenant has a loyalty program and the sale has
	// a customer; absent on a resend.
	Loyalty *TransactionLoyaltyBody `json:"loyalty,omitempty" doc:"points earned (or clawed back) and the balance after, in the same response"`
}

type recordInput struct {
	Explain bool `query:"explain" doc:"in the loyalty block, also list every live rule that gave nothing, and why"`
	Body    TransactionRequest
}

type recordOutput struct {
	Status int
	Body   RecordBody
}

type transactionIDInput struct {
	ID string `path:"id" doc:"transaction id, trn_…"`
}

type transactionOutput struct{ Body TransactionBody }

type customerTransactionsInput struct {
	ID string `path:"id" doc:"customer id, cus_…"`
	PageParams
}

type customerTransactionsOutput struct{ Body Page[TransactionBody] }

// SalesSummaryBody is a customer's purchase aggregates in one currency.
type SalesSummaryBody struct {
	Currency        string           `json:"currency"`
	Purchases       int64            `json:"purchases"`
	Returns         int64            `json:"returns"`
	Spent           money.Amount     `json:"spent" doc:"totals of purchases"`
	Refunded        money.Amount     `json:"refunded" doc:"totals of returns"`
	NetSpent        money.Amount     `json:"net_spent"`
	AverageBasket   money.Amount     `json:"average_basket" doc:"net spent per purchase, rounded half away from zero"`
	FirstPurchaseAt *time.Time       `json:"first_purchase_at"`
	LastPurchaseAt  *time.Time       `json:"last_purchase_at"`
	BySalesChannel  []SalesSliceBody `json:"by_sales_channel"`
	ByLocation      []SalesSliceBody `json:"by_location" doc:"sales with no location are left out"`
}

// SalesSliceBody is the part of a summary of one sales channel or location.
type SalesSliceBody struct {
	ID        string       `json:"id" doc:"sch_… or loc_…"`
	Purchases int64        `json:"purchases"`
	Returns   int64        `json:"returns"`
	NetSpent  money.Amount `json:"net_spent"`
}

type salesSummaryOutput struct {
	Body struct {
		Data []SalesSummaryBody `json:"data" doc:"one summary per currency the customer bought in"`
	}
}

// TimelineItemBody is one entry of a customer's timeline.
type TimelineItemBody struct {
	Type        string           `json:"type" enum:"transaction,profile_change,event"`
	At          time.Time        `json:"at"`
	Transaction *TransactionBody `json:"transaction,omitempty"`
	Change      *AuditEntryBody  `json:"change,omitempty"`
	Event       *EventBody       `json:"event,omitempty"`
}

type timelineOutput struct{ Body Page[TimelineItemBody] }

func (s *server) transactionRoutes() {
	tags := []string{"Transactions"}
	huma.Register(s.api, huma.Operation{OperationID: "record-transaction", Method: http.MethodPost, Path: "/v1/transactions",
		Summary: "Record a purchase or a return", Tags: tags, DefaultStatus: http.StatusCreated,
		Responses: map[string]*huma.Response{"200": {Description: "the same sale was recorded before; the original is returned and nothing applied"}},
		Description: "Computes the totals from the lines (exact minor units) and rejects stated totals or tenders that disagree. " +
			"A receipt is unique per location (or sales channel), register and receipt number, and an external_id per tenant: " +
			"sending the same sale again answers 200 with the original; the same key with different content is a 409. " +
			"A return naming a known purchase can never give back more than was bought; one naming an unknown purchase is recorded unlinked. " +
			"The customer's purchase aggregates change in the same database transaction."}, s.recordTransaction)
	huma.Register(s.api, huma.Operation{OperationID: "get-transaction", Method: http.MethodGet, Path: "/v1/transactions/{id}",
		Summary: "Get a transaction", Tags: tags}, s.getTransaction)
	ctags := []string{"Customers"}
	huma.Register(s.api, huma.Operation{OperationID: "customer-transactions", Method: http.MethodGet, Path: "/v1/customers/{id}/transactions",
		Summary: "A customer's transactions", Tags: ctags,
		Description: "Newest first, including those of customers merged into this one."}, s.customerTransactions)
	huma.Register(s.api, huma.Operation{OperationID: "customer-sales-summary", Method: http.MethodGet, Path: "/v1/customers/{id}/sales_summary",
		Summary: "A customer's purchase aggregates", Tags: ctags,
		Description: "First and last purchase, counts, spend, average basket, per sales channel and location; one summary per currency."}, s.customerSalesSummary)
	huma.Register(s.api, huma.Operation{OperationID: "customer-timeline", Method: http.MethodGet, Path: "/v1/customers/{id}/timeline",
		Summary: "A customer's timeline", Tags: ctags,
		Description: "Transactions, profile changes and behavioural events, newest first, including customers merged into this one."}, s.customerTimeline)
}

func (s *server) recordTransaction(ctx context.Context, in *recordInput) (*recordOutput, error) {
	p, err := principal(ctx, auth.ScopeTransactionsWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	params, err := recordParams(in.Body, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	params.Actor = actor(ctx, p)
	res, err := s.db.RecordTransaction(ctx, params)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &recordOutput{Status: http.StatusCreated, Body: RecordBody{TransactionBody: transactionBody(res.Transaction),
		Duplicate: !res.Created, CustomerCreated: res.CustomerCreated, Linked: res.Linked || res.Transaction.OriginalID != "",
		Loyalty: transactionLoyalty(res.Loyalty, res.Transaction.Kind, in.Explain)}}
	if !res.Created {
		out.Status = http.StatusOK
	}
	return out, nil
}

// recordParams translates the request; ids in it are parsed here.
func recordParams(b TransactionRequest, tenantID string) (sqldb.RecordParams, error) {
	p := sqldb.RecordParams{TenantID: tenantID, Kind: b.Kind, SalesChannelCode: b.SalesChannel, LocationCode: b.Location,
		Register: b.Register, ReceiptNumber: strings.TrimSpace(b.ReceiptNumber), ExternalID: strings.TrimSpace(b.ExternalID),
		OccurredAt: b.OccurredAt, Currency: b.Currency, TaxInclusive: b.TaxInclusive == nil || *b.TaxInclusive,
		AssociateID: b.AssociateID, Source: b.Source}
	p.Lines, p.Tenders = requestLines(b.Lines), requestTenders(b.Tenders)
	if c := b.Totals; c != nil {
		p.Claimed = transaction.ClaimedTotals{Subtotal: c.Subtotal, Discount: c.Discount, Tax: c.Tax, Total: c.Total}
	}
	if b.CustomerID != "" {
		cid, err := id.Parse(id.Customer, b.CustomerID)
		if err != nil {
			return p, apperr.Field("body.customer_id", "not a customer id (cus_…)", b.CustomerID)
		}
		p.CustomerID = cid
	}
	if c := b.Customer; c != nil {
		if err := validateTraits(c.Traits, "body.customer.traits"); err != nil {
			return p, err
		}
		p.Customer = &sqldb.IdentifyParams{Identifiers: c.Identifiers, Traits: c.Traits}
	}
	if o := b.Original; o != nil {
		p.Original = &sqldb.OriginalRef{ExternalID: o.ExternalID, LocationCode: o.Location, Register: o.Register, ReceiptNumber: o.ReceiptNumber}
		if o.TransactionID != "" {
			tid, err := id.Parse(id.Transaction, o.TransactionID)
			if err != nil {
				return p, apperr.Field("body.original.transaction_id", "not a transaction id (trn_…)", o.TransactionID)
			}
			p.Original.TransactionID = tid
		}
	}
	return p, nil
}

func requestLines(in []LineRequest) []transaction.Line {
	out := make([]transaction.Line, 0, len(in))
	for _, l := range in {
		out = append(out, transaction.Line{SKU: l.SKU, Name: l.Name, Category: l.Category, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, Discount: l.Discount, Tax: l.Tax, OriginalLine: l.OriginalLine})
	}
	return out
}

func requestTenders(in []TenderRequest) []transaction.Tender {
	var out []transaction.Tender
	for _, t := range in {
		out = append(out, transaction.Tender{Type: t.Type, Amount: t.Amount, Reference: t.Reference})
	}
	return out
}

func (s *server) getTransaction(ctx context.Context, in *transactionIDInput) (*transactionOutput, error) {
	p, tid, err := principalWithID(ctx, auth.ScopeTransactionsRead, id.Transaction, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	t, err := s.db.FindTransactionByID(ctx, p.TenantID, tid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &transactionOutput{Body: transactionBody(t)}, nil
}

// timeCursor reads a newest-first cursor: "<unix nanoseconds>.<id>".
func timeCursor(pp PageParams) (sqldb.TimeCursor, error) {
	raw, err := pp.after()
	if err != nil || raw == "" {
		return sqldb.TimeCursor{}, err
	}
	ns, rest, ok := strings.Cut(raw, ".")
	n, perr := strconv.ParseInt(ns, 10, 64)
	if !ok || perr != nil {
		return sqldb.TimeCursor{}, apperr.Field("query.cursor", "not a cursor returned by this API", pp.Cursor)
	}
	return sqldb.TimeCursor{At: time.Unix(0, n).UTC(), ID: rest}, nil
}

func timeKey(at time.Time, rawID string) string { return fmt.Sprintf("%d.%s", at.UnixNano(), rawID) }

func (s *server) customerTransactions(ctx context.Context, in *customerTransactionsInput) (*customerTransactionsOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeTransactionsRead, in.ID)
	if err != nil {
		return nil, err
	}
	before, err := timeCursor(in.PageParams)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ts, err := s.db.FindTransactions(ctx, sqldb.TransactionFilter{TenantID: p.TenantID, CustomerID: cid, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customerTransactionsOutput{Body: paginate(ts, in.limit(),
		func(t transaction.Transaction) string { return timeKey(t.OccurredAt, t.ID) }, transactionBody)}, nil
}

func (s *server) customerSalesSummary(ctx context.Context, in *customerIDInput) (*salesSummaryOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeTransactionsRead, in.ID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.FindCustomerSales(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &salesSummaryOutput{}
	out.Body.Data = salesSummaries(rows)
	return out, nil
}

// salesSummaries folds aggregate rows (sorted by currency) into one summary per currency.
func salesSummaries(rows []sqldb.SalesRow) []SalesSummaryBody {
	out := []SalesSummaryBody{}
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Currency != r.Currency {
			out = append(out, SalesSummaryBody{Currency: r.Currency, BySalesChannel: []SalesSliceBody{}, ByLocation: []SalesSliceBody{}})
		}
		sum := &out[len(out)-1]
		sum.Purchases += r.Purchases
		sum.Returns += r.Returns
		sum.Spent.Amount += r.Spent
		sum.Refunded.Amount += r.Refunded
		sum.FirstPurchaseAt = earliest(sum.FirstPurchaseAt, r.FirstPurchase)
		sum.LastPurchaseAt = latest(sum.LastPurchaseAt, r.LastPurchase)
		sum.BySalesChannel = addSlice(sum.BySalesChannel, id.Format(id.Channel, r.SalesChannelID), r)
		if r.LocationID != "" {
			sum.ByLocation = addSlice(sum.ByLocation, id.Format(id.Location, r.LocationID), r)
		}
	}
	for i := range out {
		s := &out[i]
		s.Spent.Currency, s.Refunded.Currency = s.Currency, s.Currency
		s.NetSpent = money.Amount{Amount: s.Spent.Amount - s.Refunded.Amount, Currency: s.Currency}
		s.AverageBasket = money.Amount{Amount: divRound(s.NetSpent.Amount, s.Purchases), Currency: s.Currency}
		for _, sl := range [][]SalesSliceBody{s.BySalesChannel, s.ByLocation} {
			for j := range sl {
				sl[j].NetSpent.Currency = s.Currency
			}
		}
	}
	return out
}

func addSlice(slices []SalesSliceBody, sliceID string, r sqldb.SalesRow) []SalesSliceBody {
	for i := range slices {
		if slices[i].ID == sliceID {
			slices[i].Purchases += r.Purchases
			slices[i].Returns += r.Returns
			slices[i].NetSpent.Amount += r.Spent - r.Refunded
			return slices
		}
	}
	return append(slices, SalesSliceBody{ID: sliceID, Purchases: r.Purchases, Returns: r.Returns, NetSpent: money.Amount{Amount: r.Spent - r.Refunded}})
}

// divRound divides rounding half away from zero; 0 when d is 0.
func divRound(n, d int64) int64 {
	if d == 0 {
		return 0
	}
	q, r := n/d, n%d
	if 2*abs(r) >= abs(d) {
		if (n < 0) != (d < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func earliest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

func latest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}

func (s *server) customerTimeline(ctx context.Context, in *customerTransactionsInput) (*timelineOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersRead, in.ID)
	if err != nil {
		return nil, err
	}
	before, err := timeCursor(in.PageParams)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	items, err := s.db.FindTimeline(ctx, sqldb.TransactionFilter{TenantID: p.TenantID, CustomerID: cid, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &timelineOutput{Body: paginate(items, in.limit(), func(it sqldb.TimelineItem) string { return timeKey(it.At, it.ID) },
		func(it sqldb.TimelineItem) TimelineItemBody {
			b := TimelineItemBody{Type: it.Type, At: it.At}
			if it.Transaction != nil {
				tb := transactionBody(*it.Transaction)
				b.Transaction = &tb
			}
			if it.Change != nil {
				ab := auditBody(*it.Change)
				b.Change = &ab
			}
			if it.Event != nil {
				eb := eventBody(*it.Event)
				b.Event = &eb
			}
			return b
		})}, nil
}
