package order

import (
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/loyalty"
)

// Tender is one way an order was paid, with what has been captured and
// refunded so far. Points tenders carry the points too, so that a refund
// gives back points, not money.
type Tender struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // card, alipay, wechat_pay, cash, paid_at_pos, points, ...
	Captured int64  `json:"captured"`
	Refunded int64  `json:"refunded"`
	Points   int64  `json:"points,omitempty"` // points tender: the points captured
}

// Refundable is what can still go back to a tender.
func (t Tender) Refundable() int64 { return t.Captured - t.Refunded }

// ReturnLine is a part of an order line coming back.
type ReturnLine struct {
	LineNo   int   `json:"line_no"`
	Quantity int64 `json:"quantity"`
}

// OrderLine is what returns need of an order line.
type OrderLine struct {
	LineNo   int
	SKU      string
	Quantity int64
	Total    int64 // what the line cost, tax included, after discounts
	Returned int64 // units already returned
}

// LineRefund is what returning Quantity more units of a line is worth: the
// cumulative share of its total, so that returning every unit, in any
// number of returns, gives back the total exactly and never more.
func LineRefund(l OrderLine, quantity int64) int64 {
	before, _ := loyalty.MulDiv(l.Total, l.Returned, l.Quantity)
	after, _ := loyalty.MulDiv(l.Total, l.Returned+quantity, l.Quantity)
	if l.Returned+quantity == l.Quantity {
		after = l.Total
	}
	return after - before
}

// CheckReturn refuses returning a line beyond what was bought (and not yet
// returned), naming the line. It returns the refund the lines are worth.
func CheckReturn(lines []OrderLine, ret []ReturnLine) (int64, error) {
	var fs []apperr.FieldError
	var worth int64
	seen := map[int]int64{}
	for i, r := range ret {
		at := fmt.Sprintf("body.lines[%d]", i)
		var l *OrderLine
		for k := range lines {
			if lines[k].LineNo == r.LineNo {
				l = &lines[k]
			}
		}
		switch {
		case l == nil:
			fs = append(fs, apperr.FieldError{Location: at + ".line_no", Message: "the order has no such line", Value: r.LineNo})
		case r.Quantity < 1:
			fs = append(fs, apperr.FieldError{Location: at + ".quantity", Message: "at least 1", Value: r.Quantity})
		case l.Returned+seen[r.LineNo]+r.Quantity > l.Quantity:
			fs = append(fs, apperr.FieldError{Location: at + ".quantity", Value: r.Quantity,
				Message: fmt.Sprintf("line %d (%s) bought %d and %d are already returned", l.LineNo, l.SKU, l.Quantity, l.Returned+seen[r.LineNo])})
		default:
			part := *l
			part.Returned += seen[r.LineNo]
			worth += LineRefund(part, r.Quantity)
			seen[r.LineNo] += r.Quantity
		}
	}
	if fs != nil {
		return 0, apperr.Fields(fs...)
	}
	return worth, nil
}

// SplitRefund spreads amount over the tenders in proportion to what each
// can still give back, never more than a tender's refundable amount. It
// returns the part per tender (same order); asking for more than all the
// tenders can give back is a Conflict.
func SplitRefund(tenders []Tender, amount int64) ([]int64, error) {
	weights := make([]int64, len(tenders))
	var room int64
	for i, t := range tenders {
		weights[i] = max(t.Refundable(), 0)
		room += weights[i]
	}
	if amount < 0 {
		return nil, apperr.Field("body.amount", "a refund is 0 or more", amount)
	}
	if amount > room {
		return nil, apperr.New(apperr.Conflict, "a refund of %d exceeds the %d the order's tenders can still give back", amount, room)
	}
	if room == 0 {
		return make([]int64, len(tenders)), nil
	}
	// Proportional parts by largest remainder never exceed a weight, since
	// amount ≤ room.
	return loyalty.Allocate(amount, weights), nil
}

// PointsFor converts the money part of a points tender refund back to
// points, in proportion to the points that tender captured; the last
// refund gives back every point left.
func PointsFor(t Tender, part int64) int64 {
	if t.Captured == 0 {
		return 0
	}
	if t.Refunded+part == t.Captured {
		before, _ := loyalty.MulDiv(t.Points, t.Refunded, t.Captured)
		return t.Points - before
	}
	before, _ := loyalty.MulDiv(t.Points, t.Refunded, t.Captured)
	after, _ := loyalty.MulDiv(t.Points, t.Refunded+part, t.Captured)
	return after - before
}

// Allocate splits total over weights in proportion, exactly (largest
// remainder).
func Allocate(total int64, weights []int64) []int64 { return loyalty.Allocate(total, weights) }
