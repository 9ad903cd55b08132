package loyalty

import (
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// hkt is Hong Kong time as a fixed zone: the sale's local time.
var hkt = time.FixedZone("HKT", 8*3600)

// saleAt is Saturday 15 March 2025 07:30 in Hong Kong, which is still Friday
// 23:30 in UTC: day and hour conditions must use the local time.
var saleAt = time.Date(2025, 3, 15, 7, 30, 0, 0, hkt)

// testBasket earns 30 base points under DefaultProgram(HKD): 20 on line 1,
// 10 on line 2, none on the gift card of line 3.
func testBasket() Basket {
	return Basket{Currency: "HKD", SalesChannel: "pos", Location: "HK1", At: saleAt,
		Lines: []BasketLine{
			{Number: 1, SKU: "SHOE-1", Category: "shoes", Quantity: 2, Total: 20000},
			{Number: 2, SKU: "BAG-1", Category: "bags", Quantity: 1, Total: 10000},
			{Number: 3, SKU: "GIFT-100", Category: "gift_card", Quantity: 1, Total: 5000},
		},
		Tenders: []BasketTender{{Type: "card", Amount: 35000}}}
}

func testProgram() *Program {
	p := DefaultProgram("t1", "HKD")
	return &p
}

func fixedRule(id string, points int64, c Condition) Rule {
	return Rule{ID: id, Version: 3, Name: "rule " + id, Status: RuleActive, Trigger: TriggerPurchase,
		Condition: c, Effect: Effect{Kind: EffectFixed, Points: points}}
}

// checkEarning asserts the invariants of every earning: the points are the
// sum of the awards and (for a basket) of the lines; every award's line
// points sum to the award; status points are those of status awards; no
// points are negative and every award gives some.
func checkEarning(t *testing.T, e Earning) {
	t.Helper()
	numbers := map[int]bool{}
	var lines, awards, status int64
	for _, l := range e.Lines {
		numbers[l.Number] = true
		lines += l.Points
		if l.Points < 0 || l.Eligible < 0 {
			t.Errorf("line %d: %+v", l.Number, l)
		}
	}
	for _, a := range e.Awards {
		awards += a.Points
		if a.Status {
			status += a.Points
		}
		if a.Points <= 0 {
			t.Errorf("award %q gives %d points", a.Name, a.Points)
		}
		var sum int64
		seen := map[int]bool{}
		for _, lp := range a.Lines {
			sum += lp.Points
			if lp.Points < 0 || seen[lp.Number] || (len(e.Lines) > 0 && !numbers[lp.Number]) {
				t.Errorf("award %q: line points %+v", a.Name, a.Lines)
			}
			seen[lp.Number] = true
		}
		if len(e.Lines) > 0 && sum != a.Points {
			t.Errorf("award %q: %d points, its lines sum to %d (%+v)", a.Name, a.Points, sum, a.Lines)
		}
	}
	if awards != e.Points {
		t.Errorf("Points %d, awards sum to %d", e.Points, awards)
	}
	if len(e.Lines) > 0 && lines != e.Points {
		t.Errorf("Points %d, lines sum to %d", e.Points, lines)
	}
	if status != e.StatusPoints {
		t.Errorf("StatusPoints %d, status awards sum to %d", e.StatusPoints, status)
	}
}

// awardLines is an award's points by line number.
func awardLines(a Award) map[int]int64 {
	m := map[int]int64{}
	for _, lp := range a.Lines {
		m[lp.Number] = lp.Points
	}
	return m
}

func findAward(e Earning, ruleID string) (Award, bool) {
	for _, a := range e.Awards {
		if a.Source == SourceRule && a.RuleID == ruleID {
			return a, true
		}
	}
	return Award{}, false
}

func linePointsOf(e Earning) []int64 {
	var out []int64
	for _, l := range e.Lines {
		out = append(out, l.Points)
	}
	return out
}

func eligibleOf(e Earning) []int64 {
	var out []int64
	for _, l := range e.Lines {
		out = append(out, l.Eligible)
	}
	return out
}

func TestEvaluate_BaseRate(t *testing.T) {
	t.Parallel()
	gold := &Tier{Code: "gold", Name: "Gold", Rank: 2, Threshold: 5000, Multiplier: 1500}
	zero := &Tier{Code: "frozen", Name: "Frozen", Rank: 1, Threshold: 1, Multiplier: 0}
	one := func(total, tax int64) []BasketLine {
		return []BasketLine{{Number: 1, SKU: "A", Category: "misc", Quantity: 1, Total: total, Tax: tax}}
	}
	two := []BasketLine{{Number: 1, SKU: "A", Quantity: 1, Total: 6000}, {Number: 2, SKU: "B", Quantity: 1, Total: 4000}}
	for _, tc := range []struct {
		name     string
		program  func(p *Program)
		tier     *Tier
		currency string
		lines    []BasketLine
		tenders  []BasketTender
		points   int64
		perLine  []int64
		eligible []int64
		note     string // a line's note contains this
	}{
		{name: "rounds down", lines: one(12345, 0), points: 12, perLine: []int64{12}, eligible: []int64{12345}},
		{name: "nearest below half", program: func(p *Program) { p.Rounding = RoundNearest }, lines: one(12345, 0), points: 12, perLine: []int64{12}, eligible: []int64{12345}},
		{name: "nearest at half", program: func(p *Program) { p.Rounding = RoundNearest }, lines: one(12500, 0), points: 13, perLine: []int64{13}, eligible: []int64{12500}},
		{name: "nearest above half", program: func(p *Program) { p.Rounding = RoundNearest }, lines: one(12999, 0), points: 13, perLine: []int64{13}, eligible: []int64{12999}},
		{name: "up", program: func(p *Program) { p.Rounding = RoundUp }, lines: one(12001, 0), points: 13, perLine: []int64{13}, eligible: []int64{12001}},
		{name: "up, under one point", program: func(p *Program) { p.Rounding = RoundUp }, lines: one(1, 0), points: 1, perLine: []int64{1}, eligible: []int64{1}},
		{name: "exact in every mode", program: func(p *Program) { p.Rounding = RoundUp }, lines: one(10000, 0), points: 10, perLine: []int64{10}, eligible: []int64{10000}},
		{name: "down, under one point", lines: one(999, 0), points: 0, perLine: []int64{0}, eligible: []int64{999}},
		{name: "tax excluded by default", lines: one(11000, 1000), points: 10, perLine: []int64{10}, eligible: []int64{10000}},
		{name: "tax included when the program says so", program: func(p *Program) { p.Exclusions.IncludeTax = true }, lines: one(11000, 1000), points: 11, perLine: []int64{11}, eligible: []int64{11000}},
		{name: "tax above the total", lines: one(500, 800), points: 0, perLine: []int64{0}, eligible: []int64{0}},
		{name: "tier ×1.5, down", tier: gold, lines: one(12345, 0), points: 18, perLine: []int64{18}, eligible: []int64{12345}},
		{name: "tier ×1.5, nearest", program: func(p *Program) { p.Rounding = RoundNearest }, tier: gold, lines: one(12345, 0), points: 19, perLine: []int64{19}, eligible: []int64{12345}},
		{name: "tier ×1.5, up", program: func(p *Program) { p.Rounding = RoundUp }, tier: gold, lines: one(12000, 0), points: 18, perLine: []int64{18}, eligible: []int64{12000}},
		{name: "tier ×0", tier: zero, lines: one(12345, 0), points: 0, perLine: []int64{0}, eligible: []int64{12345}},
		{name: "rounded once for the sale, not per line",
			lines:  []BasketLine{{Number: 1, Total: 1500}, {Number: 2, Total: 1500}, {Number: 3, Total: 1500}},
			points: 4, perLine: []int64{2, 1, 1}, eligible: []int64{1500, 1500, 1500}},
		{name: "gift card category excluded", lines: testBasket().Lines, points: 30, perLine: []int64{20, 10, 0}, eligible: []int64{20000, 10000, 0}, note: "category gift_card earns no points"},
		{name: "delivery category excluded",
			lines:  []BasketLine{{Number: 1, SKU: "A", Total: 9000}, {Number: 2, SKU: "SHIP", Category: "delivery", Total: 3000}},
			points: 9, perLine: []int64{9, 0}, eligible: []int64{9000, 0}, note: "category delivery earns no points"},
		{name: "SKU excluded", program: func(p *Program) { p.Exclusions.SKUs = []string{"BAG-1"} }, lines: testBasket().Lines,
			points: 20, perLine: []int64{20, 0, 0}, eligible: []int64{20000, 0, 0}, note: "SKU BAG-1 earns no points"},
		{name: "nothing excluded", program: func(p *Program) { p.Exclusions = Exclusions{} }, lines: testBasket().Lines,
			points: 35, perLine: []int64{20, 10, 5}, eligible: []int64{20000, 10000, 5000}},
		{name: "points tender taken off pro rata", lines: two,
			tenders: []BasketTender{{Type: "cash", Amount: 7000}, {Type: "points", Amount: 3000}},
			points:  7, perLine: []int64{4, 3}, eligible: []int64{4200, 2800}},
		{name: "points tender, tax off first",
			lines:   []BasketLine{{Number: 1, Total: 11000, Tax: 1000}, {Number: 2, Total: 5000}},
			tenders: []BasketTender{{Type: "points", Amount: 3000}},
			points:  12, perLine: []int64{8, 4}, eligible: []int64{8000, 4000}},
		{name: "points tender leaves excluded lines alone", lines: testBasket().Lines,
			tenders: []BasketTender{{Type: "card", Amount: 29000}, {Type: "points", Amount: 6000}},
			points:  24, perLine: []int64{16, 8, 0}, eligible: []int64{16000, 8000, 0}},
		{name: "two points tenders add up", lines: two,
			tenders: []BasketTender{{Type: "points", Amount: 1000}, {Type: "points", Amount: 2000}},
			points:  7, perLine: []int64{4, 3}, eligible: []int64{4200, 2800}},
		{name: "points pay for everything", lines: two,
			tenders: []BasketTender{{Type: "points", Amount: 10000}},
			points:  0, perLine: []int64{0, 0}, eligible: []int64{0, 0}, note: "paid with tenders that earn no points"},
		{name: "points pay for more than everything", lines: two,
			tenders: []BasketTender{{Type: "points", Amount: 50000}},
			points:  0, perLine: []int64{0, 0}, eligible: []int64{0, 0}, note: "paid with tenders that earn no points"},
		{name: "other tenders earn", lines: two,
			tenders: []BasketTender{{Type: "card", Amount: 5000}, {Type: "cash", Amount: 5000}},
			points:  10, perLine: []int64{6, 4}, eligible: []int64{6000, 4000}},
		{name: "gift card tenders excluded too", program: func(p *Program) { p.Exclusions.Tenders = []string{"points", "gift_card"} },
			lines:   testBasket().Lines,
			tenders: []BasketTender{{Type: "gift_card", Amount: 10000}, {Type: "points", Amount: 5000}, {Type: "card", Amount: 20000}},
			points:  15, perLine: []int64{10, 5, 0}, eligible: []int64{10000, 5000, 0}},
		{name: "no rate for the currency", currency: "USD", lines: two, points: 0, perLine: []int64{0, 0}, eligible: []int64{6000, 4000}},
		{name: "a rate of 0 points", program: func(p *Program) { p.EarnRates[0].Points = 0 }, lines: two, points: 0, perLine: []int64{0, 0}, eligible: []int64{6000, 4000}},
		{name: "second currency", program: func(p *Program) { p.EarnRates = append(p.EarnRates, EarnRate{"USD", 2, 100}) },
			currency: "USD", lines: two, points: 200, perLine: []int64{120, 80}, eligible: []int64{6000, 4000}},
		{name: "10^15 minor units at ×100", tier: &Tier{Code: "x", Name: "X", Multiplier: 100_000},
			lines: one(1_000_000_000_000_000, 0), points: 100_000_000_000_000, perLine: []int64{100_000_000_000_000}, eligible: []int64{1_000_000_000_000_000}},
		{name: "empty basket", points: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := testProgram()
			if tc.program != nil {
				tc.program(p)
			}
			b := Basket{Currency: "HKD", SalesChannel: "pos", At: saleAt, Lines: tc.lines, Tenders: tc.tenders}
			if tc.currency != "" {
				b.Currency = tc.currency
			}
			e := Evaluate(p, nil, Member{Tier: tc.tier}, b)
			checkEarning(t, e)
			if e.Points != tc.points || e.StatusPoints != tc.points {
				t.Errorf("points %d (status %d), want %d", e.Points, e.StatusPoints, tc.points)
			}
			if got := linePointsOf(e); !slices.Equal(got, tc.perLine) {
				t.Errorf("line points %v, want %v", got, tc.perLine)
			}
			if got := eligibleOf(e); !slices.Equal(got, tc.eligible) {
				t.Errorf("eligible %v, want %v", got, tc.eligible)
			}
			var sum int64
			for _, v := range tc.eligible {
				sum += v
			}
			if got := EligibleSpend(p, b); got != sum {
				t.Errorf("EligibleSpend = %d, want %d", got, sum)
			}
			if (len(e.Awards) == 1) != (tc.points > 0) || (len(e.Awards) == 1 && (e.Awards[0].Source != SourceBase || !e.Awards[0].Status)) {
				t.Errorf("awards %+v", e.Awards)
			}
			if tc.note != "" && !slices.ContainsFunc(e.Lines, func(l LineEarning) bool { return strings.Contains(l.Note, tc.note) }) {
				t.Errorf("no line says %q: %+v", tc.note, e.Lines)
			}
		})
	}
}

func TestEvaluate_BaseReason(t *testing.T) {
	t.Parallel()
	b := Basket{Currency: "HKD", At: saleAt, Lines: []BasketLine{{Number: 1, Total: 12345}}}
	gold := &Tier{Code: "gold", Name: "Gold", Multiplier: 1500}
	for _, tc := range []struct {
		tier *Tier
		want string
	}{
		{nil, "1 per 1000 HKD of 12345 eligible"},
		{&Tier{Code: "member", Name: "Member", Multiplier: 1000}, "1 per 1000 HKD of 12345 eligible"},
		{gold, "1 per 1000 HKD of 12345 eligible ×1.5 (Gold)"},
	} {
		e := Evaluate(testProgram(), nil, Member{Tier: tc.tier}, b)
		if len(e.Awards) != 1 || e.Awards[0].Reason != tc.want {
			t.Errorf("reason %q, want %q", e.Awards[0].Reason, tc.want)
		}
	}
	if a := baseAward(testProgram(), Member{}, Basket{Currency: "EUR"}, nil); a.Points != 0 || a.Reason != "the program has no earn rate for EUR" {
		t.Errorf("base award without a rate: %+v", a)
	}
}

func TestEvaluate_RuleEffects(t *testing.T) {
	t.Parallel()
	gold := &Tier{Code: "gold", Name: "Gold", Rank: 2, Threshold: 5000, Multiplier: 1500}
	for _, tc := range []struct {
		name   string
		tier   *Tier
		cond   Condition
		effect Effect
		points int64         // the rule's award; 0: does not apply
		lines  map[int]int64 // the award by line
		reason string        // NotApplied reason, when it does not apply
	}{
		{name: "fixed, split by eligible spend", effect: Effect{Kind: EffectFixed, Points: 100}, points: 100, lines: map[int]int64{1: 67, 2: 33}},
		{name: "fixed 1 point", effect: Effect{Kind: EffectFixed, Points: 1}, points: 1, lines: map[int]int64{1: 1}},
		{name: "fixed on one category", cond: Condition{Categories: []string{"bags"}}, effect: Effect{Kind: EffectFixed, Points: 7}, points: 7, lines: map[int]int64{2: 7}},
		{name: "per amount on shoes", cond: Condition{Categories: []string{"shoes"}, Currency: "HKD"}, effect: Effect{Kind: EffectPerAmount, Points: 1, Amount: 1000}, points: 20, lines: map[int]int64{1: 20}},
		{name: "per amount rounds down", cond: Condition{Currency: "HKD"}, effect: Effect{Kind: EffectPerAmount, Points: 3, Amount: 700}, points: 128, lines: map[int]int64{1: 85, 2: 43}},
		{name: "per amount under one point", cond: Condition{Currency: "HKD"}, effect: Effect{Kind: EffectPerAmount, Points: 1, Amount: 100_000}, reason: "the effect gives 0 points on this basket"},
		{name: "double points", effect: Effect{Kind: EffectMultiplier, Multiplier: 2000}, points: 30, lines: map[int]int64{1: 20, 2: 10}},
		{name: "×1.5 on shoes", cond: Condition{Categories: []string{"shoes"}}, effect: Effect{Kind: EffectMultiplier, Multiplier: 1500}, points: 10, lines: map[int]int64{1: 10}},
		{name: "×3.5 on bags", cond: Condition{SKUs: []string{"BAG-1"}}, effect: Effect{Kind: EffectMultiplier, Multiplier: 3500}, points: 25, lines: map[int]int64{2: 25}},
		{name: "×1.25 rounds down", effect: Effect{Kind: EffectMultiplier, Multiplier: 1250}, points: 7, lines: map[int]int64{1: 5, 2: 2}},
		{name: "double points on the tier's base", tier: gold, effect: Effect{Kind: EffectMultiplier, Multiplier: 2000}, points: 45, lines: map[int]int64{1: 30, 2: 15}},
		{name: "multiplier under one point", cond: Condition{SKUs: []string{"BAG-1"}}, effect: Effect{Kind: EffectMultiplier, Multiplier: 1050}, reason: "the effect gives 0 points on this basket"},
		{name: "per item", effect: Effect{Kind: EffectPerItem, Points: 5}, points: 15, lines: map[int]int64{1: 10, 2: 5}},
		{name: "per item on shoes", cond: Condition{Categories: []string{"shoes"}}, effect: Effect{Kind: EffectPerItem, Points: 250}, points: 500, lines: map[int]int64{1: 500}},
		{name: "per item on an excluded line", cond: Condition{SKUs: []string{"GIFT-100"}}, effect: Effect{Kind: EffectPerItem, Points: 5}, reason: "no eligible line matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Rule{ID: "r1", Version: 2, Name: "promo", Status: RuleActive, Trigger: TriggerPurchase, Condition: tc.cond, Effect: tc.effect}
			if err := r.Validate("body"); err != nil {
				t.Fatalf("rule: %v", err)
			}
			e := Evaluate(testProgram(), []Rule{r}, Member{Tier: tc.tier}, testBasket())
			checkEarning(t, e)
			base := int64(30)
			if tc.tier != nil {
				base = 45
			}
			a, ok := findAward(e, "r1")
			if tc.points == 0 {
				if ok || len(e.NotApplied) != 1 || e.NotApplied[0] != (Outcome{RuleID: "r1", Name: "promo", Reason: tc.reason}) {
					t.Fatalf("award %+v, not applied %+v; want not applied: %s", a, e.NotApplied, tc.reason)
				}
				if e.Points != base {
					t.Errorf("points %d, want the base %d", e.Points, base)
				}
				return
			}
			if !ok || len(e.NotApplied) != 0 {
				t.Fatalf("not applied: %+v", e.NotApplied)
			}
			if a.Points != tc.points || !maps.Equal(awardLines(a), tc.lines) {
				t.Errorf("award %d %v, want %d %v", a.Points, awardLines(a), tc.points, tc.lines)
			}
			if a.RuleVersion != 2 || a.Name != "promo" || a.Status || a.Budgeted || a.Reason == "" {
				t.Errorf("award %+v", a)
			}
			if e.Points != base+tc.points || e.StatusPoints != base {
				t.Errorf("points %d status %d, want %d and %d", e.Points, e.StatusPoints, base+tc.points, base)
			}
		})
	}
}

func TestEvaluate_Conditions(t *testing.T) {
	t.Parallel()
	gold := &Tier{Code: "gold", Name: "Gold", Rank: 2, Threshold: 5000, Multiplier: 1000}
	silver := &Tier{Code: "silver", Name: "Silver", Rank: 1, Threshold: 1000, Multiplier: 1000}
	aprilFirst := time.Date(2025, 4, 1, 0, 30, 0, 0, hkt) // still 31 March in UTC
	for _, tc := range []struct {
		name   string
		cond   Condition
		basket func(b *Basket)
		member Member
		lines  map[int]int64 // nil: the rule does not apply
		reason string
	}{
		{name: "no condition", lines: map[int]int64{1: 7, 2: 3}},
		{name: "sales channel", cond: Condition{SalesChannels: []string{"web", "pos"}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "other sales channel", cond: Condition{SalesChannels: []string{"web"}}, reason: "not in its sales channels"},
		{name: "location", cond: Condition{Locations: []string{"HK1"}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "other location", cond: Condition{Locations: []string{"HK2"}}, reason: "not at its locations"},
		{name: "a sale with no location", cond: Condition{Locations: []string{"HK1"}}, basket: func(b *Basket) { b.Location = "" }, reason: "not at its locations"},
		{name: "day of week, local", cond: Condition{DaysOfWeek: []int{6}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "weekend", cond: Condition{DaysOfWeek: []int{0, 6}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "the UTC day does not count", cond: Condition{DaysOfWeek: []int{5}}, reason: "not on its days of the week (Saturday where the sale was)"},
		{name: "hours, local", cond: Condition{HourFrom: ptr(7), HourTo: ptr(8)}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "all day", cond: Condition{HourFrom: ptr(0), HourTo: ptr(24)}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "the UTC hour does not count", cond: Condition{HourFrom: ptr(23), HourTo: ptr(24)}, reason: "not in its hours (07:30 where the sale was)"},
		{name: "the end hour is out", cond: Condition{HourFrom: ptr(6), HourTo: ptr(7)}, reason: "not in its hours (07:30 where the sale was)"},
		{name: "SKU", cond: Condition{SKUs: []string{"SHOE-1"}}, lines: map[int]int64{1: 10}},
		{name: "SKU not in the basket", cond: Condition{SKUs: []string{"HAT-1"}}, reason: "no eligible line matches"},
		{name: "SKU of a line that earns nothing", cond: Condition{SKUs: []string{"GIFT-100"}}, reason: "no eligible line matches"},
		{name: "exclude a SKU", cond: Condition{ExcludeSKUs: []string{"SHOE-1"}}, lines: map[int]int64{2: 10}},
		{name: "exclude every SKU", cond: Condition{ExcludeSKUs: []string{"SHOE-1", "BAG-1"}}, reason: "no eligible line matches"},
		{name: "category", cond: Condition{Categories: []string{"bags"}}, lines: map[int]int64{2: 10}},
		{name: "two categories", cond: Condition{Categories: []string{"bags", "shoes"}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "exclude a category", cond: Condition{ExcludeCategories: []string{"shoes"}}, lines: map[int]int64{2: 10}},
		{name: "SKUs less a category", cond: Condition{SKUs: []string{"SHOE-1", "BAG-1"}, ExcludeCategories: []string{"bags"}}, lines: map[int]int64{1: 10}},
		{name: "category less a SKU", cond: Condition{Categories: []string{"shoes", "bags"}, ExcludeSKUs: []string{"BAG-1"}}, lines: map[int]int64{1: 10}},
		{name: "min spend met exactly", cond: Condition{MinSpend: 30000, Currency: "HKD"}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "min spend missed", cond: Condition{MinSpend: 30001, Currency: "HKD"}, reason: "eligible spend 30000 is below the minimum 30001"},
		{name: "min spend of the matching lines", cond: Condition{Categories: []string{"bags"}, MinSpend: 15000, Currency: "HKD"}, reason: "eligible spend 10000 is below the minimum 15000"},
		{name: "min spend after points", cond: Condition{MinSpend: 25000, Currency: "HKD"},
			basket: func(b *Basket) {
				b.Tenders = []BasketTender{{Type: "points", Amount: 6000}, {Type: "card", Amount: 29000}}
			},
			reason: "eligible spend 24000 is below the minimum 25000"},
		{name: "min spend after tax", cond: Condition{MinSpend: 30000, Currency: "HKD"},
			basket: func(b *Basket) { b.Lines[0].Tax = 1 }, reason: "eligible spend 29999 is below the minimum 30000"},
		{name: "currency", cond: Condition{Currency: "HKD"}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "other currency", cond: Condition{Currency: "USD"}, reason: "the sale is in HKD"},
		{name: "tier", cond: Condition{Tiers: []string{"gold", "platinum"}}, member: Member{Tier: gold}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "other tier", cond: Condition{Tiers: []string{"gold"}}, member: Member{Tier: silver}, reason: "the member is not in its tiers"},
		{name: "no tier", cond: Condition{Tiers: []string{"gold"}}, reason: "the member is not in its tiers"},
		{name: "attribute", cond: Condition{Attribute: &Match{Name: "vip", Values: []string{"true"}}},
			member: Member{Attributes: map[string]any{"vip": true}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "attribute differs", cond: Condition{Attribute: &Match{Name: "vip", Values: []string{"true"}}},
			member: Member{Attributes: map[string]any{"vip": false}}, reason: "the member's vip does not match"},
		{name: "attribute missing", cond: Condition{Attribute: &Match{Name: "vip", Values: []string{"true"}}},
			member: Member{Attributes: map[string]any{"city": "HK"}}, reason: "the member's vip does not match"},
		{name: "attribute null", cond: Condition{Attribute: &Match{Name: "vip", Values: []string{"<nil>"}}},
			member: Member{Attributes: map[string]any{"vip": nil}}, reason: "the member's vip does not match"},
		{name: "no attributes", cond: Condition{Attribute: &Match{Name: "vip", Values: []string{"true"}}}, reason: "the member's vip does not match"},
		{name: "attribute, a JSON number", cond: Condition{Attribute: &Match{Name: "level", Values: []string{"2", "3"}}},
			member: Member{Attributes: map[string]any{"level": float64(3)}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "attribute, one of several", cond: Condition{Attribute: &Match{Name: "city", Values: []string{"HK", "Kowloon"}}},
			member: Member{Attributes: map[string]any{"city": "Kowloon"}}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "first purchase", cond: Condition{FirstPurchase: true}, member: Member{FirstPurchase: true}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "not the first purchase", cond: Condition{FirstPurchase: true}, reason: "not the member's first purchase"},
		{name: "birthday month", cond: Condition{BirthdayMonth: true}, member: Member{BirthMonth: 3}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "other month", cond: Condition{BirthdayMonth: true}, member: Member{BirthMonth: 4}, reason: "not the member's birthday month"},
		{name: "birthday unknown", cond: Condition{BirthdayMonth: true}, reason: "not the member's birthday month"},
		{name: "birthday month, local", cond: Condition{BirthdayMonth: true}, basket: func(b *Basket) { b.At = aprilFirst },
			member: Member{BirthMonth: 4}, lines: map[int]int64{1: 7, 2: 3}},
		{name: "birthday month, the UTC month does not count", cond: Condition{BirthdayMonth: true}, basket: func(b *Basket) { b.At = aprilFirst },
			member: Member{BirthMonth: 3}, reason: "not the member's birthday month"},
		{name: "everything at once", cond: Condition{SalesChannels: []string{"pos"}, Locations: []string{"HK1"}, DaysOfWeek: []int{6},
			HourFrom: ptr(7), HourTo: ptr(12), Categories: []string{"shoes"}, MinSpend: 20000, Currency: "HKD", Tiers: []string{"gold"},
			Attribute: &Match{Name: "vip", Values: []string{"true"}}, FirstPurchase: true, BirthdayMonth: true},
			member: Member{Tier: gold, FirstPurchase: true, BirthMonth: 3, Attributes: map[string]any{"vip": true}}, lines: map[int]int64{1: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fixedRule("r1", 10, tc.cond)
			if err := r.Validate("body"); err != nil {
				t.Fatalf("rule: %v", err)
			}
			b := testBasket()
			if tc.basket != nil {
				tc.basket(&b)
			}
			e := Evaluate(testProgram(), []Rule{r}, tc.member, b)
			checkEarning(t, e)
			a, ok := findAward(e, "r1")
			if tc.lines == nil {
				if ok || len(e.NotApplied) != 1 || e.NotApplied[0] != (Outcome{RuleID: "r1", Name: "rule r1", Reason: tc.reason}) {
					t.Fatalf("award %+v, not applied %+v; want not applied: %s", a, e.NotApplied, tc.reason)
				}
				return
			}
			if !ok || len(e.NotApplied) != 0 {
				t.Fatalf("not applied: %+v", e.NotApplied)
			}
			if a.Points != 10 || !maps.Equal(awardLines(a), tc.lines) {
				t.Errorf("award %d %v, want 10 %v", a.Points, awardLines(a), tc.lines)
			}
		})
	}
}

func TestEvaluate_RulesNotInForce(t *testing.T) {
	t.Parallel()
	at := saleAt
	rules := []Rule{
		fixedRule("paused", 1, Condition{}),
		fixedRule("draft", 2, Condition{}),
		fixedRule("future", 4, Condition{}),
		fixedRule("ended", 8, Condition{}),
		fixedRule("event", 16, Condition{Event: "Signed Up"}),
		fixedRule("starts-now", 32, Condition{}),
		fixedRule("ends-soon", 64, Condition{}),
	}
	rules[0].Status = RulePaused
	rules[1].Status = RuleDraft
	rules[2].StartsAt = ptr(at.Add(time.Second))
	rules[3].StartsAt, rules[3].EndsAt = ptr(at.Add(-time.Hour)), ptr(at)
	rules[4].Trigger = TriggerEvent
	rules[5].StartsAt = ptr(at.UTC())
	rules[6].EndsAt = ptr(at.Add(time.Nanosecond))
	e := Evaluate(testProgram(), rules, Member{}, testBasket())
	checkEarning(t, e)
	var got []string
	for _, a := range e.Awards[1:] {
		got = append(got, a.RuleID)
	}
	if !slices.Equal(got, []string{"starts-now", "ends-soon"}) || e.Points != 30+32+64 || len(e.NotApplied) != 0 {
		t.Errorf("awards %v, points %d, not applied %+v", got, e.Points, e.NotApplied)
	}
}

func TestEvaluate_SeveralRules(t *testing.T) {
	t.Parallel()
	shoes := fixedRule("shoes", 50, Condition{Categories: []string{"shoes"}})
	shoes.StatusPoints = true
	web := fixedRule("web", 20, Condition{SalesChannels: []string{"web"}})
	double := fixedRule("double", 0, Condition{})
	double.Effect = Effect{Kind: EffectMultiplier, Multiplier: 2000}
	items := fixedRule("items", 0, Condition{ExcludeCategories: []string{"shoes"}})
	items.Effect = Effect{Kind: EffectPerItem, Points: 3}
	items.StatusPoints = true
	e := Evaluate(testProgram(), []Rule{shoes, web, double, items}, Member{}, testBasket())
	checkEarning(t, e)
	var order []string
	for _, a := range e.Awards {
		order = append(order, a.Source+":"+a.RuleID)
	}
	if !slices.Equal(order, []string{"base:", "rule:shoes", "rule:double", "rule:items"}) {
		t.Errorf("awards in order %v", order)
	}
	// The multiplier doubles the base only, not other rules' points.
	if e.Points != 30+50+30+3 || e.StatusPoints != 30+50+3 {
		t.Errorf("points %d, status %d", e.Points, e.StatusPoints)
	}
	if got := linePointsOf(e); !slices.Equal(got, []int64{20 + 50 + 20, 10 + 10 + 3, 0}) {
		t.Errorf("line points %v", got)
	}
	if len(e.NotApplied) != 1 || e.NotApplied[0].RuleID != "web" {
		t.Errorf("not applied %+v", e.NotApplied)
	}
}

func TestEvaluate_LeavesInputsAlone(t *testing.T) {
	t.Parallel()
	rules := []Rule{fixedRule("a", 10, Condition{Categories: []string{"shoes"}}), fixedRule("b", 5, Condition{})}
	rules[1].Limits.Budget = 100
	p, b, m := testProgram(), testBasket(), Member{Budgets: map[string]int64{"b": 3}, Usage: map[string]RuleUsage{"a": {Day: 1}}}
	first := Evaluate(p, rules, m, b)
	if !reflect.DeepEqual(p, testProgram()) || !reflect.DeepEqual(b, testBasket()) || m.Budgets["b"] != 3 || m.Usage["a"].Day != 1 {
		t.Error("Evaluate changed its inputs")
	}
	if second := Evaluate(p, rules, m, b); !reflect.DeepEqual(first, second) {
		t.Errorf("Evaluate is not deterministic:\n%+v\n%+v", first, second)
	}
}

func TestEligibleSpend_Cases(t *testing.T) {
	t.Parallel()
	withPoints := testBasket()
	withPoints.Tenders = []BasketTender{{Type: "points", Amount: 6000}}
	taxed := testBasket()
	taxed.Lines[0].Tax, taxed.Lines[2].Tax = 2000, 500
	usd := testBasket()
	usd.Currency = "USD"
	includeTax := testProgram()
	includeTax.Exclusions.IncludeTax = true
	for _, tc := range []struct {
		name string
		p    *Program
		b    Basket
		want int64
	}{
		{"gift card left out", testProgram(), testBasket(), 30000},
		{"points paid", testProgram(), withPoints, 24000},
		{"tax left out", testProgram(), taxed, 28000},
		{"tax counted", includeTax, taxed, 30000},
		{"a currency without a rate still has spend", testProgram(), usd, 30000},
		{"empty", testProgram(), Basket{}, 0},
	} {
		if got := EligibleSpend(tc.p, tc.b); got != tc.want {
			t.Errorf("%s: EligibleSpend = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// randomCase is one draw of the property test: a program, its rules, a
// member and a basket.
type randomCase struct {
	p     *Program
	rules []Rule
	m     Member
	b     Basket
}

var (
	randSKUs = []string{"SHOE-1", "SHOE-2", "BAG-1", "TEE-1", "GIFT-100", "SHIP"}
	randCats = map[string]string{"SHOE-1": "shoes", "SHOE-2": "shoes", "BAG-1": "bags", "TEE-1": "tees", "GIFT-100": "gift_card", "SHIP": "delivery"}
)

// some picks a random non-empty subset of from.
func some[T any](rng *rand.Rand, from []T) []T {
	var out []T
	for _, v := range from {
		if rng.IntN(3) == 0 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = append(out, from[rng.IntN(len(from))])
	}
	return out
}

// drawCase draws valid rules (some paused, out of schedule or event-triggered)
// with random conditions, effects, limits and budgets, and a basket to match.
func drawCase(rng *rand.Rand) randomCase {
	p := testProgram()
	p.Rounding = []string{RoundDown, RoundNearest, RoundUp}[rng.IntN(3)]
	p.Exclusions.IncludeTax = rng.IntN(2) == 0
	if rng.IntN(4) == 0 {
		p.Exclusions.SKUs = []string{"TEE-1"}
	}
	tiers := NewLadder(testTiers())
	var m Member
	if rng.IntN(4) != 0 {
		tier := tiers[rng.IntN(len(tiers))]
		m.Tier = &tier
	}
	m.FirstPurchase = rng.IntN(2) == 0
	m.BirthMonth = rng.IntN(13)
	m.Attributes = map[string]any{"vip": rng.IntN(2) == 0, "level": float64(rng.IntN(4))}
	m.Usage, m.Budgets = map[string]RuleUsage{}, map[string]int64{}

	b := Basket{Currency: "HKD", SalesChannel: []string{"pos", "web"}[rng.IntN(2)], Location: []string{"HK1", "HK2", ""}[rng.IntN(3)],
		At: time.Date(2025, 1, 1, 0, 0, 0, 0, hkt).Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))}
	if rng.IntN(10) == 0 {
		b.Currency = "USD"
	}
	var sum int64
	for i := range rng.IntN(9) {
		sku := randSKUs[rng.IntN(len(randSKUs))]
		total := rng.Int64N(200_000)
		if rng.IntN(10) == 0 {
			total = rng.Int64N(100)
		}
		b.Lines = append(b.Lines, BasketLine{Number: 10 * (i + 1), SKU: sku, Category: randCats[sku],
			Quantity: 1 + rng.Int64N(5), Total: total, Tax: rng.Int64N(total/4 + 1)})
		sum += total
	}
	if rng.IntN(3) == 0 {
		pts := rng.Int64N(sum + 1000)
		b.Tenders = append(b.Tenders, BasketTender{Type: "points", Amount: pts})
		sum = max(0, sum-pts)
	}
	b.Tenders = append(b.Tenders, BasketTender{Type: "card", Amount: sum})

	var rules []Rule
	for i := range rng.IntN(7) {
		r := Rule{ID: fmt.Sprintf("r%d", i), Version: 1 + rng.IntN(3), Name: fmt.Sprintf("rule %d", i), Status: RuleActive,
			Trigger: TriggerPurchase, StatusPoints: rng.IntN(2) == 0}
		switch rng.IntN(10) {
		case 0:
			r.Status = []string{RulePaused, RuleDraft}[rng.IntN(2)]
		case 1:
			r.StartsAt = ptr(b.At.Add(time.Duration(rng.IntN(7)-3) * time.Hour))
		case 2:
			r.EndsAt = ptr(b.At.Add(time.Duration(rng.IntN(7)-3) * time.Hour))
		case 3:
			r.Trigger, r.Condition.Event = TriggerEvent, "Signed Up"
		}
		c := &r.Condition
		for range rng.IntN(4) {
			switch rng.IntN(13) {
			case 0:
				c.SalesChannels = some(rng, []string{"pos", "web", "app"})
			case 1:
				c.Locations = some(rng, []string{"HK1", "HK2", "HK3"})
			case 2:
				c.DaysOfWeek = some(rng, []int{0, 1, 2, 3, 4, 5, 6})
			case 3:
				from := rng.IntN(24)
				c.HourFrom, c.HourTo = ptr(from), ptr(from+1+rng.IntN(24-from))
			case 4:
				c.SKUs = some(rng, randSKUs)
			case 5:
				c.ExcludeSKUs = some(rng, randSKUs)
			case 6:
				c.Categories = some(rng, []string{"shoes", "bags", "tees", "gift_card"})
			case 7:
				c.ExcludeCategories = some(rng, []string{"shoes", "bags", "tees"})
			case 8:
				c.MinSpend, c.Currency = rng.Int64N(100_000), "HKD"
			case 9:
				c.Tiers = some(rng, []string{"member", "silver", "gold", "platinum"})
			case 10:
				c.Attribute = &Match{Name: []string{"vip", "level"}[rng.IntN(2)], Values: some(rng, []string{"true", "false", "1", "2"})}
			case 11:
				c.FirstPurchase = true
			case 12:
				c.BirthdayMonth = true
			}
		}
		switch rng.IntN(4) {
		case 0:
			r.Effect = Effect{Kind: EffectFixed, Points: 1 + rng.Int64N(500)}
		case 1:
			r.Effect = Effect{Kind: EffectPerAmount, Points: 1 + rng.Int64N(5), Amount: 1 + rng.Int64N(5000)}
			r.Condition.Currency = "HKD"
		case 2:
			r.Effect = Effect{Kind: EffectMultiplier, Multiplier: 1001 + rng.Int64N(4000)}
		default:
			r.Effect = Effect{Kind: EffectPerItem, Points: 1 + rng.Int64N(50)}
		}
		if r.Trigger == TriggerEvent {
			r.Effect = Effect{Kind: EffectFixed, Points: 10}
		}
		switch rng.IntN(5) {
		case 0:
			r.Limits.OncePerMember = true
		case 1:
			r.Limits.PerMemberPerDay = 1 + rng.Int64N(2)
		case 2:
			r.Limits.PerMemberPerMonth = 1 + rng.Int64N(3)
		case 3:
			r.Limits.Budget = 10_000
			if rng.IntN(3) != 0 {
				m.Budgets[r.ID] = rng.Int64N(300)
			}
		}
		if rng.IntN(3) == 0 {
			n := rng.Int64N(3)
			m.Usage[r.ID] = RuleUsage{Total: n + rng.Int64N(3), Day: n, Month: n + rng.Int64N(2)}
		}
		rules = append(rules, r)
	}
	return randomCase{p: p, rules: rules, m: m, b: b}
}

// TestEvaluate_Property evaluates random baskets under random rules: the
// result is deterministic, its sums hold, nothing is negative, the base award
// is the exact rounded product, budgets are never overdrawn, and every live
// purchase rule either awards or says why not, in order.
func TestEvaluate_Property(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2025, 315))
	kinds, reasons := map[string]int{}, map[string]int{} // what the draws exercised
	for iter := range 4000 {
		c := drawCase(rng)
		for _, r := range c.rules {
			if err := r.Validate("body"); err != nil {
				t.Fatalf("iter %d: the generator made an invalid rule %+v: %v", iter, r, err)
			}
		}
		basket := c.b
		basket.Lines = slices.Clone(c.b.Lines)
		e := Evaluate(c.p, c.rules, c.m, c.b)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iter %d: %s\nprogram %+v\nrules %+v\nmember %+v\nbasket %+v\nearning %+v", iter, fmt.Sprintf(format, args...), c.p, c.rules, c.m, c.b, e)
		}
		if again := Evaluate(c.p, c.rules, c.m, c.b); !reflect.DeepEqual(e, again) {
			fail("not deterministic: second run %+v", again)
		}
		if !reflect.DeepEqual(basket, c.b) {
			fail("the basket changed")
		}
		checkEarning(t, e)
		if t.Failed() {
			fail("invariants broken")
		}
		// Eligible amounts: never above what the line could earn.
		var eligible int64
		for i, l := range e.Lines {
			bl := c.b.Lines[i]
			limit := bl.Total
			if !c.p.Exclusions.IncludeTax {
				limit = max(0, bl.Total-bl.Tax)
			}
			if l.Number != bl.Number || l.Eligible < 0 || l.Eligible > limit {
				fail("line %d eligible %d of a limit %d", l.Number, l.Eligible, limit)
			}
			eligible += l.Eligible
		}
		if got := EligibleSpend(c.p, c.b); got != eligible {
			fail("EligibleSpend %d, lines %d", got, eligible)
		}
		// The base award is the exact product, rounded once.
		var base int64
		if len(e.Awards) > 0 && e.Awards[0].Source == SourceBase {
			base = e.Awards[0].Points
		}
		if want := exactBase(c.p, c.m, c.b.Currency, eligible); base != want {
			fail("base %d, want %d", base, want)
		}
		// Every live purchase rule awards or is explained, in the given order.
		var awarded, explained []string
		eligibleLine := map[int]bool{}
		for _, l := range e.Lines {
			eligibleLine[l.Number] = l.Eligible > 0
		}
		for i, a := range e.Awards {
			if a.Source != SourceRule {
				if i != 0 || a.Source != SourceBase {
					fail("award %d from %s", i, a.Source)
				}
				continue
			}
			awarded = append(awarded, a.RuleID)
			for _, r := range c.rules {
				if r.ID == a.RuleID {
					kinds[r.Effect.Kind]++
				}
			}
			if strings.Contains(a.Reason, "capped") {
				kinds["capped"]++
			}
			if a.Budgeted && a.Points > c.m.Budgets[a.RuleID] {
				fail("rule %s awards %d of a budget with %d left", a.RuleID, a.Points, c.m.Budgets[a.RuleID])
			}
			for _, lp := range a.Lines {
				if !eligibleLine[lp.Number] {
					fail("rule %s gives points to line %d, which earns nothing", a.RuleID, lp.Number)
				}
			}
		}
		for _, o := range e.NotApplied {
			if o.Reason == "" {
				fail("rule %s not applied without a reason", o.RuleID)
			}
			explained = append(explained, o.RuleID)
			reasons[strings.Fields(o.Reason)[1]]++
		}
		ai, ni := 0, 0
		for _, r := range c.rules {
			if r.Trigger != TriggerPurchase || !r.Live(c.b.At) {
				continue
			}
			switch {
			case ai < len(awarded) && awarded[ai] == r.ID:
				ai++
			case ni < len(explained) && explained[ni] == r.ID:
				ni++
			default:
				fail("live rule %s neither awards nor says why not", r.ID)
			}
		}
		if ai != len(awarded) || ni != len(explained) {
			fail("awards %v and not applied %v for rules in force", awarded, explained)
		}
	}
	t.Logf("awards by effect: %v; reasons by second word: %v", kinds, reasons)
	for _, k := range []string{EffectFixed, EffectPerAmount, EffectMultiplier, EffectPerItem, "capped"} {
		if kinds[k] < 50 {
			t.Errorf("only %d draws awarded %s: the generator is too narrow", kinds[k], k)
		}
	}
	if len(reasons) < 8 {
		t.Errorf("only %d kinds of reasons: the generator is too narrow", len(reasons))
	}
}

// exactBase is the base award by big rationals: eligible × rate × multiplier,
// rounded by the program's mode.
func exactBase(p *Program, m Member, currency string, eligible int64) int64 {
	rate, ok := p.Rate(currency)
	if !ok {
		return 0
	}
	mult := int64(1000)
	if m.Tier != nil {
		mult = m.Tier.Multiplier
	}
	num := new(big.Int).Mul(big.NewInt(eligible), big.NewInt(rate.Points*mult))
	den := big.NewInt(rate.Amount * 1000)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	twice := new(big.Int).Mul(r, big.NewInt(2))
	switch {
	case r.Sign() == 0:
	case p.Rounding == RoundUp, p.Rounding == RoundNearest && twice.Cmp(den) >= 0:
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}
