package routing

import "slices"

// Case is one order to route with the locations and stock of its moment: a
// past order replayed, or one a brand writes to try its rules.
type Case struct {
	Name      string     `json:"name,omitempty"`
	Order     Order      `json:"order"`
	Locations []Location `json:"locations"`
	Stock     Stock      `json:"stock"`
}

// Totals sum the plans of a set of cases under one rule set.
type Totals struct {
	Orders        int   `json:"orders"`
	FilledOrders  int   `json:"filled_orders" doc:"orders with nothing unfilled"`
	Shipments     int   `json:"shipments"`
	SplitOrders   int   `json:"split_orders" doc:"orders whose lines of one delivery method leave from more than one location"`
	UnfilledLines int   `json:"unfilled_lines"`
	UnfilledUnits int64 `json:"unfilled_units"`
	// DistanceKm sums the known distances of the shipments; MeanDistanceKm
	// divides it by the shipments whose distance is known.
	DistanceKm     float64 `json:"distance_km"`
	MeanDistanceKm float64 `json:"mean_distance_km"`
	measured       int
}

// Outcome is one case's plan in short.
type Outcome struct {
	Shipments     int      `json:"shipments"`
	Split         bool     `json:"split"`
	UnfilledLines int      `json:"unfilled_lines"`
	DistanceKm    float64  `json:"distance_km"`
	Locations     []string `json:"locations" doc:"codes of the shipping locations, in plan order"`
}

// CaseDiff is a case whose plan differs between the rule sets.
type CaseDiff struct {
	Index   int     `json:"index" doc:"position of the case in the input, from 0"`
	Name    string  `json:"name,omitempty"`
	Current Outcome `json:"current"`
	Draft   Outcome `json:"draft"`
}

// Report compares two rule sets over the same cases.
type Report struct {
	Current Totals     `json:"current"`
	Draft   Totals     `json:"draft"`
	Changed int        `json:"changed" doc:"cases whose shipments or unfilled lines differ"`
	Cases   []CaseDiff `json:"cases" doc:"the changed cases, in input order"`
}

// Simulate routes every case under the current and the draft rule set and
// reports the totals of each and the cases whose plans differ.
func Simulate(current, draft RuleSet, cases []Case) Report {
	rep := Report{Cases: []CaseDiff{}}
	for i, c := range cases {
		a := Route(current, c.Order, c.Locations, c.Stock)
		b := Route(draft, c.Order, c.Locations, c.Stock)
		rep.Current.add(a)
		rep.Draft.add(b)
		if !samePlan(a, b) {
			rep.Changed++
			rep.Cases = append(rep.Cases, CaseDiff{Index: i, Name: c.Name, Current: outcomeOf(a), Draft: outcomeOf(b)})
		}
	}
	rep.Current.finish()
	rep.Draft.finish()
	return rep
}

func (t *Totals) add(p Plan) {
	t.Orders++
	if len(p.Unfilled) == 0 {
		t.FilledOrders++
	}
	t.Shipments += len(p.Shipments)
	if p.Split() {
		t.SplitOrders++
	}
	t.UnfilledLines += len(p.Unfilled)
	for _, u := range p.Unfilled {
		t.UnfilledUnits += u.Quantity
	}
	for _, s := range p.Shipments {
		if s.DistanceKm != nil {
			t.DistanceKm += *s.DistanceKm
			t.measured++
		}
	}
}

func (t *Totals) finish() {
	t.DistanceKm = roundKm(t.DistanceKm)
	if t.measured > 0 {
		t.MeanDistanceKm = roundKm(t.DistanceKm / float64(t.measured))
	}
}

func outcomeOf(p Plan) Outcome {
	o := Outcome{Shipments: len(p.Shipments), Split: p.Split(), UnfilledLines: len(p.Unfilled),
		DistanceKm: roundKm(p.DistanceKm()), Locations: make([]string, 0, len(p.Shipments))}
	for _, s := range p.Shipments {
		o.Locations = append(o.Locations, s.LocationCode)
	}
	return o
}

// samePlan compares what two plans ship and leave unfilled (not their traces).
func samePlan(a, b Plan) bool {
	sameShipment := func(x, y Shipment) bool {
		return x.LocationID == y.LocationID && x.Method == y.Method && slices.Equal(x.Lines, y.Lines)
	}
	sameUnfilled := func(x, y UnfilledLine) bool { return x.Line == y.Line }
	return slices.EqualFunc(a.Shipments, b.Shipments, sameShipment) && slices.EqualFunc(a.Unfilled, b.Unfilled, sameUnfilled)
}
