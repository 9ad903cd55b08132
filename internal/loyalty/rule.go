package loyalty

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// Rule statuses.
const (
	RuleActive = "active"
	RulePaused = "paused"
	RuleDraft  = "draft"
)

// Rule triggers: a purchase, or a behavioural event (sign-up, review, …).
const (
	TriggerPurchase = "purchase"
	TriggerEvent    = "event"
)

// Rule is an earning rule, one version of it. Editing a rule makes a new
// version; entries name the version that awarded them.
type Rule struct {
	TenantID  string
	ID        string
	Version   int
	Name      string
	Status    string
	Trigger   string
	StartsAt  *time.Time
	EndsAt    *time.Time
	Condition Condition
	Effect    Effect
	Limits    Limits
	// StatusPoints: whether the points count towards tier status.
	StatusPoints bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Condition is what must hold for a rule to apply. Empty fields do not
// constrain. Line filters (SKUs, categories) pick the lines the effect
// applies to; the rest are about the whole sale or the member.
type Condition struct {
	SalesChannels     []string `json:"sales_channels,omitempty"`
	Locations         []string `json:"locations,omitempty"`
	DaysOfWeek        []int    `json:"days_of_week,omitempty"` // 0 Sunday … 6 Saturday, local time of the sale
	HourFrom          *int     `json:"hour_from,omitempty"`    // local hours [from, to), 0–24
	HourTo            *int     `json:"hour_to,omitempty"`
	SKUs              []string `json:"skus,omitempty"`
	ExcludeSKUs       []string `json:"exclude_skus,omitempty"`
	Categories        []string `json:"categories,omitempty"`
	ExcludeCategories []string `json:"exclude_categories,omitempty"`
	MinSpend          int64    `json:"min_spend,omitempty"` // eligible spend of the matching lines
	Currency          string   `json:"currency,omitempty"`  // the sale's currency must be this
	Tiers             []string `json:"tiers,omitempty"`     // tier codes
	Attribute         *Match   `json:"attribute,omitempty"` // a customer attribute (trait)
	FirstPurchase     bool     `json:"first_purchase,omitempty"`
	BirthdayMonth     bool     `json:"birthday_month,omitempty"`
	Event             string   `json:"event,omitempty"` // event trigger: the event name
	Properties        []Match  `json:"properties,omitempty"`
}

// Match compares a named value (an attribute or an event property) with
// one of the given values; values compare as text.
type Match struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Effect kinds.
const (
	EffectFixed      = "fixed_points"      // Points once
	EffectPerAmount  = "points_per_amount" // Points for every Amount of matching eligible spend
	EffectMultiplier = "multiplier"        // base points of matching lines × Multiplier/1000, the base included
	EffectPerItem    = "points_per_item"   // Points for every unit of a matching line
)

// Effect is what a rule gives.
type Effect struct {
	Kind       string `json:"kind"`
	Points     int64  `json:"points,omitempty"`
	Amount     int64  `json:"amount,omitempty"`
	Multiplier int64  `json:"multiplier,omitempty"` // thousandths: 2000 is double points
}

// Limits cap how often a rule awards and how much it may give in all.
type Limits struct {
	OncePerMember     bool  `json:"once_per_member,omitempty"`
	PerMemberPerDay   int64 `json:"per_member_per_day,omitempty"`
	PerMemberPerMonth int64 `json:"per_member_per_month,omitempty"`
	// Budget is the points the campaign may give in all (0: no budget).
	// It is a ledger account funded when set; it never goes below zero.
	Budget int64 `json:"budget,omitempty"`
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$`)

func validCode(s string) bool { return codePattern.MatchString(s) }

// Validate reports every problem of a rule under base ("body").
func (r *Rule) Validate(base string) error {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	if n := len(strings.TrimSpace(r.Name)); n == 0 || n > 120 {
		bad("name", "1 to 120 characters", r.Name)
	}
	if !slices.Contains([]string{RuleActive, RulePaused, RuleDraft}, r.Status) {
		bad("status", "active, paused or draft", r.Status)
	}
	if r.StartsAt != nil && r.EndsAt != nil && !r.EndsAt.After(*r.StartsAt) {
		bad("ends_at", "after starts_at", r.EndsAt)
	}
	switch r.Trigger {
	case TriggerPurchase:
		if r.Condition.Event != "" || len(r.Condition.Properties) > 0 {
			bad("condition.event", "only rules triggered by an event name one", r.Condition.Event)
		}
	case TriggerEvent:
		if r.Condition.Event == "" {
			bad("condition.event", "the event that triggers the rule, e.g. Signed Up or Review Written", nil)
		}
		if r.Effect.Kind != EffectFixed {
			bad("effect.kind", "an event earns fixed_points", r.Effect.Kind)
		}
	default:
		bad("trigger", "purchase or event", r.Trigger)
	}
	fields = append(fields, r.Condition.validate(base+".condition")...)
	if r.Effect.Kind == EffectPerAmount && r.Condition.Currency == "" {
		bad("condition.currency", "points_per_amount needs the currency its amount is in", nil)
	}
	fields = append(fields, r.Effect.validate(base+".effect")...)
	if l := r.Limits; l.PerMemberPerDay < 0 || l.PerMemberPerMonth < 0 || l.Budget < 0 || l.Budget > money.MaxAmount {
		bad("limits", "counts and budget from 0", l)
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the rule is not valid", Fields: fields}
	}
	return nil
}

func (c *Condition) validate(base string) []apperr.FieldError {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	for _, d := range c.DaysOfWeek {
		if d < 0 || d > 6 {
			bad("days_of_week", "0 (Sunday) to 6 (Saturday)", d)
		}
	}
	if (c.HourFrom == nil) != (c.HourTo == nil) {
		bad("hour_from", "give hour_from and hour_to together", nil)
	} else if c.HourFrom != nil && (*c.HourFrom < 0 || *c.HourTo > 24 || *c.HourFrom >= *c.HourTo) {
		bad("hour_from", "0 ≤ hour_from < hour_to ≤ 24", []int{*c.HourFrom, *c.HourTo})
	}
	if c.MinSpend < 0 || c.MinSpend > money.MaxAmount {
		bad("min_spend", "minor units from 0", c.MinSpend)
	}
	if c.Currency != "" {
		cur, ok := money.NormalizeCurrency(c.Currency)
		if !ok {
			bad("currency", "an ISO 4217 code", c.Currency)
		}
		c.Currency = cur
	}
	if c.MinSpend > 0 && c.Currency == "" {
		bad("currency", "min_spend needs the currency it is in", nil)
	}
	if c.Attribute != nil && (c.Attribute.Name == "" || len(c.Attribute.Values) == 0) {
		bad("attribute", "a name and at least one value", c.Attribute)
	}
	for i, p := range c.Properties {
		if p.Name == "" || len(p.Values) == 0 {
			bad(fmt.Sprintf("properties[%d]", i), "a name and at least one value", p)
		}
	}
	return fields
}

func (e Effect) validate(base string) []apperr.FieldError {
	bad := func(msg string) []apperr.FieldError {
		return []apperr.FieldError{{Location: base, Message: msg, Value: e}}
	}
	switch e.Kind {
	case EffectFixed, EffectPerItem:
		if e.Points < 1 || e.Points > 1_000_000_000 {
			return bad(e.Kind + " needs points from 1 to 10^9")
		}
	case EffectPerAmount:
		if e.Points < 1 || e.Points > 1_000_000 || e.Amount < 1 || e.Amount > money.MaxAmount {
			return bad("points_per_amount needs points (1 to 10^6) for every amount (minor units, from 1)")
		}
	case EffectMultiplier:
		if e.Multiplier <= 1000 || e.Multiplier > 100_000 {
			return bad("multiplier needs thousandths above 1000 (×1) up to 100000 (×100)")
		}
	default:
		return bad("kind is fixed_points, points_per_amount, multiplier or points_per_item")
	}
	return nil
}

// Live reports whether the rule is in force at t.
func (r *Rule) Live(t time.Time) bool {
	return r.Status == RuleActive && (r.StartsAt == nil || !t.Before(*r.StartsAt)) && (r.EndsAt == nil || t.Before(*r.EndsAt))
}
