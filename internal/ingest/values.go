package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/money"
)

// parseMinor reads a decimal amount in major units ("2.55", "1.234,50" with a
// comma separator, "-3") as exact minor units of a currency with digits
// decimals. More decimals than the currency has is an error, never rounding.
func parseMinor(s string, digits int, sep byte) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("is empty")
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	group := byte(',')
	if sep == ',' {
		group = '.'
	}
	t = strings.ReplaceAll(t, string(group), "")
	whole, frac, _ := strings.Cut(t, string(sep))
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > digits {
		return 0, fmt.Errorf("%q has more decimals than the currency's %d", s, digits)
	}
	frac += strings.Repeat("0", digits-len(frac))
	digitsOnly := whole + frac
	if digitsOnly == "" || strings.Trim(digitsOnly, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseInt(digitsOnly, 10, 64)
	if err != nil || v > money.MaxAmount {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// parseQuantity reads a whole quantity; "6", "-6" and "6.0" are fine.
func parseQuantity(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if i := strings.IndexByte(t, '.'); i >= 0 && strings.Trim(t[i+1:], "0") == "" {
		t = t[:i]
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return v, nil
}

// timeLayouts are tried, in order, when a mapping gives no time format.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseTime reads a time in the mapping's layout; one without an offset is
// in the mapping's zone (UTC when it names none).
func parseTime(s, layout string, loc *time.Location) (time.Time, error) {
	t := strings.TrimSpace(s)
	layouts := timeLayouts
	switch layout {
	case "":
	case "rfc3339":
		layouts = []string{time.RFC3339Nano}
	default:
		layouts = []string{layout}
	}
	for _, l := range layouts {
		if v, err := time.ParseInLocation(l, t, loc); err == nil {
			return v, nil
		}
	}
	if layout == "" {
		return time.Time{}, fmt.Errorf("%q is not a time OMO reads without a time_format in the mapping", s)
	}
	return time.Time{}, fmt.Errorf("%q does not match the time format %q", s, layout)
}
