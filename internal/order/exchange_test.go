package order

import (
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func TestSpendCredit(t *testing.T) {
	cases := []struct {
		name                       string
		due, credit                int64
		wantUsed, wantRefund, left int64
	}{
		{"dearer item: the customer pays the difference", 30000, 20000, 20000, 0, 10000},
		{"cheaper item: the rest is refunded", 9900, 20000, 9900, 10100, 0},
		{"same price", 20000, 20000, 20000, 0, 0},
		{"no exchange", 20000, 0, 0, 0, 20000},
		{"points paid it all", 0, 5000, 0, 5000, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tt := Totals{Total: tc.due, Due: tc.due}
			SpendCredit(&tt, tc.credit)
			if tt.ExchangeCredit != tc.wantUsed || tt.ExchangeRefund != tc.wantRefund || tt.Due != tc.left {
				t.Fatalf("got used %d refund %d due %d", tt.ExchangeCredit, tt.ExchangeRefund, tt.Due)
			}
			if tt.ExchangeCredit+tt.ExchangeRefund != tc.credit {
				t.Fatal("the credit is not all accounted for")
			}
		})
	}
}

func TestCheckExchange(t *testing.T) {
	cases := []struct {
		name string
		e    Exchange
		at   string // "" when valid
	}{
		{"valid", Exchange{OrderID: "o", Lines: []ExchangeLine{{LineNo: 1, Quantity: 1}}}, ""},
		{"no order", Exchange{Lines: []ExchangeLine{{LineNo: 1, Quantity: 1}}}, "body.order_id"},
		{"no lines", Exchange{OrderID: "o"}, "body.lines"},
		{"line 0", Exchange{OrderID: "o", Lines: []ExchangeLine{{LineNo: 0, Quantity: 1}}}, "body.lines[0].line_no"},
		{"too many units", Exchange{OrderID: "o", Lines: []ExchangeLine{{LineNo: 1, Quantity: MaxQuantity + 1}}}, "body.lines[0].quantity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckExchange(tc.e, "body")
			if tc.at == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Fields[0].Location != tc.at {
				t.Fatalf("got %v, want a problem at %s", err, tc.at)
			}
		})
	}
}
