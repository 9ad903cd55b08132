package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// row is one line of the results table.
type row struct {
	Scenario string
	Figure   string
	Value    string
	Target   string // empty when the figure has no target
	Verdict  string // PASS, MISS or empty
}

// report collects rows and free-form notes in the order they were measured.
type report struct {
	engine string
	rows   []row
	notes  []string
}

func (r *report) add(scenario, figure, value string) {
	r.rows = append(r.rows, row{Scenario: scenario, Figure: figure, Value: value})
}

// check adds a figure with a target; pass decides the verdict.
func (r *report) check(scenario, figure, value, target string, pass bool) {
	v := "MISS"
	if pass {
		v = "PASS"
	}
	r.rows = append(r.rows, row{Scenario: scenario, Figure: figure, Value: value, Target: target, Verdict: v})
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// markdown writes the table and the notes.
func (r *report) markdown(w io.Writer, header string) {
	fmt.Fprintf(w, "### %s\n\n", header)
	fmt.Fprintln(w, "| scenario | figure | value | target | verdict |")
	fmt.Fprintln(w, "|---|---|---:|---|---|")
	for _, x := range r.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", x.Scenario, x.Figure, x.Value, x.Target, x.Verdict)
	}
	if len(r.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	fmt.Fprintln(w)
}

// latencies summarises request durations.
type latencies struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// summarize sorts d in place and reads nearest-rank percentiles.
func summarize(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return latencies{N: len(d), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: d[len(d)-1]}
}

// ms formats a duration in milliseconds with two decimals (never rounded to a
// coarser unit, so a figure close to a target stays readable).
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// rate formats a per-second figure without rounding up.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// thousands writes an integer part with comma separators: 12345.6 → "12,345".
// The value is truncated, not rounded, so a figure is never rounded up.
func thousands(f float64) string {
	n := int64(math.Floor(f))
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
