package loyalty

import (
	"fmt"
	"slices"
	"time"
)

// ruleAward evaluates one purchase rule; a non-empty reason says why it
// gives nothing.
func ruleAward(r *Rule, m Member, b Basket, lines []LineEarning, basePerLine map[int]int64) (Award, string) {
	if why := saleCondition(&r.Condition, m, b); why != "" {
		return Award{}, why
	}
	if why := limitReached(r, m); why != "" {
		return Award{}, why
	}
	matching, weights, spend := matchingLines(&r.Condition, b, lines)
	if len(matching) == 0 {
		return Award{}, "no eligible line matches"
	}
	if spend < r.Condition.MinSpend {
		return Award{}, fmt.Sprintf("eligible spend %d is below the minimum %d", spend, r.Condition.MinSpend)
	}
	a := Award{Source: SourceRule, RuleID: r.ID, RuleVersion: r.Version, Name: r.Name, Status: r.StatusPoints}
	switch r.Effect.Kind {
	case EffectFixed:
		a.Points = r.Effect.Points
		a.Lines = split(a.Points, matching, weights)
		a.Reason = fmt.Sprintf("%d points", a.Points)
	case EffectPerAmount:
		a.Points = roundedProduct(spend, r.Effect.Points, r.Effect.Amount, RoundDown)
		a.Lines = split(a.Points, matching, weights)
		a.Reason = fmt.Sprintf("%d per %d of %d matching spend", r.Effect.Points, r.Effect.Amount, spend)
	case EffectMultiplier:
		baseW := make([]int64, len(matching))
		var base int64
		for i, l := range matching {
			baseW[i] = basePerLine[l.Number]
			base += baseW[i]
		}
		a.Points = roundedProduct(base, r.Effect.Multiplier-1000, 1000, RoundDown)
		a.Lines = split(a.Points, matching, baseW)
		a.Reason = fmt.Sprintf("%s on %d base points", thousandths(r.Effect.Multiplier), base)
	case EffectPerItem:
		for _, l := range matching {
			n := r.Effect.Points * quantityOf(b, l.Number)
			a.Lines = append(a.Lines, LinePoints{Number: l.Number, Points: n})
			a.Points += n
		}
		a.Reason = fmt.Sprintf("%d per item", r.Effect.Points)
	}
	if a.Points == 0 {
		return Award{}, "the effect gives 0 points on this basket"
	}
	return budgeted(r, m, a)
}

// budgeted caps an award at what is left of the rule's budget.
func budgeted(r *Rule, m Member, a Award) (Award, string) {
	if r.Limits.Budget == 0 {
		return a, ""
	}
	left := m.Budgets[r.ID]
	if left <= 0 {
		return Award{}, "the campaign budget is spent"
	}
	a.Budgeted = true
	if a.Points > left {
		weights := make([]int64, len(a.Lines))
		lines := make([]LineEarning, len(a.Lines))
		for i, lp := range a.Lines {
			weights[i], lines[i] = lp.Points, LineEarning{Number: lp.Number}
		}
		a.Reason += fmt.Sprintf("; capped at the %d left in the budget", left)
		a.Points, a.Lines = left, split(left, lines, weights)
	}
	return a, ""
}

func quantityOf(b Basket, number int) int64 {
	for _, l := range b.Lines {
		if l.Number == number {
			return l.Quantity
		}
	}
	return 0
}

// saleCondition checks what a rule asks of the sale and the member.
func saleCondition(c *Condition, m Member, b Basket) string {
	switch {
	case len(c.SalesChannels) > 0 && !slices.Contains(c.SalesChannels, b.SalesChannel):
		return "not in its sales channels"
	case len(c.Locations) > 0 && !slices.Contains(c.Locations, b.Location):
		return "not at its locations"
	case len(c.DaysOfWeek) > 0 && !slices.Contains(c.DaysOfWeek, int(b.At.Weekday())):
		return "not on its days of the week (" + b.At.Weekday().String() + " where the sale was)"
	case c.HourFrom != nil && (b.At.Hour() < *c.HourFrom || b.At.Hour() >= *c.HourTo):
		return fmt.Sprintf("not in its hours (%02d:%02d where the sale was)", b.At.Hour(), b.At.Minute())
	case c.Currency != "" && c.Currency != b.Currency:
		return "the sale is in " + b.Currency
	}
	return memberCondition(c, m, b.At)
}

// memberCondition checks what a rule asks of the member; events use it too.
func memberCondition(c *Condition, m Member, at time.Time) string {
	switch {
	case len(c.Tiers) > 0 && (m.Tier == nil || !slices.Contains(c.Tiers, m.Tier.Code)):
		return "the member is not in its tiers"
	case c.FirstPurchase && !m.FirstPurchase:
		return "not the member's first purchase"
	case c.BirthdayMonth && m.BirthMonth != int(at.Month()):
		return "not the member's birthday month"
	case c.Attribute != nil && !matches(*c.Attribute, m.Attributes):
		return "the member's " + c.Attribute.Name + " does not match"
	}
	return ""
}

func matches(want Match, values map[string]any) bool {
	v, ok := values[want.Name]
	if !ok || v == nil {
		return false
	}
	return slices.Contains(want.Values, fmt.Sprint(v))
}

// limitReached checks a rule's per-member limits.
func limitReached(r *Rule, m Member) string {
	u := m.Usage[r.ID]
	switch {
	case r.Limits.OncePerMember && u.Total > 0:
		return "already awarded to this member once"
	case r.Limits.PerMemberPerDay > 0 && u.Day >= r.Limits.PerMemberPerDay:
		return fmt.Sprintf("already awarded %d times today", u.Day)
	case r.Limits.PerMemberPerMonth > 0 && u.Month >= r.Limits.PerMemberPerMonth:
		return fmt.Sprintf("already awarded %d times this month", u.Month)
	}
	return ""
}

// matchingLines are the eligible lines a rule's SKU and category filters
// pick, with their eligible amounts as weights and their sum.
func matchingLines(c *Condition, b Basket, lines []LineEarning) ([]LineEarning, []int64, int64) {
	var out []LineEarning
	var weights []int64
	var sum int64
	for i, l := range lines {
		bl := b.Lines[i]
		if l.Eligible <= 0 ||
			(len(c.SKUs) > 0 && !slices.Contains(c.SKUs, bl.SKU)) || slices.Contains(c.ExcludeSKUs, bl.SKU) ||
			(len(c.Categories) > 0 && !slices.Contains(c.Categories, bl.Category)) || slices.Contains(c.ExcludeCategories, bl.Category) {
			continue
		}
		out = append(out, l)
		weights = append(weights, l.Eligible)
		sum += l.Eligible
	}
	return out, weights, sum
}

// Event is a behavioural event to earn on (sign-up, review written, …).
type Event struct {
	Name       string
	Properties map[string]any
	At         time.Time
}

// EvaluateEvent computes the points an event earns under the rules that
// trigger on it.
func EvaluateEvent(rules []Rule, m Member, ev Event) Earning {
	var e Earning
	for i := range rules {
		r := &rules[i]
		if r.Trigger != TriggerEvent || r.Condition.Event != ev.Name || !r.Live(ev.At) {
			continue
		}
		why := memberCondition(&r.Condition, m, ev.At)
		for _, p := range r.Condition.Properties {
			if why == "" && !matches(p, ev.Properties) {
				why = "the event's " + p.Name + " does not match"
			}
		}
		if why == "" {
			why = limitReached(r, m)
		}
		var a Award
		if why == "" {
			a, why = budgeted(r, m, Award{Source: SourceRule, RuleID: r.ID, RuleVersion: r.Version, Name: r.Name,
				Points: r.Effect.Points, Status: r.StatusPoints, Reason: fmt.Sprintf("%d points for %s", r.Effect.Points, ev.Name)})
		}
		if why != "" {
			e.NotApplied = append(e.NotApplied, Outcome{RuleID: r.ID, Name: r.Name, Reason: why})
			continue
		}
		e.Awards = append(e.Awards, a)
	}
	e.total()
	return e
}
