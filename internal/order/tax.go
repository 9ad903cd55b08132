package order

import (
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
)

// TaxRule is the pluggable tax calculation: the rate, in basis points, for
// goods of a tax code delivered in a country. Whether the rate is inside
// the price or added to it is the price list's business (TaxInclusive).
type TaxRule interface {
	RateBP(country, taxCode string) int64
}

// RateTable is the built-in TaxRule: rates per country, with overrides per
// tax code (exempt goods, reduced rates, shipping).
type RateTable struct {
	Rates []TaxRate `json:"rates,omitempty"`
}

// TaxRate is one row of a RateTable: TaxCode "" is the country's standard
// rate.
type TaxRate struct {
	Country string `json:"country" doc:"ISO 3166-1 alpha-2"`
	TaxCode string `json:"tax_code,omitempty"`
	RateBP  int64  `json:"rate_bp" minimum:"0" maximum:"10000" doc:"basis points: 900 is 9%"`
}

// RateBP returns the code's own rate, else the country's standard rate,
// else 0 (Hong Kong has no sales tax).
func (t RateTable) RateBP(country, taxCode string) int64 {
	standard := int64(0)
	for _, r := range t.Rates {
		if r.Country != country {
			continue
		}
		if r.TaxCode == taxCode && taxCode != "" {
			return r.RateBP
		}
		if r.TaxCode == "" {
			standard = r.RateBP
		}
	}
	return standard
}

func (t RateTable) check(base string) []apperr.FieldError {
	var fs []apperr.FieldError
	for i, r := range t.Rates {
		if len(r.Country) != 2 {
			fs = append(fs, apperr.FieldError{Location: fmt.Sprintf("%s.rates[%d].country", base, i), Message: "ISO 3166-1 alpha-2", Value: r.Country})
		}
		if r.RateBP < 0 || r.RateBP > 10_000 {
			fs = append(fs, apperr.FieldError{Location: fmt.Sprintf("%s.rates[%d].rate_bp", base, i), Message: "0 to 10000 basis points", Value: r.RateBP})
		}
	}
	return fs
}
