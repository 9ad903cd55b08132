package money

import "testing"

func TestNormalizeCurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"HKD", "HKD", true}, {" hkd ", "HKD", true}, {"twd", "TWD", true}, {"CNY", "CNY", true},
		{"XXX1", "XXX1", false}, {"", "", false}, {"ABC", "ABC", false}, {"HK", "HK", false},
	} {
		got, ok := NormalizeCurrency(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeCurrency(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDigits(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int{"HKD": 2, "JPY": 0, "KWD": 3, "SGD": 2} {
		if got := Digits(code); got != want {
			t.Errorf("Digits(%s) = %d, want %d", code, got, want)
		}
	}
}
