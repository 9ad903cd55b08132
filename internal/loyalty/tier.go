package loyalty

import (
	"fmt"
	"slices"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// Tiering is how members qualify for tiers.
type Tiering struct {
	// Basis: net spend (purchases less returns, in Currency) or status
	// points (points earned from purchases and rules that count for status;
	// kept apart from spendable points, so spending never costs status).
	Basis    string `json:"basis"`
	Currency string `json:"currency,omitempty"` // for the spend basis
	Window   string `json:"window"`
	// GraceDays delay a downgrade after the end of a period.
	GraceDays int `json:"grace_days,omitempty"`
}

// Qualification bases and windows.
const (
	BasisSpend        = "spend"
	BasisStatusPoints = "status_points"

	WindowRolling12Months = "rolling_12_months"
	WindowCalendarYear    = "calendar_year"
	WindowMembershipYear  = "membership_year"
)

func (t Tiering) validate(base string) []apperr.FieldError {
	var fields []apperr.FieldError
	if t.Basis != BasisSpend && t.Basis != BasisStatusPoints {
		fields = append(fields, apperr.FieldError{Location: base + ".basis", Message: "spend or status_points", Value: t.Basis})
	}
	if _, ok := money.NormalizeCurrency(t.Currency); t.Basis == BasisSpend && !ok {
		fields = append(fields, apperr.FieldError{Location: base + ".currency", Message: "the currency spend is counted in", Value: t.Currency})
	}
	if !slices.Contains([]string{WindowRolling12Months, WindowCalendarYear, WindowMembershipYear}, t.Window) {
		fields = append(fields, apperr.FieldError{Location: base + ".window", Message: "rolling_12_months, calendar_year or membership_year", Value: t.Window})
	}
	if t.GraceDays < 0 || t.GraceDays > 365 {
		fields = append(fields, apperr.FieldError{Location: base + ".grace_days", Message: "0 to 365", Value: t.GraceDays})
	}
	return fields
}

// Tier is one level of the program. Threshold is the qualifying value (minor
// units of spend, or status points) to reach it and, over a period, to keep it.
type Tier struct {
	TenantID   string
	ID         string
	Code       string
	Name       string
	Rank       int   // 0 is the entry tier every member starts in
	Threshold  int64 // 0 for the entry tier
	Multiplier int64 // earn multiplier in thousandths: 1000 is ×1, 1500 is ×1.5
	Benefits   Benefits
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Benefits are what a tier gives beyond its multiplier.
type Benefits struct {
	FreeShipping bool `json:"free_shipping,omitempty"`
	// DiscountBasisPoints is a lifetime discount in hundredths of a percent
	// (1000 is 10%): an entitlement the tier carries, not a one-off coupon.
	DiscountBasisPoints int64    `json:"discount_basis_points,omitempty"`
	Perks               []string `json:"perks,omitempty"`
}

// Validate checks one tier.
func (t *Tier) Validate(base string) error {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	if !validCode(t.Code) {
		bad("code", "1 to 64 letters, digits, '-', '_' or '.'", t.Code)
	}
	if t.Name == "" || len(t.Name) > 80 {
		bad("name", "1 to 80 characters", t.Name)
	}
	if t.Rank < 0 || t.Rank > 100 {
		bad("rank", "0 (the entry tier) to 100", t.Rank)
	}
	if t.Threshold < 0 || t.Threshold > money.MaxAmount || (t.Rank == 0) != (t.Threshold == 0) {
		bad("threshold", "0 for the entry tier (rank 0) only; above 0 for the others", t.Threshold)
	}
	if t.Multiplier < 0 || t.Multiplier > 100_000 {
		bad("multiplier", "thousandths from 0 to 100000 (1000 is ×1)", t.Multiplier)
	}
	if t.Benefits.DiscountBasisPoints < 0 || t.Benefits.DiscountBasisPoints > 10_000 {
		bad("benefits.discount_basis_points", "0 to 10000 (100%)", t.Benefits.DiscountBasisPoints)
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the tier is not valid", Fields: fields}
	}
	return nil
}

// CheckLadder validates a set of tiers together: one entry tier, distinct
// ranks and codes, thresholds rising with rank.
func CheckLadder(tiers []Tier) error {
	s := slices.Clone(tiers)
	slices.SortFunc(s, func(a, b Tier) int { return a.Rank - b.Rank })
	codes := map[string]bool{}
	for i, t := range s {
		switch {
		case codes[t.Code]:
			return apperr.Field("body.code", "another tier has this code", t.Code)
		case i == 0 && t.Rank != 0:
			return apperr.Field("body.rank", "the ladder needs an entry tier of rank 0", t.Rank)
		case i > 0 && t.Rank == s[i-1].Rank:
			return apperr.Field("body.rank", fmt.Sprintf("tier %s has rank %d already", s[i-1].Code, t.Rank), t.Rank)
		case i > 0 && t.Threshold <= s[i-1].Threshold:
			return apperr.Field("body.threshold", fmt.Sprintf("must be above the %d of %s, the tier below", s[i-1].Threshold, s[i-1].Code), t.Threshold)
		}
		codes[t.Code] = true
	}
	return nil
}

// Ladder is the tiers of a program by rank.
type Ladder []Tier

// NewLadder sorts tiers by rank.
func NewLadder(tiers []Tier) Ladder {
	l := Ladder(slices.Clone(tiers))
	slices.SortFunc(l, func(a, b Tier) int { return a.Rank - b.Rank })
	return l
}

// Entry is the tier a new member starts in (false: the program has no tiers).
func (l Ladder) Entry() (Tier, bool) {
	if len(l) == 0 {
		return Tier{}, false
	}
	return l[0], true
}

// ByID finds a tier.
func (l Ladder) ByID(id string) (Tier, bool) {
	for _, t := range l {
		if t.ID == id {
			return t, true
		}
	}
	return Tier{}, false
}

// Earned is the highest tier a qualifying value reaches.
func (l Ladder) Earned(value int64) (Tier, bool) {
	var best Tier
	found := false
	for _, t := range l {
		if value >= t.Threshold {
			best, found = t, true
		}
	}
	return best, found
}

// Next is the tier above current (false at the top).
func (l Ladder) Next(current Tier) (Tier, bool) {
	for _, t := range l {
		if t.Rank > current.Rank {
			return t, true
		}
	}
	return Tier{}, false
}

// Below is the tier one step below current (false at the entry tier).
func (l Ladder) Below(current Tier) (Tier, bool) {
	var best Tier
	found := false
	for _, t := range l {
		if t.Rank < current.Rank {
			best, found = t, true
		}
	}
	return best, found
}

// Upgrade says whether a member in current reaches a higher tier with value:
// upgrades apply the moment the threshold is met, several steps at once.
func (l Ladder) Upgrade(current Tier, value int64) (Tier, bool) {
	t, ok := l.Earned(value)
	if !ok || t.Rank <= current.Rank {
		return Tier{}, false
	}
	return t, true
}

// Review decides a member's tier at the end of a period: kept when the
// period's value meets the tier's threshold, otherwise one tier down (never
// more than one step at a time).
func (l Ladder) Review(current Tier, periodValue int64) (Tier, bool) {
	if periodValue >= current.Threshold {
		return current, false
	}
	below, ok := l.Below(current)
	return below, ok
}

// PeriodEnd is when the qualification period holding at moment at ends, for
// a member who joined at joined; reckoned in UTC.
func (t Tiering) PeriodEnd(at, joined time.Time) time.Time {
	at = at.UTC()
	switch t.Window {
	case WindowCalendarYear:
		return time.Date(at.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	case WindowMembershipYear:
		end := anniversary(joined, at.Year())
		if !end.After(at) {
			end = anniversary(joined, at.Year()+1)
		}
		return end
	}
	return addMonths(at, 12) // rolling: reviewed twelve months after the last change or review
}

// PeriodStart is the start of the window whose value counts at moment at:
// the last twelve months for a rolling window, else the period's start.
func (t Tiering) PeriodStart(at, joined time.Time) time.Time {
	switch t.Window {
	case WindowRolling12Months:
		return addMonths(at.UTC(), -12)
	case WindowMembershipYear:
		return anniversary(joined, t.PeriodEnd(at, joined).Year()-1)
	}
	return t.PeriodEnd(at, joined).AddDate(-1, 0, 0)
}

// anniversary is when the membership year starting in year y begins: the
// joining date in that year (29 February is 1 March in a common year). It is
// computed from the year, never by adding years to another anniversary, which
// would carry 1 March into the next leap year and break the periods apart.
func anniversary(joined time.Time, y int) time.Time {
	j := joined.UTC()
	return time.Date(y, j.Month(), j.Day(), 0, 0, 0, 0, time.UTC)
}
