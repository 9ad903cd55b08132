package sqldb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/tenant"
	"github.com/omo-platform/omo/internal/transaction"
)

// RecordParams is a purchase or return to record, as a POS, web shop or
// importer sends it. Codes name the sales channel and location.
type RecordParams struct {
	TenantID         string
	Kind             string
	SalesChannelCode string
	LocationCode     string
	Register         string
	ReceiptNumber    string
	ExternalID       string
	OccurredAt       time.Time // with the zone it happened in
	Currency         string    // defaults to the location's
	TaxInclusive     bool
	Lines            []transaction.Line
	Tenders          []transaction.Tender
	Claimed          transaction.ClaimedTotals
	// The customer: an id, or identifiers resolved (or created) as by
	// Identify, or neither for a guest.
	CustomerID  string
	Customer    *IdentifyParams
	AssociateID string
	Original    *OriginalRef // on a return, the purchase it gives back
	Source      string
	Actor
}

// OriginalRef names the purchase a return gives back: by id, by receipt
// (location code, register, receipt number) or by external id.
type OriginalRef struct {
	TransactionID string
	LocationCode  string
	Register      string
	ReceiptNumber string
	ExternalID    string
}

func (r OriginalRef) String() string {
	switch {
	case r.TransactionID != "":
		return id.Format(id.Transaction, r.TransactionID)
	case r.ExternalID != "":
		return "external_id " + r.ExternalID
	}
	return fmt.Sprintf("receipt %s/%s/%s", r.LocationCode, r.Register, r.ReceiptNumber)
}

// RecordResult is the transaction recorded, or found when the same sale was
// sent before.
type RecordResult struct {
	Transaction     transaction.Transaction
	Created         bool // false: a resend of a recorded transaction, which applied nothing
	CustomerCreated bool
	Linked          bool // a return matched to its original purchase
	// Loyalty is what the transaction did to the member's points (nil for a
	// guest, a tenant without a program, or a resend).
	Loyalty *LoyaltyOutcome
}

// RecordTransaction records a purchase or a return with its effects in one
// transaction: the customer resolved or created, returned quantities of the
// original purchase, the customer's purchase aggregates, and a
// transaction.recorded job. A resend (same receipt or external id, same
// content) returns the original and applies nothing; the same key with other
// content is a Conflict. Bad input is Invalid with the fields named.
func (db *DB) RecordTransaction(ctx context.Context, p RecordParams) (*RecordResult, error) {
	t, err := db.tenant(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	totals, claims, err := checkRecord(&p, t, db.Now())
	if err != nil {
		return nil, err
	}
	hash := recordHash(p)
	for attempt := 0; ; attempt++ {
		var res *RecordResult
		err := db.WriteTx(ctx, func(tx *Tx) error {
			var err error
			if res, err = recordTx(ctx, tx, t, p, totals, claims, hash); err != nil || !res.Created {
				return err
			}
			return enqueueRecorded(ctx, tx, t.ID, []string{res.Transaction.ID})
		})
		// Two resends racing on PostgreSQL: the loser's insert meets the
		// winner's key; run again and find the winner's transaction.
		if IsUniqueViolation(err) && attempt < 3 {
			continue
		}
		return res, err
	}
}

// checkRecord validates everything that needs no database.
func checkRecord(p *RecordParams, t tenant.Tenant, now time.Time) (transaction.Totals, []customer.Claim, error) {
	var fields []apperr.FieldError
	bad := func(loc, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: loc, Message: msg, Value: v})
	}
	if p.Kind != transaction.KindPurchase && p.Kind != transaction.KindReturn {
		bad("body.kind", "purchase or return", p.Kind)
	}
	if p.ReceiptNumber == "" && p.ExternalID == "" {
		bad("body.receipt_number", "a receipt number or an external_id is required: it is what makes a resend harmless", nil)
	}
	if p.OccurredAt.IsZero() || p.OccurredAt.After(now.Add(24*time.Hour)) || p.OccurredAt.Year() < 1970 {
		bad("body.occurred_at", "when it happened, RFC 3339 with its offset, not more than a day ahead", p.OccurredAt)
	}
	if p.CustomerID != "" && p.Customer != nil {
		bad("body.customer", "give customer_id or customer, not both", nil)
	}
	if p.Original != nil && p.Kind != transaction.KindReturn {
		bad("body.original", "only a return names an original purchase", nil)
	}
	if len(p.Lines) == 0 || len(p.Lines) > transaction.MaxLines {
		bad("body.lines", fmt.Sprintf("1 to %d lines", transaction.MaxLines), len(p.Lines))
	}
	if p.Currency != "" {
		c, ok := money.NormalizeCurrency(p.Currency)
		if !ok {
			bad("body.currency", "an ISO 4217 currency code such as HKD", p.Currency)
		}
		p.Currency = c
	}
	var claims []customer.Claim
	if p.Customer != nil {
		var err error
		if claims, _, err = normalizeRequest(*p.Customer, t.Settings.DefaultCountry, now); err != nil {
			fields = append(fields, prefixFields(err, "body.customer")...)
		}
	}
	for i := range p.Lines {
		p.Lines[i].Number = i + 1
	}
	totals, err := transaction.Compute(p.Lines, p.TaxInclusive, "body.lines")
	fields = append(fields, prefixFields(err, "")...)
	if err == nil {
		fields = append(fields, prefixFields(transaction.CheckClaimed(p.Claimed, totals, "body.totals"), "")...)
		fields = append(fields, prefixFields(transaction.CheckTenders(p.Tenders, totals.Total, "body.tenders"), "")...)
	}
	if len(fields) > 0 {
		return totals, nil, &apperr.Error{Kind: apperr.Invalid, Message: "the transaction is not valid", Fields: fields}
	}
	return totals, claims, nil
}

// prefixFields returns the field errors of an Invalid error, with locations
// starting "body." moved under prefix (when given).
func prefixFields(err error, prefix string) []apperr.FieldError {
	if err == nil {
		return nil
	}
	e, ok := apperr.As(err)
	if !ok || len(e.Fields) == 0 {
		return []apperr.FieldError{{Location: prefix, Message: err.Error()}}
	}
	out := make([]apperr.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if prefix != "" {
			f.Location = prefix + strings.TrimPrefix(f.Location, "body")
		}
		out[i] = f
	}
	return out
}

// recordHash fingerprints what was sent, so a resend under the same key is
// told apart from a different sale that reuses it.
func recordHash(p RecordParams) string {
	p.Actor = Actor{}
	raw, _ := json.Marshal(p)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// recordTx records one transaction. Its contract, which imports rely on to
// record many in one database transaction: every error about the sale itself
// (unknown codes, an over-return, an erased customer, a changed resend) is
// returned before its first write; an error after a write is the database's.
// It enqueues no job: the caller does, for one transaction or a chunk.
func recordTx(ctx context.Context, tx *Tx, t tenant.Tenant, p RecordParams, totals transaction.Totals, claims []customer.Claim, hash string) (*RecordResult, error) {
	ch, loc, err := recordPlace(ctx, tx, t.ID, p)
	if err != nil {
		return nil, err
	}
	tr := transaction.Transaction{TenantID: t.ID, ID: id.New(), Kind: p.Kind, SalesChannelID: ch.ID, LocationID: loc.ID,
		Register: p.Register, ReceiptNumber: p.ReceiptNumber, ExternalID: p.ExternalID,
		OccurredAt: p.OccurredAt.UTC().Truncate(time.Microsecond), Currency: p.Currency, TaxInclusive: p.TaxInclusive,
		Lines: p.Lines, Tenders: p.Tenders, Totals: totals, AssociateID: p.AssociateID, Source: p.Source, CreatedAt: tx.Now()}
	_, offset := p.OccurredAt.Zone()
	tr.UTCOffset = offset / 60
	if tr.Currency == "" {
		if tr.Currency = loc.Currency; tr.Currency == "" {
			return nil, apperr.Field("body.currency", "required when the transaction names no location", nil)
		}
	}
	key := receiptKey(ch.ID, loc.ID, p.Register, p.ReceiptNumber)
	prior, given, err := findPrior(ctx, tx, t.ID, key, p.ExternalID, p.CustomerID)
	if err != nil || prior != nil {
		return samePrior(prior, hash, err)
	}
	res := &RecordResult{Created: true}
	var link *returnLink
	if p.Original != nil {
		if link, err = matchReturn(ctx, tx, t.ID, &tr, *p.Original); err != nil {
			return nil, err
		}
	}
	// Writes start here (identifyTx reports its own errors before writing).
	if tr.CustomerID, res.CustomerCreated, err = recordCustomer(ctx, tx, t, p, given, claims); err != nil {
		return nil, err
	}
	originalRef := ""
	if link != nil {
		if err := link.apply(ctx, tx, &tr); err != nil {
			return nil, err
		}
		res.Linked = true
	} else if p.Original != nil {
		originalRef = p.Original.String()
	}
	if err := insertTransaction(ctx, tx, tr, key, originalRef, hash); err != nil {
		return nil, err
	}
	// Loyalty before the sales aggregates: "first purchase" reads them.
	if res.Loyalty, err = accrue(ctx, tx, &tr, p, link); err != nil {
		return nil, err
	}
	if err := addCustomerSales(ctx, tx, tr); err != nil {
		return nil, err
	}
	res.Transaction = tr
	return res, nil
}

// enqueueRecorded enqueues the job of newly recorded transactions, when a
// module follows sales (DB.FollowSales).
func enqueueRecorded(ctx context.Context, tx *Tx, tenantID string, ids []string) error {
	if len(ids) == 0 || !tx.db.salesFollowed.Load() {
		return nil
	}
	return tx.Enqueue(ctx, transaction.RecordedJob{TenantID: tenantID, TransactionIDs: ids}, nil)
}

// recordPlace resolves the sales channel and location codes.
func recordPlace(ctx context.Context, tx *Tx, tenantID string, p RecordParams) (location.SalesChannel, location.Location, error) {
	var loc location.Location
	ch, err := tx.db.channelByCode(ctx, tx, tenantID, p.SalesChannelCode)
	if apperr.Is(err, apperr.NotFound) {
		return ch, loc, apperr.Field("body.sales_channel", "no sales channel has this code; create it with POST /v1/sales_channels", p.SalesChannelCode)
	}
	if err != nil || p.LocationCode == "" {
		return ch, loc, err
	}
	loc, err = tx.db.locationByCode(ctx, tx, tenantID, p.LocationCode)
	if apperr.Is(err, apperr.NotFound) {
		return ch, loc, apperr.Field("body.location", "no location has this code; create it with POST /v1/locations", p.LocationCode)
	}
	return ch, loc, err
}

// receiptKey is the natural key of a receipt: where (the location, or the
// sales channel for a sale with no location), which register, which number.
func receiptKey(channelID, locationID, register, number string) *string {
	if number == "" {
		return nil
	}
	where := "sch:" + channelID
	if locationID != "" {
		where = "loc:" + locationID
	}
	k := where + "\x1f" + register + "\x1f" + number
	return &k
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// findPrior returns the transaction already recorded under either natural
// key, if any, with the hash of what was sent then. A sale that names its
// customer by id also gets that customer's row here, in the same statement
// (one statement fewer per sale on the single writer, one round trip fewer
// on PostgreSQL).
func findPrior(ctx context.Context, tx *Tx, tenantID string, key *string, externalID, customerID string) (*priorTransaction, givenCustomer, error) {
	var pr priorTransaction
	var priorID, priorHash *string
	var given givenCustomer
	var err error
	if customerID == "" {
		err = tx.QueryRow(ctx, `SELECT id, request_hash FROM transactions WHERE tenant_id = $1
			AND (receipt_key = $2 OR external_id = $3) LIMIT 1`, tenantID, key, nullable(externalID)).Scan(&priorID, &priorHash)
	} else {
		err = tx.QueryRow(ctx, `SELECT p.id, p.request_hash, c.survivor_id, c.erased_at IS NOT NULL
			FROM (SELECT 1 AS one) o
			LEFT JOIN (SELECT id, request_hash FROM transactions WHERE tenant_id = $1
				AND (receipt_key = $2 OR external_id = $3) LIMIT 1) p ON o.one = 1
			LEFT JOIN customers c ON c.tenant_id = $1 AND c.id = $4`, tenantID, key, nullable(externalID), customerID).
			Scan(&priorID, &priorHash, &given.survivorID, &given.erased)
	}
	if errors.Is(err, ErrNoRows) || (err == nil && priorID == nil) {
		return nil, given, nil
	}
	if err != nil {
		return nil, given, err
	}
	pr.id, pr.hash = *priorID, *priorHash
	pr.tx, err = findTransaction(ctx, tx, tenantID, pr.id)
	return &pr, given, err
}

// givenCustomer is the row of the customer a sale names by id, as findPrior
// read it: survivorID is nil when there is no such customer.
type givenCustomer struct {
	survivorID *string
	erased     *bool
}

type priorTransaction struct {
	id, hash string
	tx       transaction.Transaction
}

func samePrior(prior *priorTransaction, hash string, err error) (*RecordResult, error) {
	if err != nil {
		return nil, err
	}
	if prior.hash != hash {
		return nil, apperr.New(apperr.Conflict, "%s was recorded on %s with different content as %s; a correction is a return and a new sale",
			describeReceipt(prior.tx), prior.tx.CreatedAt.Format(time.RFC3339), id.Format(id.Transaction, prior.id))
	}
	return &RecordResult{Transaction: prior.tx}, nil
}

func describeReceipt(t transaction.Transaction) string {
	if t.ReceiptNumber != "" {
		return fmt.Sprintf("receipt %q (register %q)", t.ReceiptNumber, t.Register)
	}
	return fmt.Sprintf("external_id %q", t.ExternalID)
}

// recordCustomer resolves the customer of a transaction: a given id (a
// merged id resolves to its survivor), identifiers (found, or created as by
// Identify), or none.
func recordCustomer(ctx context.Context, tx *Tx, t tenant.Tenant, p RecordParams, given givenCustomer, claims []customer.Claim) (string, bool, error) {
	switch {
	case p.CustomerID != "":
		if given.survivorID == nil {
			return "", false, apperr.Field("body.customer_id", "no customer with this id", id.Format(id.Customer, p.CustomerID))
		}
		if given.erased != nil && *given.erased {
			return "", false, apperr.New(apperr.Conflict, "the customer was erased; record the sale as a guest sale")
		}
		return *given.survivorID, false, nil
	case p.Customer != nil:
		cp := *p.Customer
		cp.TenantID, cp.Actor = t.ID, p.Actor
		if cp.Source == "" {
			cp.Source = p.Source
		}
		res, err := identifyTx(ctx, tx, t, cp, claims, nil)
		if err != nil {
			return "", false, err
		}
		return res.Profile.ID, res.Created, nil
	}
	return "", false, nil
}
