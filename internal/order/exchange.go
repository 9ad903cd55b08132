package order

import (
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
)

// Exchange is part of an earlier order coming back in exchange for a
// cart's items: what the returned units are worth is a credit the new
// order spends first, the customer pays any difference, and what the new
// order does not use is refunded to the earlier order's tenders.
type Exchange struct {
	OrderID    string         `json:"order_id" doc:"ord_…: the order the items come back from"`
	Lines      []ExchangeLine `json:"lines" minItems:"1" maxItems:"100"`
	LocationID string         `json:"location_id,omitempty" doc:"loc_…: the store the items come back to; omitted when they come back by post"`
}

// ExchangeLine is units of an earlier order's line coming back.
type ExchangeLine struct {
	LineNo   int   `json:"line_no" minimum:"1"`
	Quantity int64 `json:"quantity" minimum:"1"`
	Restock  bool  `json:"restock,omitempty" doc:"put the units back on hand; false writes them off"`
}

// CheckExchange validates an exchange's shape; what the lines are worth
// and whether they can still come back depends on the order (CheckReturn).
func CheckExchange(e Exchange, base string) error {
	var fs []apperr.FieldError
	if e.OrderID == "" {
		fs = append(fs, apperr.FieldError{Location: base + ".order_id", Message: "the order the items come back from"})
	}
	if len(e.Lines) == 0 || len(e.Lines) > MaxCartLines {
		fs = append(fs, apperr.FieldError{Location: base + ".lines", Message: fmt.Sprintf("1 to %d lines", MaxCartLines), Value: len(e.Lines)})
	}
	for i, l := range e.Lines {
		if l.LineNo < 1 {
			fs = append(fs, apperr.FieldError{Location: fmt.Sprintf("%s.lines[%d].line_no", base, i), Message: "at least 1", Value: l.LineNo})
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			fs = append(fs, apperr.FieldError{Location: fmt.Sprintf("%s.lines[%d].quantity", base, i), Message: fmt.Sprintf("1 to %d", MaxQuantity), Value: l.Quantity})
		}
	}
	if fs != nil {
		return apperr.Fields(fs...)
	}
	return nil
}

// ReturnLines are the exchange's lines as return lines.
func (e Exchange) ReturnLines() []ReturnLine {
	out := make([]ReturnLine, len(e.Lines))
	for i, l := range e.Lines {
		out[i] = ReturnLine{LineNo: l.LineNo, Quantity: l.Quantity}
	}
	return out
}

// SpendCredit applies an exchange credit to totals after points: the part
// the order uses lowers what is due, the rest is refunded.
func SpendCredit(t *Totals, credit int64) {
	used := min(credit, t.Due)
	t.ExchangeCredit, t.ExchangeRefund, t.Due = used, credit-used, t.Due-used
}
