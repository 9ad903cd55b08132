package order

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// TaxCodeShipping is the tax code shipping charges are taxed under; a rate
// table without it taxes shipping at the country's standard rate.
const TaxCodeShipping = "shipping"

// Settings are a brand's commerce settings: shipping rates, promotions and
// tax. They are JSON in storage and in the API.
type Settings struct {
	Shipping     []ShippingRate `json:"shipping"`
	FreeShipping []Threshold    `json:"free_shipping,omitempty" doc:"free shipping when the merchandise (after discounts) reaches the amount, per currency"`
	TierOffers   []TierOffer    `json:"tier_offers,omitempty" doc:"percent off for members of a tier (optionally only some categories)"`
	Tax          RateTable      `json:"tax,omitempty" doc:"the built-in tax rule: rates per country and tax code"`
	// CartHoldMinutes is how long a cart's stock hold lasts when the
	// shopper asks for one (an associate's VIP hold may ask for up to
	// MaxHoldHours); PaymentMinutes how long an order waits for an
	// asynchronous payment (Alipay, WeChat Pay) before it is cancelled.
	CartHoldMinutes int `json:"cart_hold_minutes,omitempty"`
	PaymentMinutes  int `json:"payment_minutes,omitempty"`
	// StripeAccount is the brand's connected Stripe account (Stripe
	// Connect): its payments and refunds go through the platform's key
	// acting for this account, and only its webhook events apply.
	StripeAccount string `json:"stripe_account,omitempty" doc:"acct_…: the brand's connected Stripe account; empty uses the platform's own account"`
}

var stripeAccount = regexp.MustCompile(`^acct_[A-Za-z0-9]{1,64}$`)

// MaxHoldHours bounds a cart's stock hold.
const MaxHoldHours = 72

// ShippingRate is the charge for a delivery method to a country ("" any).
type ShippingRate struct {
	Method   string `json:"method"`
	Country  string `json:"country,omitempty"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount" minimum:"0"`
}

// Threshold is an amount in a currency.
type Threshold struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount" minimum:"0"`
}

// TierOffer takes PercentBP basis points off for members of Tier.
type TierOffer struct {
	Name       string   `json:"name"`
	Tier       string   `json:"tier" doc:"tier code"`
	PercentBP  int64    `json:"percent_bp" minimum:"1" maximum:"10000"`
	Categories []string `json:"categories,omitempty"`
}

// DefaultSettings are what a tenant has before it sets its own: no
// shipping charge, no tax, 30-minute holds and payment window. (Whether an
// order may be split is a routing rule: see docs/routing.md.)
func DefaultSettings() Settings {
	return Settings{CartHoldMinutes: 30, PaymentMinutes: 30}
}

// ShippingRate returns the charge for method to country in currency: the
// rate naming the country wins over one for any country; none is free.
func (s Settings) ShippingRate(method, country, currency string) int64 {
	best, found := int64(0), false
	for _, r := range s.Shipping {
		if r.Method != method || r.Currency != currency {
			continue
		}
		if r.Country == country && country != "" {
			return r.Amount
		}
		if r.Country == "" && !found {
			best, found = r.Amount, true
		}
	}
	return best
}

// FreeShippingOver returns the free-shipping threshold in currency.
func (s Settings) FreeShippingOver(currency string) (int64, bool) {
	for _, t := range s.FreeShipping {
		if t.Currency == currency {
			return t.Amount, true
		}
	}
	return 0, false
}

// Validate reports every problem under base ("body").
func (s *Settings) Validate(base string) error {
	var fs []apperr.FieldError
	bad := func(f, m string, v any) {
		fs = append(fs, apperr.FieldError{Location: base + "." + f, Message: m, Value: v})
	}
	cur := func(f, c string) {
		if _, ok := money.NormalizeCurrency(c); !ok || c != strings.ToUpper(c) {
			bad(f, "an ISO 4217 currency code in capitals", c)
		}
	}
	for i, r := range s.Shipping {
		f := fmt.Sprintf("shipping[%d]", i)
		if !slices.Contains(DeliveryMethods, r.Method) {
			bad(f+".method", "one of "+strings.Join(DeliveryMethods, ", "), r.Method)
		}
		cur(f+".currency", r.Currency)
		if r.Amount < 0 || r.Amount > 1e12 {
			bad(f+".amount", "0 to 10^12 minor units", r.Amount)
		}
	}
	for i, t := range s.FreeShipping {
		cur(fmt.Sprintf("free_shipping[%d].currency", i), t.Currency)
	}
	for i, o := range s.TierOffers {
		if o.Tier == "" {
			bad(fmt.Sprintf("tier_offers[%d].tier", i), "the tier code", o.Tier)
		}
		if o.PercentBP < 1 || o.PercentBP > 10_000 {
			bad(fmt.Sprintf("tier_offers[%d].percent_bp", i), "1 to 10000 basis points", o.PercentBP)
		}
	}
	fs = append(fs, s.Tax.check(base+".tax")...)
	if s.CartHoldMinutes < 0 || s.CartHoldMinutes > MaxHoldHours*60 {
		bad("cart_hold_minutes", fmt.Sprintf("0 to %d", MaxHoldHours*60), s.CartHoldMinutes)
	}
	if s.PaymentMinutes < 0 || s.PaymentMinutes > 7*24*60 {
		bad("payment_minutes", "0 to 10080", s.PaymentMinutes)
	}
	if a := s.StripeAccount; a != "" && !stripeAccount.MatchString(a) {
		bad("stripe_account", "a Stripe account id, acct_ and 1 to 64 letters or digits", a)
	}
	if fs != nil {
		return apperr.Fields(fs...)
	}
	return nil
}
