package ingest

import (
	"testing"
	"time"
)

func TestParseMinor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		digits int
		sep    byte
		want   int64
		bad    bool
	}{
		{"2.55", 2, '.', 255, false}, {"2.5", 2, '.', 250, false}, {"2", 2, '.', 200, false}, {"-3.10", 2, '.', -310, false},
		{"0.001", 2, '.', 0, true}, {"0.0010", 3, '.', 1, false}, {"1,234.50", 2, '.', 123450, false}, {"1.234,50", 2, ',', 123450, false},
		{"129", 0, '.', 129, false}, {"12.5", 0, '.', 0, true}, {"abc", 2, '.', 0, true}, {"", 2, '.', 0, true}, {"1e3", 2, '.', 0, true},
		{"99999999999999999999", 2, '.', 0, true}, {".5", 2, '.', 50, false}, {"-", 2, '.', 0, true},
	} {
		got, err := parseMinor(tc.in, tc.digits, tc.sep)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("parseMinor(%q, %d, %q) = %d, %v; want %d, bad %v", tc.in, tc.digits, tc.sep, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	london, _ := time.LoadLocation("Europe/London")
	got, err := parseTime("2011-06-01 09:30:00", "2006-01-02 15:04:05", london)
	if err != nil || !got.Equal(time.Date(2011, 6, 1, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("summer time in London: %v %v", got, err)
	}
	got, err = parseTime("2010-12-01T08:26:00+08:00", "", time.UTC)
	if err != nil || !got.Equal(time.Date(2010, 12, 1, 0, 26, 0, 0, time.UTC)) {
		t.Errorf("rfc3339 guess: %v %v", got, err)
	}
	if _, err := parseTime("12/1/2010 8:26", "", time.UTC); err == nil {
		t.Error("an ambiguous US date must need a time_format")
	}
	if got, err := parseTime("12/1/2010 8:26", "1/2/2006 15:04", time.UTC); err != nil || got.Month() != 12 {
		t.Errorf("explicit layout: %v %v", got, err)
	}
}

func TestParseQuantityAndInteger(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"6": 6, "-6": -6, "6.0": 6, " 12 ": 12} {
		if got, err := parseQuantity(in); err != nil || got != want {
			t.Errorf("parseQuantity(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"6.5", "x", ""} {
		if _, err := parseQuantity(in); err == nil {
			t.Errorf("parseQuantity(%q) accepted", in)
		}
	}
	if v, err := asInteger("17850.0", "f"); err != nil || v != "17850" {
		t.Errorf("asInteger: %q %v", v, err)
	}
	if _, err := asInteger("17850.5", "f"); err == nil {
		t.Error("asInteger accepted a fraction")
	}
}
