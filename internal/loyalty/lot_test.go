package loyalty

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func lot(id string, remaining int64, expires *time.Time, earned time.Time) Lot {
	return Lot{ID: id, Remaining: remaining, ExpiresAt: expires, EarnedAt: earned}
}

func TestConsume_Order(t *testing.T) {
	t.Parallel()
	jan, jun := utc(2026, 1, 31, 0, 0), utc(2026, 6, 30, 0, 0)
	e1, e2, e3 := utc(2024, 1, 1, 0, 0), utc(2024, 6, 1, 0, 0), utc(2024, 12, 1, 0, 0)
	lots := []Lot{
		lot("never-new", 100, nil, e3),
		lot("jun", 30, &jun, e2),
		lot("jan-new", 20, &jan, e2),
		lot("never-old", 50, nil, e1),
		lot("jan-old", 10, ptr(jan.In(hkt)), e1), // the same instant in another zone ties
		lot("empty", 0, ptr(utc(2025, 1, 1, 0, 0)), e1),
	}
	for _, tc := range []struct {
		name   string
		points int64
		takes  []Take
		short  int64
	}{
		{"nothing", 0, nil, 0},
		{"from the first-expiring, oldest lot", 5, []Take{{"jan-old", 5}}, 0},
		{"a lot exactly", 10, []Take{{"jan-old", 10}}, 0},
		{"on to the next of the same day", 25, []Take{{"jan-old", 10}, {"jan-new", 15}}, 0},
		{"then the later expiry", 45, []Take{{"jan-old", 10}, {"jan-new", 20}, {"jun", 15}}, 0},
		{"never-expiring last, oldest first", 100, []Take{{"jan-old", 10}, {"jan-new", 20}, {"jun", 30}, {"never-old", 40}}, 0},
		{"every lot", 210, []Take{{"jan-old", 10}, {"jan-new", 20}, {"jun", 30}, {"never-old", 50}, {"never-new", 100}}, 0},
		{"short", 250, []Take{{"jan-old", 10}, {"jan-new", 20}, {"jun", 30}, {"never-old", 50}, {"never-new", 100}}, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(lots)
			takes, short := Consume(in, tc.points)
			if !slices.Equal(takes, tc.takes) || short != tc.short {
				t.Errorf("Consume(%d) = %v short %d, want %v short %d", tc.points, takes, short, tc.takes, tc.short)
			}
			if !reflect.DeepEqual(in, lots) {
				t.Error("Consume reordered its input")
			}
		})
	}
}

func TestConsume_Edges(t *testing.T) {
	t.Parallel()
	at := utc(2026, 1, 1, 0, 0)
	earned := utc(2025, 1, 1, 0, 0)
	for _, tc := range []struct {
		name   string
		lots   []Lot
		points int64
		takes  []Take
		short  int64
	}{
		{"no lots", nil, 10, nil, 10},
		{"only empty lots", []Lot{lot("a", 0, &at, earned), lot("b", -5, nil, earned)}, 10, nil, 10},
		{"a negative lot is skipped, not added", []Lot{lot("a", -5, &at, earned), lot("b", 7, nil, earned)}, 5, []Take{{"b", 5}}, 0},
		{"full ties keep the given order", []Lot{lot("x", 3, &at, earned), lot("y", 3, &at, earned), lot("z", 3, &at, earned)}, 7,
			[]Take{{"x", 3}, {"y", 3}, {"z", 1}}, 0},
		{"expiry beats age", []Lot{lot("old-late", 5, ptr(at.AddDate(1, 0, 0)), earned.AddDate(-5, 0, 0)), lot("new-soon", 5, &at, earned)}, 6,
			[]Take{{"new-soon", 5}, {"old-late", 1}}, 0},
		{"an expiring lot before an older never-expiring one", []Lot{lot("never", 5, nil, earned.AddDate(-5, 0, 0)), lot("soon", 5, &at, earned)}, 6,
			[]Take{{"soon", 5}, {"never", 1}}, 0},
		{"large", []Lot{lot("a", 1<<61, nil, earned), lot("b", 1<<61, &at, earned)}, 1 << 62, []Take{{"b", 1 << 61}, {"a", 1 << 61}}, 0},
	} {
		takes, short := Consume(tc.lots, tc.points)
		if !slices.Equal(takes, tc.takes) || short != tc.short {
			t.Errorf("%s: Consume(%d) = %v short %d, want %v short %d", tc.name, tc.points, takes, short, tc.takes, tc.short)
		}
	}
}

// TestConsume_Property: the takes and the shortfall add up to the points
// asked, no lot gives more than it has, every take is positive, lots are
// drained in expiry order (a later lot is touched only when every earlier
// one is empty), and short is positive only when every lot is used up.
func TestConsume_Property(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	base := utc(2025, 1, 1, 0, 0)
	for iter := range 3000 {
		var lots []Lot
		var have int64
		for i := range rng.IntN(10) {
			var exp *time.Time
			if rng.IntN(4) != 0 {
				exp = ptr(base.AddDate(0, rng.IntN(6), 0)) // few distinct days: many ties
			}
			l := lot(string(rune('a'+i)), rng.Int64N(100)-5, exp, base.AddDate(0, 0, -rng.IntN(5)))
			lots = append(lots, l)
			have += max(0, l.Remaining)
		}
		points := rng.Int64N(have + 50)
		takes, short := Consume(lots, points)
		byID := map[string]Lot{}
		for _, l := range lots {
			byID[l.ID] = l
		}
		var took int64
		seen := map[string]bool{}
		for i, tk := range takes {
			l := byID[tk.LotID]
			if tk.Points <= 0 || tk.Points > l.Remaining || seen[tk.LotID] {
				t.Fatalf("iter %d: take %+v of lot %+v", iter, tk, l)
			}
			seen[tk.LotID] = true
			took += tk.Points
			if i < len(takes)-1 && tk.Points != l.Remaining {
				t.Fatalf("iter %d: lot %s left with points before the next: %v", iter, tk.LotID, takes)
			}
			if i > 0 && compareExpiry(byID[takes[i-1].LotID], l) > 0 {
				t.Fatalf("iter %d: takes out of expiry order: %v", iter, takes)
			}
		}
		// No untouched non-empty lot comes before a touched one.
		if len(takes) > 0 {
			last := byID[takes[len(takes)-1].LotID]
			for _, l := range lots {
				if l.Remaining > 0 && !seen[l.ID] && compareExpiry(l, last) < 0 {
					t.Fatalf("iter %d: lot %+v skipped for %+v", iter, l, last)
				}
			}
		}
		if took+short != points || short < 0 || (short > 0 && took != have) {
			t.Fatalf("iter %d: %d asked of %d, took %d, short %d", iter, points, have, took, short)
		}
	}
}

func TestCalendar_Groups(t *testing.T) {
	t.Parallel()
	d1 := utc(2026, 3, 14, 0, 0)
	d2 := utc(2026, 1, 1, 0, 0)
	earned := utc(2025, 1, 1, 0, 0)
	for _, tc := range []struct {
		name string
		lots []Lot
		want []Expiring
	}{
		{"no lots", nil, []Expiring{}},
		{"only never-expiring and empty lots", []Lot{lot("a", 10, nil, earned), lot("b", 0, &d1, earned), lot("c", -3, &d1, earned)}, []Expiring{}},
		{"one lot", []Lot{lot("a", 10, &d1, earned)}, []Expiring{{d1, 10}}},
		{"same day, summed and sorted", []Lot{lot("a", 10, &d1, earned), lot("b", 5, &d2, earned), lot("c", 7, &d1, earned), lot("n", 99, nil, earned)},
			[]Expiring{{d2, 5}, {d1, 17}}},
		{"the same instant in two zones", []Lot{lot("a", 10, &d1, earned), lot("b", 1, ptr(d1.In(hkt)), earned)}, []Expiring{{d1, 11}}},
		{"different times of one day", []Lot{
			lot("a", 50, ptr(utc(2026, 3, 14, 10, 15)), earned),
			lot("b", 140, ptr(utc(2026, 3, 14, 17, 40)), earned),
			lot("c", 60, ptr(utc(2026, 3, 16, 9, 0)), earned),
			lot("d", 15, ptr(utc(2026, 3, 16, 23, 59)), earned),
		}, []Expiring{{d1, 190}, {utc(2026, 3, 16, 0, 0), 75}}},
		{"zero lots skipped among others", []Lot{lot("a", 0, &d2, earned), lot("b", 3, &d1, earned)}, []Expiring{{d1, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Calendar(tc.lots)
			if got == nil || !slices.EqualFunc(got, tc.want, func(a, b Expiring) bool { return a.Date.Equal(b.Date) && a.Points == b.Points }) {
				t.Errorf("Calendar = %v, want %v", got, tc.want)
			}
			for _, e := range got {
				if e.Date.Location() != time.UTC {
					t.Errorf("date %v not in UTC", e.Date)
				}
			}
		})
	}
}

func TestCalendar_Property(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	base := utc(2026, 1, 1, 0, 0)
	for iter := range 2000 {
		var lots []Lot
		var want int64
		for range rng.IntN(20) {
			var exp *time.Time
			if rng.IntN(5) != 0 {
				exp = ptr(base.Add(time.Duration(rng.Int64N(int64(10 * 24 * time.Hour)))))
			}
			l := lot("x", rng.Int64N(50)-5, exp, base)
			if exp != nil && l.Remaining > 0 {
				want += l.Remaining
			}
			lots = append(lots, l)
		}
		got := Calendar(lots)
		var sum int64
		for i, e := range got {
			sum += e.Points
			if e.Points <= 0 || (i > 0 && !got[i-1].Date.Before(e.Date)) || !e.Date.Equal(e.Date.Truncate(24*time.Hour)) {
				t.Fatalf("iter %d: calendar %v", iter, got)
			}
		}
		if sum != want {
			t.Fatalf("iter %d: calendar sums to %d, lots to %d", iter, sum, want)
		}
	}
}

func TestClawback_Steps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		points, quantity int64
		steps            []int64 // units returned at each step
		want             []int64 // points taken back at each step
	}{
		{"all at once", 10, 3, []int64{3}, []int64{10}},
		{"one by one", 10, 3, []int64{1, 1, 1}, []int64{3, 3, 4}},
		{"two then one", 10, 3, []int64{2, 1}, []int64{6, 4}},
		{"one then two", 10, 3, []int64{1, 2}, []int64{3, 7}},
		{"fewer points than units", 2, 5, []int64{1, 1, 1, 1, 1}, []int64{0, 0, 1, 0, 1}},
		{"a single unit", 7, 1, []int64{1}, []int64{7}},
		{"more returned than bought", 10, 3, []int64{2, 5}, []int64{6, 4}},
		{"returned again after all", 10, 3, []int64{3, 1}, []int64{10, 0}},
		{"no points", 0, 4, []int64{2, 2}, []int64{0, 0}},
		{"a partial return", 100, 4, []int64{1}, []int64{25}},
		{"nothing returned", 100, 4, []int64{0}, []int64{0}},
		{"large", 1_000_000_000_000_000, 7, []int64{3, 4}, []int64{428_571_428_571_428, 571_428_571_428_572}},
	} {
		var returned, clawed int64
		var got []int64
		for _, n := range tc.steps {
			c := Clawback(tc.points, tc.quantity, returned, n, clawed)
			got = append(got, c)
			returned += n
			clawed += c
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: clawbacks %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestClawback_Edges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                                                        string
		points, quantity, returnedBefore, returnedNow, clawedBefore int64
		want                                                        int64
	}{
		{"no quantity", 10, 0, 0, 1, 0, 0},
		{"negative quantity", 10, -2, 0, 1, 0, 0},
		{"clawed more before than is due", 10, 4, 1, 1, 9, 0},
		{"clawed exactly what is due", 10, 4, 1, 1, 5, 0},
	} {
		if got := Clawback(tc.points, tc.quantity, tc.returnedBefore, tc.returnedNow, tc.clawedBefore); got != tc.want {
			t.Errorf("%s: Clawback = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestClawback_Property: a line returned in random steps gives back exactly
// its points in total when every unit is back, never more, each step takes
// nothing negative, and after each step the total taken is the line's share
// for the units returned so far, rounded down.
func TestClawback_Property(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 5000 {
		quantity := 1 + rng.Int64N(50)
		var points int64
		switch rng.IntN(3) {
		case 0:
			points = rng.Int64N(quantity * 2)
		case 1:
			points = rng.Int64N(100_000)
		default:
			points = rng.Int64N(1_000_000_000_000_000)
		}
		var returned, clawed int64
		for returned < quantity {
			n := 1 + rng.Int64N(quantity-returned)
			if rng.IntN(10) == 0 {
				n += rng.Int64N(3) // over-returns are clamped
			}
			c := Clawback(points, quantity, returned, n, clawed)
			returned += n
			clawed += c
			share, _ := bigMulDiv(points, min(returned, quantity), quantity)
			if c < 0 || clawed > points || clawed != share {
				t.Fatalf("iter %d: %d points over %d units: after %d returned, clawed %d (step %d), share %d", iter, points, quantity, returned, clawed, c, share)
			}
		}
		if clawed != points {
			t.Fatalf("iter %d: %d points over %d units: clawed %d in all", iter, points, quantity, clawed)
		}
		if extra := Clawback(points, quantity, returned, 1, clawed); extra != 0 {
			t.Fatalf("iter %d: a return after all took %d more", iter, extra)
		}
	}
}

func TestBalanced_Sums(t *testing.T) {
	t.Parallel()
	member := Account{Kind: AccountAvailable, Owner: "c1"}
	issued := Account{Kind: AccountIssued}
	for _, tc := range []struct {
		name string
		ps   []Posting
		want bool
	}{
		{"no postings", nil, true},
		{"earn", []Posting{{member, 100}, {issued, -100}}, true},
		{"three-way", []Posting{{member, 70}, {Account{Kind: AccountPending, Owner: "c1"}, 30}, {issued, -100}}, true},
		{"one-sided", []Posting{{member, 100}}, false},
		{"off by one", []Posting{{member, 100}, {issued, -99}}, false},
	} {
		if got := Balanced(tc.ps); got != tc.want {
			t.Errorf("%s: Balanced = %v, want %v", tc.name, got, tc.want)
		}
	}
}
