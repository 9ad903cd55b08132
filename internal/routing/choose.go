package routing

import (
	"cmp"
	"fmt"
	"math"
)

// option is a candidate with what it would fill now.
type option struct {
	c  *candidate
	cv cover
}

// Precedences that outrank the strategy in one pick.
const (
	byStrategy  = iota
	fillsAll    // one location that fills all that is left beats the rest
	carriesMost // the last pick allowed carries the most it can
)

// choose returns the best candidate not picked yet, allowed (nil: all) and
// filling something. It writes down, for every other candidate, why it lost
// this pick: the trace shows the last pick each location lost.
func (s *sourcing) choose(allowed func(*candidate) bool, coverOf func(*candidate) cover, last bool) *candidate {
	opts := make([]option, 0, len(s.cands))
	for _, c := range s.cands {
		if c.pick != 0 || (allowed != nil && !allowed(c)) {
			continue
		}
		if cv := coverOf(c); cv.units > 0 {
			opts = append(opts, option{c, cv})
		}
	}
	if len(opts) == 0 {
		return nil
	}
	prec := byStrategy
	for _, o := range opts {
		if o.cv.all {
			prec = fillsAll
			break
		}
	}
	if prec == byStrategy && last {
		prec = carriesMost
	}
	best := opts[0]
	for _, o := range opts[1:] {
		if s.better(o, best, prec) {
			best = o
		}
	}
	s.explain(opts, best, prec)
	return best.c
}

// better reports whether a beats b under the precedence, then the strategy.
func (s *sourcing) better(a, b option, prec int) bool {
	switch {
	case prec == fillsAll && a.cv.all != b.cv.all:
		return a.cv.all
	case prec == carriesMost && compareCover(a.cv, b.cv) != 0:
		return compareCover(a.cv, b.cv) < 0
	}
	d, _ := s.compare(a, b)
	return d < 0
}

// explain records why each candidate still in the running lost this pick
// to best. A candidate the filter left out (only the fewest-shipments search
// filters) lost on fewest_shipments; one with nothing left to give keeps the
// reason it lost an earlier pick.
func (s *sourcing) explain(opts []option, best option, prec int) {
	in := make(map[*candidate]option, len(opts))
	for _, o := range opts {
		in[o.c] = o
	}
	w := fmt.Sprintf("%s (pick %d)", best.c.loc.Code, len(s.picks)+1)
	for _, c := range s.cands {
		o, ok := in[c]
		switch {
		case c == best.c || c.pick != 0:
		case !ok && len(s.picks) == 0:
			c.beaten = fmt.Sprintf("beaten by %s on fewest_shipments: a split with fewer shipments leaves it out", w)
		case !ok:
		case prec == fillsAll && !o.cv.all && len(s.picks) == 0:
			c.beaten = fmt.Sprintf("beaten by %s, which fills everything alone", w)
		case prec == fillsAll && !o.cv.all:
			c.beaten = fmt.Sprintf("beaten by %s, which fills all that is left", w)
		case prec == carriesMost && compareCover(o.cv, best.cv) != 0:
			c.beaten = fmt.Sprintf("beaten by %s, which carries more in the last shipment allowed", w)
		default:
			_, crit := s.compare(o, best)
			c.beaten = fmt.Sprintf("beaten by %s on %s", w, crit)
		}
	}
}

// compare orders two options by the strategy's criteria, then by code; it
// names the criterion that decided.
func (s *sourcing) compare(a, b option) (int, string) {
	for _, crit := range s.r.rs.Strategy {
		var d int
		switch crit {
		case CriterionFewestShipments:
			d = compareCover(a.cv, b.cv)
		case CriterionRank:
			d = cmp.Compare(rankKey(a.c), rankKey(b.c))
		case CriterionDistance:
			d = compareDistance(a.c, b.c)
		case CriterionCapacity:
			d = cmp.Compare(b.c.capLeft, a.c.capLeft)
		}
		if d != 0 {
			return d, crit
		}
	}
	return compareCodes(a.c.loc, b.c.loc), "code (a tie on every criterion)"
}

// compareCover puts the cover that fills more first.
func compareCover(a, b cover) int {
	if a.all != b.all {
		if a.all {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(b.lines, a.lines); c != 0 {
		return c
	}
	return cmp.Compare(b.units, a.units)
}

func rankKey(c *candidate) int {
	if c.rank < 0 {
		return math.MaxInt
	}
	return c.rank
}

// compareDistance puts the nearer first, unknown distances last.
func compareDistance(a, b *candidate) int {
	if a.hasDist != b.hasDist {
		if a.hasDist {
			return -1
		}
		return 1
	}
	if !a.hasDist {
		return 0
	}
	return cmp.Compare(a.dist, b.dist)
}
