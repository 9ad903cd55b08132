// Package loyalty is OMO's loyalty engine as pure rules over values: the
// program (what a point is worth, how fast it is earned, when it expires),
// earning rules and their evaluation over a basket, tiers and their
// qualification, and the lots points live in (spent first-expiring-first).
// The ledger itself (journal entries of balanced postings, lots, counters)
// is stored by sqldb, which calls these functions inside the database
// transaction of the sale, so a quote and a commit run the same code.
package loyalty

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/money"
)

// Program is a tenant's loyalty program.
type Program struct {
	TenantID  string
	PointName string // what members call a point: "Stars"
	// EarnRates give the base rate per currency: Points for every Amount
	// minor units of eligible spend (1 point per HK$10 is {HKD, 1, 1000}).
	// A sale in a currency without a rate earns no base points.
	EarnRates []EarnRate
	Rounding  string // how a sale's fractional points round: down, nearest or up
	// PointValues say what points are worth, per currency, for the liability.
	PointValues []PointValue
	Expiry      ExpiryPolicy
	Exclusions  Exclusions
	// ReturnWindows keep points of a sale pending for a number of days, by
	// sales channel and location; the most specific match wins and
	// DefaultReturnDays applies otherwise (0: available at once).
	DefaultReturnDays int
	ReturnWindows     []ReturnWindow
	Tiering           Tiering
	Referral          *ReferralPolicy // nil: no referral programme
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// EarnRate is the base rate of one currency.
type EarnRate struct {
	Currency string `json:"currency"`
	Points   int64  `json:"points"`
	Amount   int64  `json:"amount"`
}

// PointValue says Points are worth Amount minor units of Currency.
type PointValue struct {
	Currency string `json:"currency"`
	Points   int64  `json:"points"`
	Amount   int64  `json:"amount"`
}

// Rounding modes.
const (
	RoundDown    = "down"
	RoundNearest = "nearest"
	RoundUp      = "up"
)

// Exclusions are what earns no points.
type Exclusions struct {
	Categories []string `json:"categories,omitempty"` // e.g. gift_card, delivery
	SKUs       []string `json:"skus,omitempty"`
	// Tenders whose amount earns nothing: the part of the basket paid with
	// them is taken off the eligible amount, pro rata over the lines.
	Tenders    []string `json:"tenders,omitempty"`
	IncludeTax bool     `json:"include_tax,omitempty"` // tax earns points too (off by default)
}

// ReturnWindow is how long points stay pending for sales of one sales
// channel and/or location (codes; "" matches any).
type ReturnWindow struct {
	SalesChannel string `json:"sales_channel,omitempty"`
	Location     string `json:"location,omitempty"`
	Days         int    `json:"days"`
}

// Expiry policy kinds.
const (
	ExpiryNone      = "none"
	ExpiryRolling   = "rolling_months" // N months after the points were earned
	ExpiryEndOfYear = "end_of_year"    // the end of the calendar year N years after earning
	ExpiryFixedDate = "fixed_date"     // one date for every point earned before it
)

// ExpiryPolicy says when earned points expire. InactivityMonths, when set,
// also expires every point of a member with no purchase for that long.
type ExpiryPolicy struct {
	Kind             string     `json:"kind"`
	Months           int        `json:"months,omitempty"`
	Years            int        `json:"years,omitempty"`
	Date             *time.Time `json:"date,omitempty"`
	TimeZone         string     `json:"time_zone,omitempty"` // where "end of year" is reckoned; UTC by default
	InactivityMonths int        `json:"inactivity_months,omitempty"`
}

// DefaultProgram is a program with sensible settings for a new tenant.
func DefaultProgram(tenantID, currency string) Program {
	return Program{TenantID: tenantID, PointName: "Points", Rounding: RoundDown,
		EarnRates:   []EarnRate{{Currency: currency, Points: 1, Amount: 10 * pow10(money.Digits(currency))}},
		PointValues: []PointValue{{Currency: currency, Points: 100, Amount: pow10(money.Digits(currency))}},
		Expiry:      ExpiryPolicy{Kind: ExpiryRolling, Months: 24},
		Exclusions:  Exclusions{Categories: []string{"gift_card", "delivery"}, Tenders: []string{"points"}},
		Tiering:     Tiering{Basis: BasisSpend, Window: WindowRolling12Months, Currency: currency}}
}

func pow10(n int) int64 {
	v := int64(1)
	for range n {
		v *= 10
	}
	return v
}

// Validate reports every bad setting, under base ("body").
func (p *Program) Validate(base string) error {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	if n := len(strings.TrimSpace(p.PointName)); n == 0 || n > 40 {
		bad("point_name", "1 to 40 characters", p.PointName)
	}
	if !slices.Contains([]string{RoundDown, RoundNearest, RoundUp}, p.Rounding) {
		bad("rounding", "down, nearest or up", p.Rounding)
	}
	seen := map[string]bool{}
	for i, r := range p.EarnRates {
		c, ok := money.NormalizeCurrency(r.Currency)
		p.EarnRates[i].Currency = c
		switch {
		case !ok || seen[c]:
			bad(fmt.Sprintf("earn_rates[%d].currency", i), "an ISO 4217 code, once", r.Currency)
		case r.Points < 0 || r.Points > 1_000_000 || r.Amount < 1 || r.Amount > money.MaxAmount:
			bad(fmt.Sprintf("earn_rates[%d]", i), "points from 0 to 1,000,000 for an amount from 1 minor unit", r)
		}
		seen[c] = true
	}
	for i, v := range p.PointValues {
		c, ok := money.NormalizeCurrency(v.Currency)
		p.PointValues[i].Currency = c
		if !ok || v.Points < 1 || v.Amount < 0 || v.Amount > money.MaxAmount {
			bad(fmt.Sprintf("point_values[%d]", i), "a currency, points from 1 and an amount in minor units", v)
		}
	}
	fields = append(fields, p.Expiry.validate(base+".expiry")...)
	if p.DefaultReturnDays < 0 || p.DefaultReturnDays > 365 {
		bad("default_return_days", "0 to 365 days", p.DefaultReturnDays)
	}
	for i, w := range p.ReturnWindows {
		if w.Days < 0 || w.Days > 365 || (w.SalesChannel == "" && w.Location == "") {
			bad(fmt.Sprintf("return_windows[%d]", i), "a sales_channel or location code and 0 to 365 days", w)
		}
	}
	fields = append(fields, p.Tiering.validate(base+".tiering")...)
	if p.Referral != nil {
		fields = append(fields, p.Referral.validate(base+".referral")...)
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the loyalty program is not valid", Fields: fields}
	}
	return nil
}

func (e ExpiryPolicy) validate(base string) []apperr.FieldError {
	var fields []apperr.FieldError
	bad := func(msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base, Message: msg, Value: v})
	}
	switch e.Kind {
	case ExpiryNone:
	case ExpiryRolling:
		if e.Months < 1 || e.Months > 120 {
			bad("rolling_months needs months from 1 to 120", e.Months)
		}
	case ExpiryEndOfYear:
		if e.Years < 0 || e.Years > 10 {
			bad("end_of_year needs years from 0 (this year) to 10", e.Years)
		}
	case ExpiryFixedDate:
		if e.Date == nil {
			bad("fixed_date needs a date", nil)
		}
	default:
		bad("kind is none, rolling_months, end_of_year or fixed_date", e.Kind)
	}
	if _, err := time.LoadLocation(e.TimeZone); err != nil || e.TimeZone == "Local" {
		bad("time_zone is an IANA zone such as Asia/Hong_Kong", e.TimeZone)
	}
	if e.InactivityMonths < 0 || e.InactivityMonths > 120 {
		bad("inactivity_months is 0 (off) to 120", e.InactivityMonths)
	}
	return fields
}

// ExpiresAt is when points earned at earnedAt expire (nil: never).
func (e ExpiryPolicy) ExpiresAt(earnedAt time.Time) *time.Time {
	var t time.Time
	switch e.Kind {
	case ExpiryRolling:
		t = addMonths(earnedAt.UTC(), e.Months)
	case ExpiryEndOfYear:
		zone, err := location.Zone(e.TimeZone)
		if err != nil {
			zone = time.UTC
		}
		y := earnedAt.In(zone).Year() + e.Years + 1
		t = time.Date(y, 1, 1, 0, 0, 0, 0, zone).UTC()
	case ExpiryFixedDate:
		if e.Date == nil || !earnedAt.Before(*e.Date) {
			return nil // earned after the date: the policy says nothing of it
		}
		t = e.Date.UTC()
	default:
		return nil
	}
	return &t
}

// addMonths adds months, keeping the day where it exists and clamping to the
// month's last day otherwise (31 January + 1 month is 28 or 29 February, not
// 2 or 3 March, which Go's AddDate would give).
func addMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// Rate is the base rate of a currency, if the program has one.
func (p *Program) Rate(currency string) (EarnRate, bool) {
	for _, r := range p.EarnRates {
		if r.Currency == currency {
			return r, true
		}
	}
	return EarnRate{}, false
}

// ReturnDays is how long points of a sale stay pending.
func (p *Program) ReturnDays(salesChannel, location string) int {
	best, days := -1, p.DefaultReturnDays
	for _, w := range p.ReturnWindows {
		if (w.SalesChannel != "" && w.SalesChannel != salesChannel) || (w.Location != "" && w.Location != location) {
			continue
		}
		score := 0
		if w.Location != "" {
			score += 2 // a location is more specific than a sales channel
		}
		if w.SalesChannel != "" {
			score++
		}
		if score > best {
			best, days = score, w.Days
		}
	}
	return days
}

// Value is what points are worth in a currency (false: no value set).
func (p *Program) Value(points int64, currency string) (int64, bool) {
	for _, v := range p.PointValues {
		if v.Currency == currency {
			q, _ := MulDiv(points, v.Amount, v.Points)
			return q, true
		}
	}
	return 0, false
}

// ReferralPolicy is the two-sided referral programme: a member shares a
// code, a friend who is new joins with it, and once the friend's first
// purchase (of at least MinPurchase) has passed its return window, both
// earn. MaxPerYear caps a referrer's conversions per calendar year, so a
// member cannot farm points with made-up friends.
type ReferralPolicy struct {
	ReferrerPoints int64  `json:"referrer_points"`
	FriendPoints   int64  `json:"friend_points"`
	MinPurchase    int64  `json:"min_purchase,omitempty"` // minor units of Currency
	Currency       string `json:"currency,omitempty"`
	MaxPerYear     int64  `json:"max_per_year,omitempty"` // 0: no cap
}

func (r *ReferralPolicy) validate(base string) []apperr.FieldError {
	var fields []apperr.FieldError
	if r.ReferrerPoints < 0 || r.FriendPoints < 0 || r.ReferrerPoints+r.FriendPoints == 0 || r.ReferrerPoints > 1_000_000_000 || r.FriendPoints > 1_000_000_000 {
		fields = append(fields, apperr.FieldError{Location: base, Message: "referrer_points and friend_points from 0, not both 0", Value: r})
	}
	if r.MinPurchase < 0 || r.MaxPerYear < 0 {
		fields = append(fields, apperr.FieldError{Location: base, Message: "min_purchase and max_per_year from 0", Value: r})
	}
	if r.MinPurchase > 0 {
		c, ok := money.NormalizeCurrency(r.Currency)
		if !ok {
			fields = append(fields, apperr.FieldError{Location: base + ".currency", Message: "min_purchase needs its ISO 4217 currency", Value: r.Currency})
		}
		r.Currency = c
	}
	return fields
}
