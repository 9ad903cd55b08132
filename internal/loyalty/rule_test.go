package loyalty

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func validPurchaseRule() Rule {
	return Rule{ID: "r1", Version: 1, Name: "Double points on shoes", Status: RuleActive, Trigger: TriggerPurchase,
		Condition: Condition{Categories: []string{"shoes"}, MinSpend: 10000, Currency: "HKD"},
		Effect:    Effect{Kind: EffectMultiplier, Multiplier: 2000},
		Limits:    Limits{PerMemberPerDay: 1, Budget: 100_000}}
}

func validEventRule() Rule {
	return Rule{ID: "r2", Version: 1, Name: "Review bonus", Status: RuleActive, Trigger: TriggerEvent,
		Condition: Condition{Event: "Review Written", Properties: []Match{{Name: "rating", Values: []string{"4", "5"}}}},
		Effect:    Effect{Kind: EffectFixed, Points: 50}, Limits: Limits{OncePerMember: true}}
}

func TestRule_Validate_Fields(t *testing.T) {
	t.Parallel()
	start := utc(2025, 3, 1, 0, 0)
	for _, tc := range []struct {
		name   string
		rule   func() Rule
		change func(r *Rule)
		want   []string
	}{
		{"purchase rule", validPurchaseRule, func(*Rule) {}, nil},
		{"event rule", validEventRule, func(*Rule) {}, nil},
		{"schedule", validPurchaseRule, func(r *Rule) { r.StartsAt, r.EndsAt = &start, ptr(start.Add(time.Hour)) }, nil},
		{"hours 0 to 24", validPurchaseRule, func(r *Rule) { r.Condition.HourFrom, r.Condition.HourTo = ptr(0), ptr(24) }, nil},
		{"every effect: fixed", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectFixed, Points: 1_000_000_000} }, nil},
		{"every effect: per amount", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectPerAmount, Points: 1, Amount: 1} }, nil},
		{"every effect: per item", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectPerItem, Points: 5} }, nil},
		{"every effect: ×100", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectMultiplier, Multiplier: 100_000} }, nil},

		{"name", validPurchaseRule, func(r *Rule) { r.Name = " " }, []string{"body.name"}},
		{"long name", validPurchaseRule, func(r *Rule) { r.Name = strings.Repeat("n", 121) }, []string{"body.name"}},
		{"status", validPurchaseRule, func(r *Rule) { r.Status = "live" }, []string{"body.status"}},
		{"ends at the start", validPurchaseRule, func(r *Rule) { r.StartsAt, r.EndsAt = &start, &start }, []string{"body.ends_at"}},
		{"ends before the start", validPurchaseRule, func(r *Rule) { r.StartsAt, r.EndsAt = &start, ptr(start.Add(-time.Hour)) }, []string{"body.ends_at"}},
		{"trigger", validPurchaseRule, func(r *Rule) { r.Trigger = "visit" }, []string{"body.trigger"}},
		{"purchase naming an event", validPurchaseRule, func(r *Rule) { r.Condition.Event = "Signed Up" }, []string{"body.condition.event"}},
		{"purchase with properties", validPurchaseRule, func(r *Rule) { r.Condition.Properties = []Match{{"a", []string{"b"}}} }, []string{"body.condition.event"}},
		{"event without its name", validEventRule, func(r *Rule) { r.Condition.Event = "" }, []string{"body.condition.event"}},
		{"event earning per item", validEventRule, func(r *Rule) { r.Effect = Effect{Kind: EffectPerItem, Points: 5} }, []string{"body.effect.kind"}},
		{"day of week 7", validPurchaseRule, func(r *Rule) { r.Condition.DaysOfWeek = []int{0, 7} }, []string{"body.condition.days_of_week"}},
		{"day of week -1", validPurchaseRule, func(r *Rule) { r.Condition.DaysOfWeek = []int{-1} }, []string{"body.condition.days_of_week"}},
		{"hour from alone", validPurchaseRule, func(r *Rule) { r.Condition.HourFrom = ptr(9) }, []string{"body.condition.hour_from"}},
		{"hour to alone", validPurchaseRule, func(r *Rule) { r.Condition.HourTo = ptr(9) }, []string{"body.condition.hour_from"}},
		{"hours reversed", validPurchaseRule, func(r *Rule) { r.Condition.HourFrom, r.Condition.HourTo = ptr(18), ptr(9) }, []string{"body.condition.hour_from"}},
		{"hours empty", validPurchaseRule, func(r *Rule) { r.Condition.HourFrom, r.Condition.HourTo = ptr(9), ptr(9) }, []string{"body.condition.hour_from"}},
		{"hour 25", validPurchaseRule, func(r *Rule) { r.Condition.HourFrom, r.Condition.HourTo = ptr(9), ptr(25) }, []string{"body.condition.hour_from"}},
		{"min spend", validPurchaseRule, func(r *Rule) { r.Condition.MinSpend = -1 }, []string{"body.condition.min_spend"}},
		{"currency", validPurchaseRule, func(r *Rule) { r.Condition.Currency = "ABC" }, []string{"body.condition.currency"}},
		{"min spend without currency", validPurchaseRule, func(r *Rule) { r.Condition.Currency = "" }, []string{"body.condition.currency"}},
		{"attribute without values", validPurchaseRule, func(r *Rule) { r.Condition.Attribute = &Match{Name: "vip"} }, []string{"body.condition.attribute"}},
		{"attribute without name", validPurchaseRule, func(r *Rule) { r.Condition.Attribute = &Match{Values: []string{"x"}} }, []string{"body.condition.attribute"}},
		{"second property", validEventRule, func(r *Rule) { r.Condition.Properties = append(r.Condition.Properties, Match{Name: "x"}) }, []string{"body.condition.properties[1]"}},
		{"fixed 0", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectFixed} }, []string{"body.effect"}},
		{"per item too many", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectPerItem, Points: 1_000_000_001} }, []string{"body.effect"}},
		{"per amount without amount", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectPerAmount, Points: 1} }, []string{"body.effect"}},
		{"per amount too many points", validPurchaseRule, func(r *Rule) { r.Effect = Effect{Kind: EffectPerAmount, Points: 1_000_001, Amount: 1} }, []string{"body.effect"}},
		{"multiplier ×1", validPurchaseRule, func(r *Rule) { r.Effect.Multiplier = 1000 }, []string{"body.effect"}},
		{"multiplier ×101", validPurchaseRule, func(r *Rule) { r.Effect.Multiplier = 101_000 }, []string{"body.effect"}},
		{"effect kind", validPurchaseRule, func(r *Rule) { r.Effect.Kind = "cashback" }, []string{"body.effect"}},
		{"negative daily limit", validPurchaseRule, func(r *Rule) { r.Limits.PerMemberPerDay = -1 }, []string{"body.limits"}},
		{"negative monthly limit", validPurchaseRule, func(r *Rule) { r.Limits.PerMemberPerMonth = -1 }, []string{"body.limits"}},
		{"budget too large", validPurchaseRule, func(r *Rule) { r.Limits.Budget = 1_000_000_000_000_001 }, []string{"body.limits"}},
		{"several", validPurchaseRule, func(r *Rule) {
			r.Name, r.Status, r.Condition.DaysOfWeek, r.Effect.Kind = "", "", []int{9}, ""
		}, []string{"body.name", "body.status", "body.condition.days_of_week", "body.effect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.rule()
			tc.change(&r)
			if got := fieldLocations(t, r.Validate("body")); !slices.Equal(got, tc.want) {
				t.Errorf("locations %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRule_Validate_NormalizesCurrency(t *testing.T) {
	t.Parallel()
	r := validPurchaseRule()
	r.Condition.Currency = " hkd"
	if err := r.Validate("body"); err != nil {
		t.Fatal(err)
	}
	if r.Condition.Currency != "HKD" {
		t.Errorf("currency %q", r.Condition.Currency)
	}
}

func TestRule_Live(t *testing.T) {
	t.Parallel()
	start, end := utc(2025, 3, 1, 0, 0), utc(2025, 4, 1, 0, 0)
	for _, tc := range []struct {
		name         string
		status       string
		starts, ends *time.Time
		at           time.Time
		want         bool
	}{
		{"active, no schedule", RuleActive, nil, nil, start, true},
		{"paused", RulePaused, nil, nil, start, false},
		{"draft", RuleDraft, nil, nil, start, false},
		{"before the start", RuleActive, &start, &end, start.Add(-time.Nanosecond), false},
		{"at the start", RuleActive, &start, &end, start, true},
		{"inside", RuleActive, &start, &end, utc(2025, 3, 15, 0, 0), true},
		{"the instant before the end", RuleActive, &start, &end, end.Add(-time.Nanosecond), true},
		{"at the end", RuleActive, &start, &end, end, false},
		{"after the end", RuleActive, &start, &end, end.Add(time.Hour), false},
		{"open start", RuleActive, nil, &end, utc(2000, 1, 1, 0, 0), true},
		{"open end", RuleActive, &start, nil, utc(2100, 1, 1, 0, 0), true},
		{"paused inside", RulePaused, &start, &end, utc(2025, 3, 15, 0, 0), false},
		{"start in another zone", RuleActive, &start, nil, time.Date(2025, 3, 1, 7, 59, 0, 0, time.FixedZone("HKT", 8*3600)), false},
	} {
		r := Rule{Status: tc.status, StartsAt: tc.starts, EndsAt: tc.ends}
		if got := r.Live(tc.at); got != tc.want {
			t.Errorf("%s: Live(%v) = %v, want %v", tc.name, tc.at, got, tc.want)
		}
	}
}

func TestThousandths_Format(t *testing.T) {
	t.Parallel()
	for v, want := range map[int64]string{1000: "×1", 1500: "×1.5", 2000: "×2", 1250: "×1.25", 1005: "×1.005", 100_000: "×100", 0: "×0"} {
		if got := thousandths(v); got != want {
			t.Errorf("thousandths(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestEvaluate_Limits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limits Limits
		usage  map[string]RuleUsage
		reason string // "": applies
	}{
		{name: "once, never awarded", limits: Limits{OncePerMember: true}},
		{name: "once, awarded before", limits: Limits{OncePerMember: true}, usage: map[string]RuleUsage{"r1": {Total: 1}}, reason: "already awarded to this member once"},
		{name: "once, another rule awarded", limits: Limits{OncePerMember: true}, usage: map[string]RuleUsage{"r2": {Total: 5, Day: 5, Month: 5}}},
		{name: "per day, under", limits: Limits{PerMemberPerDay: 2}, usage: map[string]RuleUsage{"r1": {Total: 9, Day: 1, Month: 9}}},
		{name: "per day, reached", limits: Limits{PerMemberPerDay: 2}, usage: map[string]RuleUsage{"r1": {Total: 2, Day: 2, Month: 2}}, reason: "already awarded 2 times today"},
		{name: "per month, under", limits: Limits{PerMemberPerMonth: 3}, usage: map[string]RuleUsage{"r1": {Total: 30, Day: 2, Month: 2}}},
		{name: "per month, reached", limits: Limits{PerMemberPerMonth: 3}, usage: map[string]RuleUsage{"r1": {Total: 3, Day: 0, Month: 3}}, reason: "already awarded 3 times this month"},
		{name: "per day fine, month reached", limits: Limits{PerMemberPerDay: 5, PerMemberPerMonth: 4}, usage: map[string]RuleUsage{"r1": {Total: 4, Day: 1, Month: 4}}, reason: "already awarded 4 times this month"},
		{name: "no limits, much usage", usage: map[string]RuleUsage{"r1": {Total: 100, Day: 100, Month: 100}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fixedRule("r1", 10, Condition{})
			r.Limits = tc.limits
			e := Evaluate(testProgram(), []Rule{r}, Member{Usage: tc.usage}, testBasket())
			checkEarning(t, e)
			_, ok := findAward(e, "r1")
			if tc.reason == "" {
				if !ok || e.Points != 40 {
					t.Errorf("not applied: %+v", e.NotApplied)
				}
				return
			}
			if ok || len(e.NotApplied) != 1 || e.NotApplied[0].Reason != tc.reason || e.Points != 30 {
				t.Errorf("points %d, not applied %+v; want %q", e.Points, e.NotApplied, tc.reason)
			}
		})
	}
}

func TestEvaluate_Budget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		effect Effect
		budget int64
		left   map[string]int64
		points int64 // 0: not applied
		lines  map[int]int64
		capped bool
		reason string
	}{
		{name: "no budget", effect: Effect{Kind: EffectFixed, Points: 100}, left: map[string]int64{"r1": 1}, points: 100, lines: map[int]int64{1: 67, 2: 33}},
		{name: "budget with room", effect: Effect{Kind: EffectFixed, Points: 100}, budget: 5000, left: map[string]int64{"r1": 1000}, points: 100, lines: map[int]int64{1: 67, 2: 33}},
		{name: "budget exactly enough", effect: Effect{Kind: EffectFixed, Points: 100}, budget: 5000, left: map[string]int64{"r1": 100}, points: 100, lines: map[int]int64{1: 67, 2: 33}},
		{name: "capped at what is left", effect: Effect{Kind: EffectFixed, Points: 100}, budget: 5000, left: map[string]int64{"r1": 50}, points: 50, lines: map[int]int64{1: 34, 2: 16}, capped: true},
		{name: "capped per item", effect: Effect{Kind: EffectPerItem, Points: 5}, budget: 5000, left: map[string]int64{"r1": 7}, points: 7, lines: map[int]int64{1: 5, 2: 2}, capped: true},
		{name: "one point left", effect: Effect{Kind: EffectPerItem, Points: 5}, budget: 5000, left: map[string]int64{"r1": 1}, points: 1, lines: map[int]int64{1: 1}, capped: true},
		{name: "capped multiplier", effect: Effect{Kind: EffectMultiplier, Multiplier: 3000}, budget: 5000, left: map[string]int64{"r1": 45}, points: 45, lines: map[int]int64{1: 30, 2: 15}, capped: true},
		{name: "spent", effect: Effect{Kind: EffectFixed, Points: 100}, budget: 5000, left: map[string]int64{"r1": 0}, reason: "the campaign budget is spent"},
		{name: "overspent", effect: Effect{Kind: EffectFixed, Points: 100}, budget: 5000, left: map[string]int64{"r1": -3}, reason: "the campaign budget is spent"},
		{name: "no account", effect: Effect{Kind: EffectFixed, Points: 100}, budget: 5000, left: map[string]int64{"r2": 1000}, reason: "the campaign budget is spent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fixedRule("r1", 0, Condition{})
			r.Effect, r.Limits.Budget = tc.effect, tc.budget
			e := Evaluate(testProgram(), []Rule{r}, Member{Budgets: tc.left}, testBasket())
			checkEarning(t, e)
			a, ok := findAward(e, "r1")
			if tc.points == 0 {
				if ok || len(e.NotApplied) != 1 || e.NotApplied[0].Reason != tc.reason {
					t.Fatalf("award %+v, not applied %+v; want %q", a, e.NotApplied, tc.reason)
				}
				return
			}
			if !ok || a.Points != tc.points || !maps.Equal(awardLines(a), tc.lines) {
				t.Fatalf("award %+v (lines %v), want %d %v", a, awardLines(a), tc.points, tc.lines)
			}
			if a.Budgeted != (tc.budget > 0) || strings.Contains(a.Reason, "capped") != tc.capped {
				t.Errorf("award %+v: budgeted %v, capped %v", a, tc.budget > 0, tc.capped)
			}
			if tc.capped && !strings.Contains(a.Reason, fmt.Sprintf("capped at the %d left in the budget", tc.points)) {
				t.Errorf("reason %q", a.Reason)
			}
		})
	}
}

func TestEvaluateEvent_Properties(t *testing.T) {
	t.Parallel()
	evAt := utc(2025, 3, 15, 10, 0)
	signUp := Rule{ID: "signup", Version: 1, Name: "Welcome", Status: RuleActive, Trigger: TriggerEvent,
		Condition: Condition{Event: "Signed Up"}, Effect: Effect{Kind: EffectFixed, Points: 200}, Limits: Limits{OncePerMember: true}}
	review := Rule{ID: "review", Version: 4, Name: "Review", Status: RuleActive, Trigger: TriggerEvent, StatusPoints: true,
		Condition: Condition{Event: "Review Written", Properties: []Match{{"rating", []string{"4", "5"}}, {"channel", []string{"app"}}}},
		Effect:    Effect{Kind: EffectFixed, Points: 50}, Limits: Limits{PerMemberPerDay: 1}}
	goldReview := Rule{ID: "gold-review", Version: 1, Name: "Gold review", Status: RuleActive, Trigger: TriggerEvent,
		Condition: Condition{Event: "Review Written", Tiers: []string{"gold"}}, Effect: Effect{Kind: EffectFixed, Points: 30}}
	birthday := Rule{ID: "birthday", Version: 1, Name: "Birthday", Status: RuleActive, Trigger: TriggerEvent,
		Condition: Condition{Event: "Birthday", BirthdayMonth: true}, Effect: Effect{Kind: EffectFixed, Points: 100}, Limits: Limits{Budget: 10_000}}
	paused := review
	paused.ID, paused.Status = "paused", RulePaused
	later := signUp
	later.ID, later.StartsAt = "later", ptr(evAt.Add(time.Hour))
	purchase := fixedRule("purchase", 10, Condition{})
	rules := []Rule{purchase, signUp, review, goldReview, birthday, paused, later}
	for _, r := range rules {
		if err := r.Validate("body"); err != nil {
			t.Fatalf("rule %s: %v", r.ID, err)
		}
	}
	gold := &Tier{Code: "gold", Name: "Gold"}
	good := map[string]any{"rating": 5, "channel": "app"}
	for _, tc := range []struct {
		name       string
		event      string
		props      map[string]any
		member     Member
		awards     map[string]int64 // by rule
		status     int64
		notApplied map[string]string // reason by rule
	}{
		{name: "sign up", event: "Signed Up", awards: map[string]int64{"signup": 200}},
		{name: "sign up again", event: "Signed Up", member: Member{Usage: map[string]RuleUsage{"signup": {Total: 1}}},
			notApplied: map[string]string{"signup": "already awarded to this member once"}},
		{name: "a good review", event: "Review Written", props: good, awards: map[string]int64{"review": 50}, status: 50,
			notApplied: map[string]string{"gold-review": "the member is not in its tiers"}},
		{name: "a good review by a gold member", event: "Review Written", props: good, member: Member{Tier: gold},
			awards: map[string]int64{"review": 50, "gold-review": 30}, status: 50},
		{name: "rating as text", event: "Review Written", props: map[string]any{"rating": "4", "channel": "app"}, awards: map[string]int64{"review": 50}, status: 50,
			notApplied: map[string]string{"gold-review": "the member is not in its tiers"}},
		{name: "rating as a JSON number", event: "Review Written", props: map[string]any{"rating": float64(5), "channel": "app"}, member: Member{Tier: gold},
			awards: map[string]int64{"review": 50, "gold-review": 30}, status: 50},
		{name: "low rating", event: "Review Written", props: map[string]any{"rating": 3, "channel": "app"}, member: Member{Tier: gold},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "the event's rating does not match"}},
		{name: "rating with decimals", event: "Review Written", props: map[string]any{"rating": 4.5, "channel": "app"}, member: Member{Tier: gold},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "the event's rating does not match"}},
		{name: "no rating", event: "Review Written", props: map[string]any{"channel": "app"}, member: Member{Tier: gold},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "the event's rating does not match"}},
		{name: "null rating", event: "Review Written", props: map[string]any{"rating": nil, "channel": "app"}, member: Member{Tier: gold},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "the event's rating does not match"}},
		{name: "other channel", event: "Review Written", props: map[string]any{"rating": 5, "channel": "web"}, member: Member{Tier: gold},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "the event's channel does not match"}},
		{name: "no properties", event: "Review Written", member: Member{Tier: gold},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "the event's rating does not match"}},
		{name: "daily limit", event: "Review Written", props: good, member: Member{Tier: gold, Usage: map[string]RuleUsage{"review": {Day: 1}}},
			awards: map[string]int64{"gold-review": 30}, notApplied: map[string]string{"review": "already awarded 1 times today"}},
		{name: "birthday", event: "Birthday", member: Member{BirthMonth: 3, Budgets: map[string]int64{"birthday": 500}}, awards: map[string]int64{"birthday": 100}},
		{name: "birthday, budget capped", event: "Birthday", member: Member{BirthMonth: 3, Budgets: map[string]int64{"birthday": 60}}, awards: map[string]int64{"birthday": 60}},
		{name: "birthday, budget spent", event: "Birthday", member: Member{BirthMonth: 3},
			notApplied: map[string]string{"birthday": "the campaign budget is spent"}},
		{name: "birthday, wrong month", event: "Birthday", member: Member{BirthMonth: 4, Budgets: map[string]int64{"birthday": 500}},
			notApplied: map[string]string{"birthday": "not the member's birthday month"}},
		{name: "an event no rule names", event: "Logged In", props: good},
		{name: "event names are exact", event: "signed up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := EvaluateEvent(rules, tc.member, Event{Name: tc.event, Properties: tc.props, At: evAt})
			checkEarning(t, e)
			awards := map[string]int64{}
			var total int64
			for _, a := range e.Awards {
				awards[a.RuleID] = a.Points
				total += a.Points
				if a.Source != SourceRule || len(a.Lines) != 0 || a.Budgeted != (a.RuleID == "birthday") {
					t.Errorf("award %+v", a)
				}
			}
			notApplied := map[string]string{}
			for _, o := range e.NotApplied {
				notApplied[o.RuleID] = o.Reason
			}
			if !maps.Equal(awards, tc.awards) && !(len(awards) == 0 && len(tc.awards) == 0) {
				t.Errorf("awards %v, want %v", awards, tc.awards)
			}
			if !maps.Equal(notApplied, tc.notApplied) && !(len(notApplied) == 0 && len(tc.notApplied) == 0) {
				t.Errorf("not applied %v, want %v", notApplied, tc.notApplied)
			}
			if e.Points != total || e.StatusPoints != tc.status || len(e.Lines) != 0 {
				t.Errorf("points %d, status %d (want %d), lines %v", e.Points, e.StatusPoints, tc.status, e.Lines)
			}
		})
	}
}
