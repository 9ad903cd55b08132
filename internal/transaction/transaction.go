// Package transaction holds purchases and returns: the receipt a POS, web
// shop or marketplace sends, the totals OMO computes from its lines (exact
// integers in minor units), and the rules of returns (a line can never be
// returned beyond what was bought). Storage lives in sqldb.
package transaction

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// Kinds of transaction.
const (
	KindPurchase = "purchase"
	KindReturn   = "return"
)

// TenderTypes are the ways a sale is paid or a return refunded.
var TenderTypes = []string{"cash", "card", "points", "coupon", "gift_card", "voucher", "wallet", "store_credit", "other"}

// Limits of one transaction.
const (
	MaxLines    = 5000 // real receipts of wholesale buyers run to hundreds of lines
	MaxTenders  = 20
	MaxQuantity = 1_000_000
)

// Line is one line of a receipt. Amounts are minor units of the
// transaction's currency; Discount and Tax are for the whole line.
type Line struct {
	Number    int // 1-based position on the receipt
	SKU       string
	Name      string
	Category  string
	Quantity  int64
	UnitPrice int64
	Discount  int64
	Tax       int64
	Total     int64 // computed: Quantity×UnitPrice − Discount (+ Tax when prices exclude it)
	// OriginalLine is, on a return, the number of the purchase line given
	// back (0 when unknown); Returned is, on a purchase, how many have been.
	OriginalLine int
	Returned     int64
}

// Tender is one payment (on a purchase) or refund (on a return).
type Tender struct {
	Type      string
	Amount    int64
	Reference string
}

// Totals are a transaction's sums, computed from its lines.
type Totals struct {
	Subtotal int64 // Σ quantity × unit price
	Discount int64
	Tax      int64
	Total    int64 // what the customer paid (or got back)
}

// Transaction is a purchase or a return as recorded.
type Transaction struct {
	TenantID       string
	ID             string
	Kind           string
	SalesChannelID string
	LocationID     string // "" for a sale with no physical place
	Register       string
	ReceiptNumber  string
	ExternalID     string
	OccurredAt     time.Time // UTC
	UTCOffset      int       // minutes east of UTC where it happened
	Currency       string
	TaxInclusive   bool
	Lines          []Line
	Tenders        []Tender
	Totals         Totals
	CustomerID     string // "" for a guest
	AssociateID    string
	OriginalID     string // on a linked return, the purchase it returns
	Source         string
	CreatedAt      time.Time
}

// Local is when the transaction happened, in the time zone it happened in.
func (t Transaction) Local() time.Time {
	return t.OccurredAt.In(time.FixedZone("", t.UTCOffset*60))
}

// Compute fills each line's total and returns the transaction's totals. It
// reports every bad line under base ("body.lines"). Amounts are bounded so
// that no sum can overflow.
func Compute(lines []Line, taxInclusive bool, base string) (Totals, error) {
	var t Totals
	var fields []apperr.FieldError
	bad := func(i int, field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s[%d].%s", base, i, field), Message: msg, Value: v})
	}
	for i := range lines {
		l := &lines[i]
		switch {
		case strings.TrimSpace(l.SKU) == "" || len(l.SKU) > 64:
			bad(i, "sku", "a SKU of 1 to 64 bytes", l.SKU)
		case l.Quantity < 1 || l.Quantity > MaxQuantity:
			bad(i, "quantity", fmt.Sprintf("a whole number from 1 to %d (a return is a transaction of kind return, not a negative quantity)", MaxQuantity), l.Quantity)
		case l.UnitPrice < 0 || l.UnitPrice > money.MaxAmount/MaxQuantity:
			bad(i, "unit_price", fmt.Sprintf("from 0 to %d minor units", money.MaxAmount/MaxQuantity), l.UnitPrice)
		case l.Discount < 0 || l.Discount > l.Quantity*l.UnitPrice:
			bad(i, "discount", fmt.Sprintf("from 0 to the line's %d × %d = %d", l.Quantity, l.UnitPrice, l.Quantity*l.UnitPrice), l.Discount)
		case l.Tax < 0 || l.Tax > money.MaxAmount:
			bad(i, "tax", "from 0 to 10^15 minor units", l.Tax)
		default:
			gross := l.Quantity * l.UnitPrice
			l.Total = gross - l.Discount
			if !taxInclusive {
				l.Total += l.Tax
			}
			t.Subtotal += gross
			t.Discount += l.Discount
			t.Tax += l.Tax
			t.Total += l.Total
		}
	}
	if len(fields) == 0 && t.Subtotal+t.Tax > money.MaxAmount {
		fields = append(fields, apperr.FieldError{Location: base, Message: "the lines add up to more than 10^15 minor units"})
	}
	if len(fields) > 0 {
		return Totals{}, &apperr.Error{Kind: apperr.Invalid, Message: "some lines are not valid", Fields: fields}
	}
	return t, nil
}

// ClaimedTotals are totals a sender states; nil fields are not stated.
type ClaimedTotals struct {
	Subtotal, Discount, Tax, Total *int64
}

// CheckClaimed rejects stated totals that differ from the computed ones: a
// POS and OMO that disagree about a sale must not both be believed.
func CheckClaimed(c ClaimedTotals, t Totals, base string) error {
	var fields []apperr.FieldError
	for _, f := range []struct {
		name    string
		claimed *int64
		actual  int64
	}{{"subtotal", c.Subtotal, t.Subtotal}, {"discount", c.Discount, t.Discount}, {"tax", c.Tax, t.Tax}, {"total", c.Total, t.Total}} {
		if f.claimed != nil && *f.claimed != f.actual {
			fields = append(fields, apperr.FieldError{Location: base + "." + f.name,
				Message: fmt.Sprintf("is %d but the lines add up to %d", *f.claimed, f.actual), Value: *f.claimed})
		}
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the stated totals do not match the lines", Fields: fields}
	}
	return nil
}

// CheckTenders validates tenders; when any are given they must add up to the total.
func CheckTenders(ts []Tender, total int64, base string) error {
	var fields []apperr.FieldError
	var sum int64
	for i, t := range ts {
		if !slices.Contains(TenderTypes, t.Type) {
			fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s[%d].type", base, i),
				Message: "one of " + strings.Join(TenderTypes, ", "), Value: t.Type})
		}
		if t.Amount < 0 || t.Amount > money.MaxAmount {
			fields = append(fields, apperr.FieldError{Location: fmt.Sprintf("%s[%d].amount", base, i),
				Message: "from 0 to 10^15 minor units", Value: t.Amount})
			continue
		}
		sum += t.Amount
	}
	if len(fields) == 0 && len(ts) > 0 && sum != total {
		fields = append(fields, apperr.FieldError{Location: base,
			Message: fmt.Sprintf("the tenders add up to %d but the total is %d", sum, total), Value: sum})
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the tenders are not valid", Fields: fields}
	}
	return nil
}

// MatchReturn assigns each line of a return to a line of the original
// purchase and checks that nothing is returned beyond what was bought (less
// what earlier returns took). A return line that names its original line
// must match that line's SKU; one that does not takes the first line of the
// same SKU with enough left. It returns how many of each original line this
// return takes, by line number, and sets OriginalLine on every return line.
func MatchReturn(original []Line, ret []Line, base string) (map[int]int64, error) {
	left := map[int]int64{}
	byNumber := map[int]Line{}
	for _, l := range original {
		left[l.Number] = l.Quantity - l.Returned
		byNumber[l.Number] = l
	}
	take := map[int]int64{}
	var fields []apperr.FieldError
	for i := range ret {
		r := &ret[i]
		loc := fmt.Sprintf("%s[%d]", base, i)
		if r.OriginalLine == 0 {
			for _, l := range original {
				if l.SKU == r.SKU && left[l.Number] >= r.Quantity {
					r.OriginalLine = l.Number
					break
				}
			}
		}
		o, ok := byNumber[r.OriginalLine]
		switch {
		case r.OriginalLine == 0 && !hasSKU(original, r.SKU):
			fields = append(fields, apperr.FieldError{Location: loc + ".sku", Message: "this SKU is not on the original receipt", Value: r.SKU})
			continue
		case r.OriginalLine == 0:
			fields = append(fields, apperr.FieldError{Location: loc + ".quantity",
				Message: "more than is left to return of this SKU on the original receipt", Value: r.Quantity})
			continue
		case !ok:
			fields = append(fields, apperr.FieldError{Location: loc + ".original_line", Message: "the original receipt has no such line", Value: r.OriginalLine})
			continue
		case o.SKU != r.SKU:
			fields = append(fields, apperr.FieldError{Location: loc + ".sku",
				Message: fmt.Sprintf("line %d of the original receipt is SKU %s", o.Number, o.SKU), Value: r.SKU})
			continue
		case r.Quantity > left[o.Number]:
			fields = append(fields, apperr.FieldError{Location: loc + ".quantity",
				Message: fmt.Sprintf("line %d bought %d and %d are left to return", o.Number, o.Quantity, left[o.Number]), Value: r.Quantity})
			continue
		}
		left[o.Number] -= r.Quantity
		take[o.Number] += r.Quantity
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Kind: apperr.Invalid, Message: "the return does not fit the original purchase", Fields: fields}
	}
	return take, nil
}

func hasSKU(lines []Line, sku string) bool {
	for _, l := range lines {
		if l.SKU == sku {
			return true
		}
	}
	return false
}

// RecordedJob is the job enqueued with recorded transactions (one for a
// sale sent alone, one per chunk of an import), for the modules that react
// to sales (loyalty, segments, journeys), in recording order.
type RecordedJob struct {
	TenantID       string   `json:"tenant_id"`
	TransactionIDs []string `json:"transaction_ids"`
}

// Kind names the job.
func (RecordedJob) Kind() string { return "transaction.recorded" }

// Merge folds the next job of the same tenant into this one, so a group
// commit of many sales queues one job. Order is kept.
func (j RecordedJob) Merge(next any) (any, bool) {
	n, ok := next.(RecordedJob)
	if !ok || n.TenantID != j.TenantID || len(j.TransactionIDs)+len(n.TransactionIDs) > 1000 {
		return nil, false
	}
	ids := append(append(make([]string, 0, len(j.TransactionIDs)+len(n.TransactionIDs)), j.TransactionIDs...), n.TransactionIDs...)
	return RecordedJob{TenantID: j.TenantID, TransactionIDs: ids}, true
}
