package routing

import (
	"math"
	"slices"
)

// maxCoverLines bounds the exact fewest-shipments search, which costs about
// 2^lines steps; longer orders are split greedily.
const maxCoverLines = 12

// candidate is a location that may serve a sourced group and has some of it.
type candidate struct {
	idx     int // in router.locs
	loc     *Location
	rank    int // position in the ranking, -1 unranked
	dist    float64
	hasDist bool
	capLeft int64
	avail   []int64 // per line of the group: units of its SKU at the location
	mask    uint64  // lines it can fill whole (fewest-shipments search)
	pick    int     // 1 for the first location picked, …; 0 when not picked
	have    string  // what it has of the group, in words
	beaten  string  // why it lost the first pick
	takes   []int64 // per line: units it sends
}

// cover is how much of what is left a candidate can fill.
type cover struct {
	all   bool
	lines int // lines filled whole
	units int64
}

// sourcing is the routing of one sourced group (ship or ship_to_store).
type sourcing struct {
	r        *router
	g        group
	dest     destination
	need     []int64 // per line: units still to place
	slot     []int   // per line: index of its SKU among the group's SKUs
	scratch  []int64 // per SKU slot, for one evaluation
	cands    []*candidate
	skipped  []Decision
	eligible int // locations that passed the rules, with stock or not
	picks    []*candidate
	budget   int // most locations; 0 is no cap
}

// routeSourced chooses locations for a group that may come from anywhere
// the rules allow. One location that fills the whole group always beats a
// split. Otherwise, when splitting is allowed: with fewest_shipments as the
// first criterion (and at most maxCoverLines lines), the fewest locations
// that fill whole lines are found exactly, the strategy choosing among equal
// splits; then, or else, locations are picked one at a time, best by the
// strategy, each taking all it can, until the group is filled or
// MaxShipments is reached. The last allowed pick carries the most it can.
func (r *router) routeSourced(g group, dest destination) {
	s := r.newSourcing(g, dest)
	if s.searchCover() {
		s.coverPhase()
	}
	s.greedyPhase()
	s.report()
}

func (r *router) newSourcing(g group, dest destination) *sourcing {
	s := &sourcing{r: r, g: g, dest: dest, need: make([]int64, len(g.lines)), budget: r.budget()}
	s.slot, s.scratch = skuSlots(g.lines)
	for i, l := range g.lines {
		s.need[i] = l.Quantity
	}
	for i := range r.locs {
		l := &r.locs[i]
		if why := r.ineligible(l, g.method, dest, true); why != "" {
			s.skipped = append(s.skipped, decision(l, g.method, Skipped, why))
			continue
		}
		s.eligible++
		c := s.candidate(i)
		if s.eval(c).units == 0 {
			s.skipped = append(s.skipped, decision(l, g.method, Skipped, c.have))
			continue
		}
		s.cands = append(s.cands, c)
	}
	return s
}

func (r *router) budget() int {
	if !r.rs.AllowSplit {
		return 1
	}
	return r.rs.MaxShipments
}

func (s *sourcing) candidate(i int) *candidate {
	l := &s.r.locs[i]
	c := &candidate{idx: i, loc: l, rank: s.r.rankOf[i], capLeft: math.MaxInt64,
		avail: make([]int64, len(s.g.lines)), takes: make([]int64, len(s.g.lines))}
	if d, ok := distanceTo(l, s.dest); ok {
		c.dist, c.hasDist = roundKm(d), true // to 10 m, so nearly equal distances tie
	}
	if l.DailyCapacity > 0 {
		c.capLeft = max(l.DailyCapacity-l.UsedToday, 0)
	}
	s.refresh(c)
	c.have = haveText(s.g.lines, c.avail, s.slot, s.scratch)
	return c
}

// refresh reads what a candidate has now.
func (s *sourcing) refresh(c *candidate) {
	for i, l := range s.g.lines {
		c.avail[i] = s.r.avail(c.idx, l.SKU)
	}
}

// skuSlots numbers the distinct SKUs of lines, so that two lines of one SKU
// share its units.
func skuSlots(lines []Line) (slot []int, scratch []int64) {
	slot = make([]int, len(lines))
	for i, l := range lines {
		slot[i] = i
		for j := range i {
			if lines[j].SKU == l.SKU {
				slot[i] = slot[j]
				break
			}
		}
	}
	return slot, make([]int64, len(lines))
}

// eval is how much of what is left c can fill, lines in order.
func (s *sourcing) eval(c *candidate) cover {
	clear(s.scratch)
	cv := cover{all: true}
	c.mask = 0
	for i, want := range s.need {
		if want == 0 {
			continue
		}
		n := min(c.avail[i]-s.scratch[s.slot[i]], want)
		s.scratch[s.slot[i]] += n
		cv.units += n
		if n == want {
			cv.lines++
			if i < 64 {
				c.mask |= 1 << i
			}
		} else {
			cv.all = false
		}
	}
	return cv
}

func (s *sourcing) left() bool {
	return slices.ContainsFunc(s.need, func(n int64) bool { return n > 0 })
}

// searchCover says whether to look for the fewest locations exactly.
func (s *sourcing) searchCover() bool {
	rs := s.r.rs
	return rs.AllowSplit && len(rs.Strategy) > 0 && rs.Strategy[0] == CriterionFewestShipments &&
		len(s.g.lines) <= maxCoverLines && len(s.cands) > 1
}

// coverPhase picks the fewest locations that together fill whole every line
// some location can fill whole, when that takes two or more and fits the
// budget; the greedy phase does the rest.
func (s *sourcing) coverPhase() {
	var union uint64
	distinct := map[uint64]bool{}
	for _, c := range s.cands {
		s.eval(c)
		union |= c.mask
		distinct[c.mask] = true
	}
	dp := minCover(union, len(s.g.lines), distinct)
	if dp[union] <= 1 || (s.budget > 0 && int(dp[union]) > s.budget) {
		return
	}
	for rest := union; rest != 0; {
		optimal := func(c *candidate) bool {
			m := c.mask & rest
			return m != 0 && dp[rest&^m] == dp[rest]-1
		}
		c := s.choose(optimal, func(c *candidate) cover { return s.maskCover(c.mask & rest) }, false)
		if c == nil {
			return
		}
		s.take(c, c.mask&rest)
		rest &^= c.mask
	}
}

// maskCover is the cover of filling the lines in m whole.
func (s *sourcing) maskCover(m uint64) cover {
	cv := cover{all: true}
	for i, want := range s.need {
		switch {
		case want == 0:
		case m&(1<<i) != 0:
			cv.lines++
			cv.units += want
		default:
			cv.all = false
		}
	}
	return cv
}

// greedyPhase first tops up from the locations picked, then picks more.
func (s *sourcing) greedyPhase() {
	for _, c := range s.picks {
		s.refresh(c)
		s.take(c, math.MaxUint64)
	}
	for s.left() && (s.budget == 0 || len(s.picks) < s.budget) {
		last := s.budget > 0 && len(s.picks) == s.budget-1
		c := s.choose(nil, s.eval, last)
		if c == nil {
			return
		}
		s.take(c, math.MaxUint64)
	}
}

// take moves units of the lines in mask (every line when all bits are set)
// from c to its shipment.
func (s *sourcing) take(c *candidate, mask uint64) {
	took := false
	for i, l := range s.g.lines {
		if s.need[i] == 0 || (mask != math.MaxUint64 && (i >= 64 || mask&(1<<i) == 0)) {
			continue
		}
		n := min(s.r.avail(c.idx, l.SKU), s.need[i])
		if n > 0 {
			s.r.take(c.idx, l.SKU, n)
			c.takes[i] += n
			s.need[i] -= n
			took = true
		}
	}
	if c.pick == 0 {
		c.pick = -1 // spent, even if it had nothing after all
		if took {
			s.picks = append(s.picks, c)
			c.pick = len(s.picks)
		}
	}
}
