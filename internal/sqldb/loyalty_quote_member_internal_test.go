package sqldb

import (
	"reflect"
	"testing"

	"github.com/omo-platform/omo/internal/loyalty"
)

func TestParseUsage(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name string
		in   *string
		want map[string]loyalty.RuleUsage
	}{
		{"none", nil, map[string]loyalty.RuleUsage{}},
		{"empty", str(""), map[string]loyalty.RuleUsage{}},
		{"one rule, three periods", str("r1|all|5;r1|d:2026-11-20|1;r1|m:2026-11|3"),
			map[string]loyalty.RuleUsage{"r1": {Total: 5, Day: 1, Month: 3}}},
		{"two rules", str("r1|all|2;r2|m:2026-11|4"),
			map[string]loyalty.RuleUsage{"r1": {Total: 2}, "r2": {Month: 4}}},
		{"malformed rows are skipped", str("r1|all;r2|all|x;r3|all|7"),
			map[string]loyalty.RuleUsage{"r3": {Total: 7}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseUsage(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
