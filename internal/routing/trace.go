package routing

import (
	"fmt"
	"slices"
	"strings"
)

// maxShortListed bounds how many short lines a reason names.
const maxShortListed = 4

// report writes the group's shipments, trace and unfilled lines: chosen
// locations in pick order, then every other location by code.
func (s *sourcing) report() {
	for _, c := range s.picks {
		sh := Shipment{LocationID: c.loc.ID, LocationCode: c.loc.Code, Method: s.g.method}
		for i, n := range c.takes {
			if n > 0 {
				l := s.g.lines[i]
				sh.Lines = append(sh.Lines, Line{Key: l.Key, SKU: l.SKU, Quantity: n})
			}
		}
		if c.hasDist {
			d := c.dist
			sh.DistanceKm = &d
		}
		s.r.plan.Shipments = append(s.r.plan.Shipments, sh)
		reason := fmt.Sprintf("pick %d of %d: takes %s", c.pick, len(s.picks), takesText(s.g.lines, c.takes))
		s.r.decide(decision(c.loc, s.g.method, Chosen, join(reason, s.metrics(c))))
	}
	others := s.skipped
	for _, c := range s.cands {
		if c.pick <= 0 {
			beaten := c.beaten
			if beaten == "" {
				beaten = "not needed"
			}
			others = append(others, decision(c.loc, s.g.method, Skipped, join(c.have, s.metrics(c), beaten)))
		}
	}
	slices.SortStableFunc(others, func(a, b Decision) int { return strings.Compare(a.LocationCode, b.LocationCode) })
	s.r.plan.Trace = append(s.r.plan.Trace, others...)
	s.reportUnfilled()
}

// reportUnfilled lists what is left of each line, and why.
func (s *sourcing) reportUnfilled() {
	for i, want := range s.need {
		if want == 0 {
			continue
		}
		l := s.g.lines[i]
		var elsewhere int64
		for _, c := range s.cands {
			if c.pick <= 0 {
				elsewhere += s.r.avail(c.idx, l.SKU)
			}
		}
		var why string
		switch {
		case s.eligible == 0:
			why = fmt.Sprintf("no location may fulfil %s here (see the trace)", s.g.method)
		case elsewhere > 0 && !s.r.rs.AllowSplit:
			why = "no single location has every line, and splitting is off"
		case elsewhere > 0:
			why = fmt.Sprintf("max_shipments %d reached", s.budget)
		default:
			why = fmt.Sprintf("only %d of %d %s in stock where %s is allowed", l.Quantity-want, l.Quantity, l.SKU, s.g.method)
		}
		l.Quantity = want
		s.r.unfill(s.g, []Line{l}, why)
	}
}

// metrics words what the strategy compares: distance, rank, capacity.
func (s *sourcing) metrics(c *candidate) string {
	var parts []string
	if c.hasDist {
		parts = append(parts, fmt.Sprintf("%.1f km", c.dist))
	}
	if len(s.r.rs.Ranking) > 0 {
		if c.rank >= 0 {
			parts = append(parts, fmt.Sprintf("rank %d", c.rank+1))
		} else {
			parts = append(parts, "unranked")
		}
	}
	if l := c.loc; l.DailyCapacity > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d daily capacity used", l.UsedToday, l.DailyCapacity))
	}
	return strings.Join(parts, ", ")
}

// stockText words what location i has of lines, for fixed locations.
func (r *router) stockText(i int, lines []Line) string {
	avail := make([]int64, len(lines))
	for j, l := range lines {
		avail[j] = r.avail(i, l.SKU)
	}
	slot, scratch := skuSlots(lines)
	return haveText(lines, avail, slot, scratch)
}

// haveText words what a location has of lines: "has every line" or the
// short ones, "has 1 of 2 SKU-A, 0 of 1 SKU-B".
func haveText(lines []Line, avail []int64, slot []int, scratch []int64) string {
	clear(scratch)
	var short []string
	missing := 0
	for i, l := range lines {
		n := min(avail[i]-scratch[slot[i]], l.Quantity)
		scratch[slot[i]] += n
		if n < l.Quantity {
			missing++
			if len(short) < maxShortListed {
				short = append(short, fmt.Sprintf("%d of %d %s", n, l.Quantity, l.SKU))
			}
		}
	}
	switch {
	case missing == 0:
		return "has every line"
	case missing > len(short):
		return fmt.Sprintf("has %s and %d more lines short", strings.Join(short, ", "), missing-len(short))
	}
	return "has " + strings.Join(short, ", ")
}

// takesText words a shipment's lines: "SKU-A ×2, SKU-B ×1".
func takesText(lines []Line, takes []int64) string {
	var parts []string
	for i, n := range takes {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s ×%d", lines[i].SKU, n))
		}
	}
	if len(parts) > maxShortListed*2 {
		return fmt.Sprintf("%s and %d more lines", strings.Join(parts[:maxShortListed*2], ", "), len(parts)-maxShortListed*2)
	}
	return strings.Join(parts, ", ")
}

// join puts the non-empty parts of a reason together.
func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
