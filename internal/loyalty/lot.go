package loyalty

import (
	"slices"
	"time"
)

// Lot is a parcel of earned points with its own expiry. Spending takes from
// lots; every take is recorded so a reversal gives back exactly those lots.
type Lot struct {
	ID        string
	Remaining int64
	ExpiresAt *time.Time // nil: never
	EarnedAt  time.Time
}

// Take is points taken from one lot.
type Take struct {
	LotID  string
	Points int64
}

// Consume takes points from lots, first-expiring first (never-expiring
// last, then oldest first), and returns the takes; short is what the lots
// could not cover.
func Consume(lots []Lot, points int64) (takes []Take, short int64) {
	return TakeInOrder(ByExpiry(lots), points)
}

// ByExpiry is lots in the order spending takes them: first-expiring first,
// never-expiring last, oldest first among equals.
func ByExpiry(lots []Lot) []Lot {
	order := slices.Clone(lots)
	slices.SortStableFunc(order, compareExpiry)
	return order
}

// TakeInOrder takes points from lots in the order given.
func TakeInOrder(lots []Lot, points int64) (takes []Take, short int64) {
	for _, l := range lots {
		if points == 0 {
			break
		}
		n := min(points, l.Remaining)
		if n <= 0 {
			continue
		}
		takes = append(takes, Take{LotID: l.ID, Points: n})
		points -= n
	}
	return takes, points
}

func compareExpiry(a, b Lot) int {
	switch {
	case a.ExpiresAt == nil && b.ExpiresAt != nil:
		return 1
	case a.ExpiresAt != nil && b.ExpiresAt == nil:
		return -1
	case a.ExpiresAt != nil && !a.ExpiresAt.Equal(*b.ExpiresAt):
		return a.ExpiresAt.Compare(*b.ExpiresAt)
	}
	return a.EarnedAt.Compare(b.EarnedAt)
}

// Expiring is points that expire on one date, for the balance calendar.
type Expiring struct {
	Date   time.Time
	Points int64
}

// Calendar groups the remaining points of lots by the day (in UTC) they
// expire, in date order; lots that never expire are left out. Rolling expiry
// keeps the time of day points were earned, so the key is the day, not the
// instant.
func Calendar(lots []Lot) []Expiring {
	byDay := map[time.Time]int64{}
	for _, l := range lots {
		if l.ExpiresAt != nil && l.Remaining > 0 {
			y, m, d := l.ExpiresAt.UTC().Date()
			byDay[time.Date(y, m, d, 0, 0, 0, 0, time.UTC)] += l.Remaining
		}
	}
	out := make([]Expiring, 0, len(byDay))
	for d, n := range byDay {
		out = append(out, Expiring{Date: d, Points: n})
	}
	slices.SortFunc(out, func(a, b Expiring) int { return a.Date.Compare(b.Date) })
	return out
}

// Clawback is how much of an award line a return takes back: of points
// earned on quantity units, the part for the returned units so far
// (cumulative), less what earlier returns took. Rounding down each time and
// taking the difference means the last return of a line takes exactly the
// rest, so a line returned in full has given back every point.
func Clawback(points, quantity, returnedBefore, returnedNow, clawedBefore int64) int64 {
	if quantity <= 0 {
		return 0
	}
	total, _ := MulDiv(points, min(quantity, returnedBefore+returnedNow), quantity)
	return max(0, total-clawedBefore)
}
