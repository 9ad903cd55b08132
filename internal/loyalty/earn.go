package loyalty

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Basket is a sale to earn on: a recorded purchase or a quoted one.
type Basket struct {
	Currency     string
	SalesChannel string    // code
	Location     string    // code; "" for a sale with no physical place
	At           time.Time // when, in the time zone of the sale
	Lines        []BasketLine
	Tenders      []BasketTender
}

// BasketLine is a line of a basket. Total is after discounts; Tax is the
// part of Total that is tax (totals always include tax here).
type BasketLine struct {
	Number   int
	SKU      string
	Category string
	Quantity int64
	Total    int64
	Tax      int64
}

// BasketTender is a payment of the basket.
type BasketTender struct {
	Type   string
	Amount int64
}

// Member is what earning needs to know of the customer.
type Member struct {
	Tier          *Tier // nil: the program has no tiers
	FirstPurchase bool  // no purchase recorded before this one
	BirthMonth    int   // 1–12, 0 unknown
	Attributes    map[string]any
	Usage         map[string]RuleUsage // by rule id, for the sale's day and month
	Budgets       map[string]int64     // points left in each budgeted rule's account
}

// RuleUsage is how often a rule has awarded a member.
type RuleUsage struct {
	Total, Day, Month int64
}

// Earning is what a basket earns, explained.
type Earning struct {
	Points       int64
	StatusPoints int64
	Lines        []LineEarning
	Awards       []Award
	NotApplied   []Outcome // live rules that did not apply, and why
}

// LineEarning is one line's eligible amount and points.
type LineEarning struct {
	Number   int
	Eligible int64
	Points   int64
	Note     string // why the line earns nothing, when it doesn't
}

// Award is one source of points: the base rate or a rule.
type Award struct {
	Source      string // "base" or "rule"
	RuleID      string
	RuleVersion int
	Name        string
	Points      int64
	Status      bool // counts towards tier status
	Budgeted    bool // paid from the rule's budget account
	Reason      string
	Lines       []LinePoints // how the points split over the lines
}

// LinePoints is the part of an award a line earned.
type LinePoints struct {
	Number int
	Points int64
}

// Outcome is why a rule gave nothing.
type Outcome struct {
	RuleID string
	Name   string
	Reason string
}

// Award sources.
const (
	SourceBase = "base"
	SourceRule = "rule"
)

// Evaluate computes what a basket earns for a member under a program and its
// rules. It is a pure function: the quote and the commit both call it with
// the same inputs, which is why a quote always equals what its commit gives.
// Rules are applied in the order given (the store gives creation order).
func Evaluate(p *Program, rules []Rule, m Member, b Basket) Earning {
	e := Earning{Lines: eligibleLines(p, b)}
	base := baseAward(p, m, b, e.Lines)
	if base.Points > 0 {
		e.Awards = append(e.Awards, base)
	}
	basePerLine := map[int]int64{}
	for _, lp := range base.Lines {
		basePerLine[lp.Number] = lp.Points
	}
	for i := range rules {
		r := &rules[i]
		if r.Trigger != TriggerPurchase || !r.Live(b.At) {
			continue
		}
		a, why := ruleAward(r, m, b, e.Lines, basePerLine)
		if why != "" {
			e.NotApplied = append(e.NotApplied, Outcome{RuleID: r.ID, Name: r.Name, Reason: why})
			continue
		}
		e.Awards = append(e.Awards, a)
	}
	e.total()
	return e
}

// total sums the awards into the line and basket totals.
func (e *Earning) total() {
	at := map[int]int{}
	for i, l := range e.Lines {
		at[l.Number] = i
	}
	for _, a := range e.Awards {
		e.Points += a.Points
		if a.Status {
			e.StatusPoints += a.Points
		}
		for _, lp := range a.Lines {
			if i, ok := at[lp.Number]; ok {
				e.Lines[i].Points += lp.Points
			}
		}
	}
}

// EligibleSpend is the part of a basket that earns: what tiers count as
// spend, so that gift cards, delivery and tax qualify no more than they earn.
func EligibleSpend(p *Program, b Basket) int64 {
	var sum int64
	for _, l := range eligibleLines(p, b) {
		sum += l.Eligible
	}
	return sum
}

// eligibleLines is each line's amount that earns: its total less tax (unless
// the program counts tax), nothing for excluded categories and SKUs, and the
// part paid with excluded tenders (points, by default) taken off pro rata.
func eligibleLines(p *Program, b Basket) []LineEarning {
	out := make([]LineEarning, len(b.Lines))
	weights := make([]int64, len(b.Lines))
	var sum int64
	for i, l := range b.Lines {
		out[i] = LineEarning{Number: l.Number}
		switch {
		case slices.Contains(p.Exclusions.Categories, l.Category) && l.Category != "":
			out[i].Note = "category " + l.Category + " earns no points"
		case slices.Contains(p.Exclusions.SKUs, l.SKU):
			out[i].Note = "SKU " + l.SKU + " earns no points"
		default:
			out[i].Eligible = l.Total
			if !p.Exclusions.IncludeTax {
				out[i].Eligible = max(0, l.Total-l.Tax)
			}
		}
		weights[i] = out[i].Eligible
		sum += out[i].Eligible
	}
	var excluded int64
	for _, t := range b.Tenders {
		if slices.Contains(p.Exclusions.Tenders, t.Type) {
			excluded += t.Amount
		}
	}
	if excluded > 0 && sum > 0 {
		off := allocate(min(excluded, sum), weights)
		for i := range out {
			out[i].Eligible -= off[i]
			if off[i] > 0 && out[i].Eligible == 0 {
				out[i].Note = "paid with tenders that earn no points"
			}
		}
	}
	return out
}

// baseAward is the base rate times the tier's multiplier on eligible spend,
// rounded once for the sale, then split over the lines.
func baseAward(p *Program, m Member, b Basket, lines []LineEarning) Award {
	a := Award{Source: SourceBase, Name: "base rate", Status: true}
	rate, ok := p.Rate(b.Currency)
	if !ok || rate.Points == 0 {
		a.Reason = "the program has no earn rate for " + b.Currency
		return a
	}
	mult := int64(1000)
	if m.Tier != nil {
		mult = m.Tier.Multiplier
	}
	weights, sum := lineWeights(lines)
	a.Points = roundedProduct(sum, rate.Points*mult, rate.Amount*1000, p.Rounding)
	a.Lines = split(a.Points, lines, weights)
	a.Reason = fmt.Sprintf("%d per %d %s of %d eligible", rate.Points, rate.Amount, b.Currency, sum)
	if m.Tier != nil && mult != 1000 {
		a.Reason += fmt.Sprintf(" %s (%s)", thousandths(mult), m.Tier.Name) // thousandths gives the ×
	}
	return a
}

// roundedProduct is amount × num ÷ den, rounded by mode, exactly.
func roundedProduct(amount, num, den int64, mode string) int64 {
	q, r := MulDiv(amount, num, den)
	if r == 0 {
		return q
	}
	return q + round(r, den, mode) // the fraction alone rounds to 0 or 1
}

func thousandths(v int64) string {
	s := strconv.FormatInt(v/1000, 10)
	if f := v % 1000; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", f), "0")
	}
	return "×" + s
}

func lineWeights(lines []LineEarning) ([]int64, int64) {
	w := make([]int64, len(lines))
	var sum int64
	for i, l := range lines {
		w[i] = l.Eligible
		sum += l.Eligible
	}
	return w, sum
}

// split allocates points over lines by weight and lists the lines that get any.
func split(points int64, lines []LineEarning, weights []int64) []LinePoints {
	parts := allocate(points, weights)
	var out []LinePoints
	for i, n := range parts {
		if n > 0 {
			out = append(out, LinePoints{Number: lines[i].Number, Points: n})
		}
	}
	return out
}
