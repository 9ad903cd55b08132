// Package money is OMO's money: integer amounts in a currency's minor units
// (cents, fen; none for JPY or KRW) with an ISO 4217 code. No floating point
// ever holds an amount.
package money

import (
	"strings"

	"github.com/bojanz/currency"
)

// Amount is a sum of money in minor units of its currency.
type Amount struct {
	Amount   int64  `json:"amount" doc:"in minor units of the currency (12900 is HK$129.00)"`
	Currency string `json:"currency" doc:"ISO 4217" example:"HKD"`
}

// MaxAmount bounds any single amount OMO accepts: 10^15 minor units, far above
// any retail sale and far below int64 overflow when thousands are summed.
const MaxAmount int64 = 1_000_000_000_000_000

// NormalizeCurrency upper-cases an ISO 4217 code and reports whether OMO
// knows it.
func NormalizeCurrency(code string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	return c, len(c) == 3 && currency.IsValid(c)
}

// Digits is how many minor-unit digits a currency has (2 for HKD, 0 for JPY).
func Digits(code string) int {
	d, ok := currency.GetDigits(code)
	if !ok {
		return 2
	}
	return int(d)
}
