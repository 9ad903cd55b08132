package loyalty

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

// testTiers are four tiers, deliberately out of rank order.
func testTiers() []Tier {
	return []Tier{
		{ID: "t-gold", Code: "gold", Name: "Gold", Rank: 2, Threshold: 5000, Multiplier: 1500},
		{ID: "t-member", Code: "member", Name: "Member", Rank: 0, Threshold: 0, Multiplier: 1000},
		{ID: "t-platinum", Code: "platinum", Name: "Platinum", Rank: 3, Threshold: 20000, Multiplier: 2000},
		{ID: "t-silver", Code: "silver", Name: "Silver", Rank: 1, Threshold: 1000, Multiplier: 1250},
	}
}

func testLadder(t *testing.T) Ladder {
	t.Helper()
	if err := CheckLadder(testTiers()); err != nil {
		t.Fatalf("test ladder: %v", err)
	}
	return NewLadder(testTiers())
}

func tierByCode(t *testing.T, l Ladder, code string) Tier {
	t.Helper()
	for _, tier := range l {
		if tier.Code == code {
			return tier
		}
	}
	t.Fatalf("no tier %s", code)
	return Tier{}
}

func TestNewLadder_SortsByRank(t *testing.T) {
	t.Parallel()
	in := testTiers()
	l := NewLadder(in)
	var codes []string
	for _, tier := range l {
		codes = append(codes, tier.Code)
	}
	if want := []string{"member", "silver", "gold", "platinum"}; !slices.Equal(codes, want) {
		t.Errorf("ladder %v, want %v", codes, want)
	}
	if in[0].Code != "gold" {
		t.Error("NewLadder reordered its input")
	}
}

func TestLadder_EntryAndByID(t *testing.T) {
	t.Parallel()
	l := testLadder(t)
	if e, ok := l.Entry(); !ok || e.Code != "member" {
		t.Errorf("Entry() = %v, %v", e.Code, ok)
	}
	if g, ok := l.ByID("t-gold"); !ok || g.Code != "gold" {
		t.Errorf("ByID(t-gold) = %v, %v", g.Code, ok)
	}
	if _, ok := l.ByID("t-none"); ok {
		t.Error("ByID(t-none) found a tier")
	}
	var empty Ladder
	if _, ok := empty.Entry(); ok {
		t.Error("an empty ladder has an entry tier")
	}
	if _, ok := empty.Earned(1 << 40); ok {
		t.Error("an empty ladder earns a tier")
	}
}

func TestLadder_Earned(t *testing.T) {
	t.Parallel()
	l := testLadder(t)
	for _, tc := range []struct {
		value int64
		want  string // "": none
	}{
		{-1, ""}, {0, "member"}, {999, "member"}, {1000, "silver"}, {4999, "silver"},
		{5000, "gold"}, {19999, "gold"}, {20000, "platinum"}, {1 << 50, "platinum"},
	} {
		got, ok := l.Earned(tc.value)
		if ok != (tc.want != "") || got.Code != tc.want {
			t.Errorf("Earned(%d) = %q, %v; want %q", tc.value, got.Code, ok, tc.want)
		}
	}
}

func TestLadder_NextAndBelow(t *testing.T) {
	t.Parallel()
	l := testLadder(t)
	for _, tc := range []struct{ code, next, below string }{
		{"member", "silver", ""}, {"silver", "gold", "member"}, {"gold", "platinum", "silver"}, {"platinum", "", "gold"},
	} {
		cur := tierByCode(t, l, tc.code)
		if n, ok := l.Next(cur); ok != (tc.next != "") || n.Code != tc.next {
			t.Errorf("Next(%s) = %q, %v; want %q", tc.code, n.Code, ok, tc.next)
		}
		if b, ok := l.Below(cur); ok != (tc.below != "") || b.Code != tc.below {
			t.Errorf("Below(%s) = %q, %v; want %q", tc.code, b.Code, ok, tc.below)
		}
	}
	// Gaps in the ranks do not matter: next and below are by order.
	gappy := NewLadder([]Tier{{Code: "a", Rank: 0}, {Code: "b", Rank: 5, Threshold: 10}, {Code: "c", Rank: 9, Threshold: 20}})
	if n, _ := gappy.Next(gappy[0]); n.Code != "b" {
		t.Errorf("Next over a gap = %q", n.Code)
	}
	if b, _ := gappy.Below(gappy[2]); b.Code != "b" {
		t.Errorf("Below over a gap = %q", b.Code)
	}
}

func TestLadder_Upgrade(t *testing.T) {
	t.Parallel()
	l := testLadder(t)
	for _, tc := range []struct {
		name    string
		current string
		value   int64
		want    string // "": no upgrade
	}{
		{"one step", "member", 1000, "silver"},
		{"two steps at once", "member", 6000, "gold"},
		{"three steps at once", "member", 25000, "platinum"},
		{"silver to platinum", "silver", 20000, "platinum"},
		{"not enough", "member", 999, ""},
		{"already there", "gold", 6000, ""},
		{"never down", "gold", 1000, ""},
		{"never down to nothing", "silver", -50, ""},
		{"top stays", "platinum", 1 << 40, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := l.Upgrade(tierByCode(t, l, tc.current), tc.value)
			if ok != (tc.want != "") || got.Code != tc.want {
				t.Errorf("Upgrade(%s, %d) = %q, %v; want %q", tc.current, tc.value, got.Code, ok, tc.want)
			}
		})
	}
}

func TestLadder_Review(t *testing.T) {
	t.Parallel()
	l := testLadder(t)
	for _, tc := range []struct {
		name    string
		current string
		value   int64
		want    string
		changed bool
	}{
		{"kept at the threshold", "gold", 5000, "gold", false},
		{"kept above (no upgrade at review)", "gold", 50000, "gold", false},
		{"one down", "gold", 4999, "silver", true},
		{"one down though the value earns silver", "platinum", 5000, "gold", true},
		{"at most one down from the top", "platinum", 0, "gold", true},
		{"at most one down from gold", "gold", 0, "silver", true},
		{"silver to member", "silver", 0, "member", true},
		{"entry kept", "member", 0, "member", false},
		{"entry never goes below", "member", -100, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changed := l.Review(tierByCode(t, l, tc.current), tc.value)
			if changed != tc.changed || got.Code != tc.want {
				t.Errorf("Review(%s, %d) = %q, %v; want %q, %v", tc.current, tc.value, got.Code, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestCheckLadder_Cases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		change   func([]Tier) []Tier
		location string // "": valid
		message  string
	}{
		{"valid, unsorted", func(ts []Tier) []Tier { return ts }, "", ""},
		{"no tiers", func([]Tier) []Tier { return nil }, "", ""},
		{"entry tier alone", func(ts []Tier) []Tier { return ts[1:2] }, "", ""},
		{"duplicate code", func(ts []Tier) []Tier { ts[2].Code = "gold"; return ts }, "body.code", "another tier has this code"},
		{"duplicate rank", func(ts []Tier) []Tier { ts[0].Rank = 1; return ts }, "body.rank", "has rank 1 already"},
		{"two entry tiers", func(ts []Tier) []Tier { ts[3].Rank, ts[3].Threshold = 0, 0; return ts }, "body.rank", "has rank 0 already"},
		{"missing entry tier", func(ts []Tier) []Tier { return slices.Delete(ts, 1, 2) }, "body.rank", "entry tier of rank 0"},
		{"equal thresholds", func(ts []Tier) []Tier { ts[0].Threshold = 1000; return ts }, "body.threshold", "above the 1000 of silver"},
		{"falling thresholds", func(ts []Tier) []Tier { ts[2].Threshold = 4000; return ts }, "body.threshold", "above the 5000 of gold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckLadder(tc.change(testTiers()))
			locs := fieldLocations(t, err)
			switch {
			case tc.location == "" && err != nil:
				t.Fatalf("CheckLadder: %v", err)
			case tc.location == "":
			case len(locs) != 1 || locs[0] != tc.location:
				t.Fatalf("locations %q, want %s", locs, tc.location)
			default:
				if e := fieldMessages(err); !strings.Contains(e, tc.message) {
					t.Errorf("message %q, want it to say %q", e, tc.message)
				}
			}
		})
	}
}

// fieldMessages joins the messages of an apperr.Error's fields.
func fieldMessages(err error) string {
	e, ok := apperr.As(err)
	if !ok {
		return ""
	}
	var msgs []string
	for _, f := range e.Fields {
		msgs = append(msgs, f.Message)
	}
	return strings.Join(msgs, "; ")
}

func TestTier_Validate(t *testing.T) {
	t.Parallel()
	valid := Tier{Code: "gold", Name: "Gold", Rank: 2, Threshold: 5000, Multiplier: 1500, Benefits: Benefits{DiscountBasisPoints: 1000}}
	for _, tc := range []struct {
		name   string
		change func(*Tier)
		want   []string
	}{
		{"valid", func(*Tier) {}, nil},
		{"entry tier", func(t *Tier) { t.Rank, t.Threshold = 0, 0 }, nil},
		{"code", func(t *Tier) { t.Code = "gold tier" }, []string{"body.code"}},
		{"empty code", func(t *Tier) { t.Code = "" }, []string{"body.code"}},
		{"name", func(t *Tier) { t.Name = "" }, []string{"body.name"}},
		{"rank", func(t *Tier) { t.Rank = 101 }, []string{"body.rank"}},
		{"threshold 0 above entry", func(t *Tier) { t.Threshold = 0 }, []string{"body.threshold"}},
		{"threshold on the entry tier", func(t *Tier) { t.Rank = 0 }, []string{"body.threshold"}},
		{"multiplier", func(t *Tier) { t.Multiplier = 100_001 }, []string{"body.multiplier"}},
		{"discount", func(t *Tier) { t.Benefits.DiscountBasisPoints = 10_001 }, []string{"body.benefits.discount_basis_points"}},
		{"several", func(t *Tier) { t.Name, t.Multiplier = "", -1 }, []string{"body.name", "body.multiplier"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tier := valid
			tc.change(&tier)
			if got := fieldLocations(t, tier.Validate("body")); !slices.Equal(got, tc.want) {
				t.Errorf("locations %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTiering_Period(t *testing.T) {
	t.Parallel()
	hk := zone(t, "Asia/Hong_Kong")
	joined := utc(2023, 3, 10, 15, 0)
	leap := utc(2024, 2, 29, 10, 0)
	for _, tc := range []struct {
		name       string
		window     string
		at, joined time.Time
		start, end time.Time
	}{
		{"calendar: mid-year", WindowCalendarYear, utc(2025, 6, 15, 12, 0), joined, utc(2025, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0)},
		{"calendar: the first instant", WindowCalendarYear, utc(2025, 1, 1, 0, 0), joined, utc(2025, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0)},
		{"calendar: the last minute", WindowCalendarYear, utc(2025, 12, 31, 23, 59), joined, utc(2025, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0)},
		{"calendar: reckoned in UTC", WindowCalendarYear, time.Date(2026, 1, 1, 5, 0, 0, 0, hk), joined, utc(2025, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0)},

		{"membership: after the anniversary", WindowMembershipYear, utc(2025, 6, 1, 0, 0), joined, utc(2025, 3, 10, 0, 0), utc(2026, 3, 10, 0, 0)},
		{"membership: at the anniversary", WindowMembershipYear, utc(2025, 3, 10, 0, 0), joined, utc(2025, 3, 10, 0, 0), utc(2026, 3, 10, 0, 0)},
		{"membership: the minute before", WindowMembershipYear, utc(2025, 3, 9, 23, 59), joined, utc(2024, 3, 10, 0, 0), utc(2025, 3, 10, 0, 0)},
		{"membership: on joining", WindowMembershipYear, joined, joined, utc(2023, 3, 10, 0, 0), utc(2024, 3, 10, 0, 0)},
		{"membership: joined 29 Feb, a common year", WindowMembershipYear, utc(2025, 6, 1, 0, 0), leap, utc(2025, 3, 1, 0, 0), utc(2026, 3, 1, 0, 0)},
		{"membership: joined 29 Feb, the year before a leap year", WindowMembershipYear, utc(2027, 12, 1, 0, 0), leap, utc(2027, 3, 1, 0, 0), utc(2028, 2, 29, 0, 0)},
		{"membership: joined 29 Feb, 28 Feb of a leap year", WindowMembershipYear, utc(2028, 2, 28, 12, 0), leap, utc(2027, 3, 1, 0, 0), utc(2028, 2, 29, 0, 0)},
		{"membership: joined 29 Feb, 29 Feb of a leap year", WindowMembershipYear, utc(2028, 2, 29, 12, 0), leap, utc(2028, 2, 29, 0, 0), utc(2029, 3, 1, 0, 0)},

		{"rolling: twelve months either side", WindowRolling12Months, utc(2025, 3, 31, 9, 0), joined, utc(2024, 3, 31, 9, 0), utc(2026, 3, 31, 9, 0)},
		{"rolling: from 29 Feb", WindowRolling12Months, utc(2024, 2, 29, 9, 0), joined, utc(2023, 2, 28, 9, 0), utc(2025, 2, 28, 9, 0)},
		{"rolling: in a zone", WindowRolling12Months, time.Date(2025, 1, 1, 5, 0, 0, 0, hk), joined, utc(2023, 12, 31, 21, 0), utc(2025, 12, 31, 21, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := Tiering{Basis: BasisSpend, Currency: "HKD", Window: tc.window}
			if got := tg.PeriodEnd(tc.at, tc.joined); !got.Equal(tc.end) {
				t.Errorf("PeriodEnd(%v) = %v, want %v", tc.at, got, tc.end)
			}
			if got := tg.PeriodStart(tc.at, tc.joined); !got.Equal(tc.start) {
				t.Errorf("PeriodStart(%v) = %v, want %v", tc.at, got, tc.start)
			}
		})
	}
}

// TestTiering_PeriodProperty: for calendar and membership years the period
// holding at a moment contains it, and every moment of that period gives the
// same period, whatever the day the member joined (29 February included).
func TestTiering_PeriodProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(29, 2))
	base := utc(2020, 1, 1, 0, 0)
	moment := func() time.Time { return base.Add(time.Duration(rng.Int64N(int64(12 * 366 * 24 * time.Hour)))) }
	for _, window := range []string{WindowCalendarYear, WindowMembershipYear} {
		tg := Tiering{Window: window}
		for i := range 5000 {
			joined := moment()
			if i%4 == 0 {
				joined = utc(2020+4*rng.IntN(3), 2, 29, rng.IntN(24), 0)
			}
			at := joined.Add(time.Duration(rng.Int64N(int64(8 * 366 * 24 * time.Hour))))
			if i%8 == 1 { // a leap day
				at = utc(2024+4*rng.IntN(3), 2, 29, rng.IntN(24), rng.IntN(60))
			}
			start, end := tg.PeriodStart(at, joined), tg.PeriodEnd(at, joined)
			if at.Before(start) || !at.Before(end) {
				t.Fatalf("%s joined %v: at %v is outside [%v, %v)", window, joined, at, start, end)
			}
			if d := end.Sub(start); d < 365*24*time.Hour || d > 366*24*time.Hour {
				t.Fatalf("%s joined %v: period [%v, %v) is not a year", window, joined, start, end)
			}
			for _, m := range []time.Time{start, end.Add(-time.Nanosecond)} {
				if s, e := tg.PeriodStart(m, joined), tg.PeriodEnd(m, joined); !s.Equal(start) || !e.Equal(end) {
					t.Fatalf("%s joined %v: at %v the period is [%v, %v), at %v it is [%v, %v)", window, joined, at, start, end, m, s, e)
				}
			}
		}
	}
}
