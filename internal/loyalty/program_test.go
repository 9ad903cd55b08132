package loyalty

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests use, whatever the machine has

	"github.com/omo-platform/omo/internal/apperr"
)

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

func ptr[T any](v T) *T { return &v }

// fieldLocations returns the locations of an apperr.Invalid error's fields.
func fieldLocations(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		t.Fatalf("error %v is not an apperr.Invalid", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func TestExpiryPolicy_ExpiresAt(t *testing.T) {
	t.Parallel()
	hk := zone(t, "Asia/Hong_Kong")
	ny := zone(t, "America/New_York")
	fixed := utc(2025, 6, 30, 16, 0) // 1 July 2025 00:00 in Hong Kong
	for _, tc := range []struct {
		name   string
		policy ExpiryPolicy
		earned time.Time
		want   *time.Time
	}{
		{"rolling: same day", ExpiryPolicy{Kind: ExpiryRolling, Months: 24}, utc(2024, 3, 15, 10, 30), ptr(utc(2026, 3, 15, 10, 30))},
		{"rolling: 31 Jan + 1 month is 28 Feb", ExpiryPolicy{Kind: ExpiryRolling, Months: 1}, utc(2023, 1, 31, 10, 0), ptr(utc(2023, 2, 28, 10, 0))},
		{"rolling: 31 Jan + 1 month is 29 Feb in a leap year", ExpiryPolicy{Kind: ExpiryRolling, Months: 1}, utc(2024, 1, 31, 10, 0), ptr(utc(2024, 2, 29, 10, 0))},
		{"rolling: 29 Feb + 12 months is 28 Feb", ExpiryPolicy{Kind: ExpiryRolling, Months: 12}, utc(2024, 2, 29, 9, 0), ptr(utc(2025, 2, 28, 9, 0))},
		{"rolling: 29 Feb + 48 months is 29 Feb", ExpiryPolicy{Kind: ExpiryRolling, Months: 48}, utc(2024, 2, 29, 9, 0), ptr(utc(2028, 2, 29, 9, 0))},
		{"rolling: 31 Mar + 1 month is 30 Apr", ExpiryPolicy{Kind: ExpiryRolling, Months: 1}, utc(2025, 3, 31, 0, 0), ptr(utc(2025, 4, 30, 0, 0))},
		{"rolling: 31 Mar + 11 months is 29 Feb 2028", ExpiryPolicy{Kind: ExpiryRolling, Months: 11}, utc(2027, 3, 31, 23, 59), ptr(utc(2028, 2, 29, 23, 59))},
		{"rolling: across the year", ExpiryPolicy{Kind: ExpiryRolling, Months: 1}, utc(2024, 12, 31, 12, 0), ptr(utc(2025, 1, 31, 12, 0))},
		{"rolling: 120 months", ExpiryPolicy{Kind: ExpiryRolling, Months: 120}, utc(2024, 8, 31, 12, 0), ptr(utc(2034, 8, 31, 12, 0))},
		// Rolling months are reckoned in UTC: 1 Feb 05:00 in Hong Kong is 31 Jan in UTC.
		{"rolling: reckoned in UTC", ExpiryPolicy{Kind: ExpiryRolling, Months: 1, TimeZone: "Asia/Hong_Kong"}, time.Date(2024, 2, 1, 5, 0, 0, 0, hk), ptr(utc(2024, 2, 29, 21, 0))},

		{"end of year: this year", ExpiryPolicy{Kind: ExpiryEndOfYear}, utc(2024, 6, 15, 8, 0), ptr(utc(2025, 1, 1, 0, 0))},
		{"end of year: next year", ExpiryPolicy{Kind: ExpiryEndOfYear, Years: 1}, utc(2024, 6, 15, 8, 0), ptr(utc(2026, 1, 1, 0, 0))},
		{"end of year: 1 Jan 00:00 starts a new year", ExpiryPolicy{Kind: ExpiryEndOfYear}, utc(2025, 1, 1, 0, 0), ptr(utc(2026, 1, 1, 0, 0))},
		{"end of year: 31 Dec 23:30 Hong Kong is the Hong Kong year", ExpiryPolicy{Kind: ExpiryEndOfYear, TimeZone: "Asia/Hong_Kong"},
			time.Date(2024, 12, 31, 23, 30, 0, 0, hk), ptr(utc(2024, 12, 31, 16, 0))},
		{"end of year: the same instant given in UTC", ExpiryPolicy{Kind: ExpiryEndOfYear, TimeZone: "Asia/Hong_Kong"},
			utc(2024, 12, 31, 15, 30), ptr(utc(2024, 12, 31, 16, 0))},
		{"end of year: 1 Jan 00:30 Hong Kong (still 31 Dec in UTC) is the next year", ExpiryPolicy{Kind: ExpiryEndOfYear, TimeZone: "Asia/Hong_Kong"},
			utc(2024, 12, 31, 16, 30), ptr(utc(2025, 12, 31, 16, 0))},
		{"end of year: the UTC year of that instant", ExpiryPolicy{Kind: ExpiryEndOfYear},
			time.Date(2024, 12, 31, 23, 30, 0, 0, hk), ptr(utc(2025, 1, 1, 0, 0))},
		{"end of year: New York, 31 Dec 22:00 there", ExpiryPolicy{Kind: ExpiryEndOfYear, Years: 2, TimeZone: "America/New_York"},
			time.Date(2024, 12, 31, 22, 0, 0, 0, ny), ptr(utc(2027, 1, 1, 5, 0))},
		{"end of year: unknown zone falls back to UTC", ExpiryPolicy{Kind: ExpiryEndOfYear, TimeZone: "Mars/Olympus"},
			utc(2024, 12, 31, 23, 0), ptr(utc(2025, 1, 1, 0, 0))},

		{"fixed date: earned before", ExpiryPolicy{Kind: ExpiryFixedDate, Date: &fixed}, utc(2025, 6, 1, 0, 0), ptr(fixed)},
		{"fixed date: earned a second before", ExpiryPolicy{Kind: ExpiryFixedDate, Date: &fixed}, fixed.Add(-time.Second), ptr(fixed)},
		{"fixed date: earned at the date", ExpiryPolicy{Kind: ExpiryFixedDate, Date: &fixed}, fixed, nil},
		{"fixed date: earned after", ExpiryPolicy{Kind: ExpiryFixedDate, Date: &fixed}, utc(2025, 7, 2, 0, 0), nil},
		{"fixed date: given in a zone, returned in UTC", ExpiryPolicy{Kind: ExpiryFixedDate, Date: ptr(time.Date(2025, 7, 1, 0, 0, 0, 0, hk))}, utc(2025, 1, 1, 0, 0), ptr(fixed)},
		{"fixed date: no date", ExpiryPolicy{Kind: ExpiryFixedDate}, utc(2025, 1, 1, 0, 0), nil},

		{"none", ExpiryPolicy{Kind: ExpiryNone}, utc(2025, 1, 1, 0, 0), nil},
		{"unknown kind", ExpiryPolicy{Kind: "sometime"}, utc(2025, 1, 1, 0, 0), nil},
		{"empty kind", ExpiryPolicy{}, utc(2025, 1, 1, 0, 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.policy.ExpiresAt(tc.earned)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("ExpiresAt(%v) = %v, want never", tc.earned, *got)
			case tc.want == nil:
			case got == nil:
				t.Fatalf("ExpiresAt(%v) = never, want %v", tc.earned, *tc.want)
			case !got.Equal(*tc.want) || got.Location() != time.UTC:
				t.Fatalf("ExpiresAt(%v) = %v, want %v (in UTC)", tc.earned, *got, *tc.want)
			}
		})
	}
}

func TestExpiryPolicy_ExpiresAtAfterEarning(t *testing.T) {
	t.Parallel()
	// Whatever the policy, points never expire before they were earned.
	hk := zone(t, "Asia/Hong_Kong")
	policies := []ExpiryPolicy{
		{Kind: ExpiryRolling, Months: 1}, {Kind: ExpiryRolling, Months: 13},
		{Kind: ExpiryEndOfYear}, {Kind: ExpiryEndOfYear, TimeZone: "Asia/Hong_Kong"}, {Kind: ExpiryEndOfYear, TimeZone: "Pacific/Kiritimati"},
		{Kind: ExpiryFixedDate, Date: ptr(utc(2026, 1, 1, 0, 0))},
	}
	for day := range 3 * 366 {
		for _, h := range []int{0, 7, 15, 16, 23} {
			earned := time.Date(2024, 1, 1+day, h, 30, 0, 0, hk)
			for _, p := range policies {
				if at := p.ExpiresAt(earned); at != nil && !at.After(earned) {
					t.Fatalf("%+v: earned %v expires %v", p, earned, *at)
				}
			}
		}
	}
}

func TestAddMonths_Clamps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from   time.Time
		months int
		want   time.Time
	}{
		{utc(2025, 1, 31, 8, 15), 1, utc(2025, 2, 28, 8, 15)},
		{utc(2024, 1, 31, 8, 15), 1, utc(2024, 2, 29, 8, 15)},
		{utc(2025, 1, 31, 0, 0), 2, utc(2025, 3, 31, 0, 0)},
		{utc(2025, 1, 31, 0, 0), 3, utc(2025, 4, 30, 0, 0)},
		{utc(2025, 5, 31, 0, 0), -1, utc(2025, 4, 30, 0, 0)},
		{utc(2025, 3, 31, 0, 0), -1, utc(2025, 2, 28, 0, 0)},
		{utc(2024, 2, 29, 0, 0), -12, utc(2023, 2, 28, 0, 0)},
		{utc(2024, 2, 29, 0, 0), 12, utc(2025, 2, 28, 0, 0)},
		{utc(2025, 12, 15, 0, 0), 1, utc(2026, 1, 15, 0, 0)},
		{utc(2025, 1, 15, 0, 0), -1, utc(2024, 12, 15, 0, 0)},
		{utc(2025, 1, 15, 0, 0), 0, utc(2025, 1, 15, 0, 0)},
		{utc(2025, 8, 31, 0, 0), 30, utc(2028, 2, 29, 0, 0)},
	} {
		if got := addMonths(tc.from, tc.months); !got.Equal(tc.want) {
			t.Errorf("addMonths(%v, %d) = %v, want %v", tc.from, tc.months, got, tc.want)
		}
	}
}

func TestDefaultProgram_ByCurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		currency    string
		rateAmount  int64 // minor units of 10 major units
		valueAmount int64 // minor units of 1 major unit
	}{
		{"HKD", 1000, 100}, {"JPY", 10, 1}, {"KWD", 10000, 1000},
	} {
		p := DefaultProgram("t1", tc.currency)
		if err := p.Validate("body"); err != nil {
			t.Errorf("%s: the default program is not valid: %v", tc.currency, err)
		}
		if want := []EarnRate{{tc.currency, 1, tc.rateAmount}}; !slices.Equal(p.EarnRates, want) {
			t.Errorf("%s: earn rates %v, want %v", tc.currency, p.EarnRates, want)
		}
		if want := []PointValue{{tc.currency, 100, tc.valueAmount}}; !slices.Equal(p.PointValues, want) {
			t.Errorf("%s: point values %v, want %v", tc.currency, p.PointValues, want)
		}
		if p.Tiering.Currency != tc.currency || p.Rounding != RoundDown || p.TenantID != "t1" {
			t.Errorf("%s: %+v", tc.currency, p)
		}
	}
}

func TestProgram_Validate_Fields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(p *Program)
		want   []string // field locations, in order; nil: valid
	}{
		{"default is valid", func(p *Program) {}, nil},
		{"status points need no currency", func(p *Program) { p.Tiering = Tiering{Basis: BasisStatusPoints, Window: WindowCalendarYear} }, nil},
		{"every expiry kind", func(p *Program) { p.Expiry = ExpiryPolicy{Kind: ExpiryNone} }, nil},
		{"end of year in a zone", func(p *Program) {
			p.Expiry = ExpiryPolicy{Kind: ExpiryEndOfYear, Years: 10, TimeZone: "Asia/Hong_Kong", InactivityMonths: 120}
		}, nil},
		{"fixed date", func(p *Program) { p.Expiry = ExpiryPolicy{Kind: ExpiryFixedDate, Date: ptr(utc(2030, 1, 1, 0, 0))} }, nil},
		{"return windows", func(p *Program) {
			p.DefaultReturnDays = 365
			p.ReturnWindows = []ReturnWindow{{SalesChannel: "web", Days: 30}, {Location: "HK1", Days: 0}}
		}, nil},
		{"two currencies", func(p *Program) { p.EarnRates = append(p.EarnRates, EarnRate{"usd", 1, 100}) }, nil},

		{"empty point name", func(p *Program) { p.PointName = "  " }, []string{"body.point_name"}},
		{"long point name", func(p *Program) { p.PointName = strings.Repeat("x", 41) }, []string{"body.point_name"}},
		{"rounding", func(p *Program) { p.Rounding = "half_even" }, []string{"body.rounding"}},
		{"earn rate currency", func(p *Program) { p.EarnRates[0].Currency = "ABC" }, []string{"body.earn_rates[0].currency"}},
		{"duplicate earn rate currency", func(p *Program) { p.EarnRates = append(p.EarnRates, EarnRate{"hkd", 2, 1000}) }, []string{"body.earn_rates[1].currency"}},
		{"earn rate amount 0", func(p *Program) { p.EarnRates[0].Amount = 0 }, []string{"body.earn_rates[0]"}},
		{"earn rate negative points", func(p *Program) { p.EarnRates[0].Points = -1 }, []string{"body.earn_rates[0]"}},
		{"earn rate too many points", func(p *Program) { p.EarnRates[0].Points = 1_000_001 }, []string{"body.earn_rates[0]"}},
		{"earn rate amount too large", func(p *Program) { p.EarnRates[0].Amount = 1_000_000_000_000_001 }, []string{"body.earn_rates[0]"}},
		{"point value points 0", func(p *Program) { p.PointValues[0].Points = 0 }, []string{"body.point_values[0]"}},
		{"point value currency", func(p *Program) { p.PointValues = append(p.PointValues, PointValue{"ABC", 1, 1}) }, []string{"body.point_values[1]"}},
		{"point value negative", func(p *Program) { p.PointValues[0].Amount = -1 }, []string{"body.point_values[0]"}},
		{"rolling months 0", func(p *Program) { p.Expiry.Months = 0 }, []string{"body.expiry"}},
		{"rolling months 121", func(p *Program) { p.Expiry.Months = 121 }, []string{"body.expiry"}},
		{"end of year years 11", func(p *Program) { p.Expiry = ExpiryPolicy{Kind: ExpiryEndOfYear, Years: 11} }, []string{"body.expiry"}},
		{"fixed date without date", func(p *Program) { p.Expiry = ExpiryPolicy{Kind: ExpiryFixedDate} }, []string{"body.expiry"}},
		{"expiry kind", func(p *Program) { p.Expiry = ExpiryPolicy{Kind: "never"} }, []string{"body.expiry"}},
		{"expiry time zone", func(p *Program) { p.Expiry.TimeZone = "Mars/Olympus" }, []string{"body.expiry"}},
		{"expiry time zone Local", func(p *Program) { p.Expiry.TimeZone = "Local" }, []string{"body.expiry"}},
		{"inactivity months", func(p *Program) { p.Expiry.InactivityMonths = -1 }, []string{"body.expiry"}},
		{"expiry: months and zone", func(p *Program) { p.Expiry.Months, p.Expiry.TimeZone = 0, "Nowhere" }, []string{"body.expiry", "body.expiry"}},
		{"default return days", func(p *Program) { p.DefaultReturnDays = 366 }, []string{"body.default_return_days"}},
		{"negative default return days", func(p *Program) { p.DefaultReturnDays = -1 }, []string{"body.default_return_days"}},
		{"return window without codes", func(p *Program) {
			p.ReturnWindows = []ReturnWindow{{SalesChannel: "web", Days: 30}, {Days: 7}}
		}, []string{"body.return_windows[1]"}},
		{"return window days", func(p *Program) { p.ReturnWindows = []ReturnWindow{{Location: "HK1", Days: 400}} }, []string{"body.return_windows[0]"}},
		{"tiering basis", func(p *Program) { p.Tiering.Basis = "visits" }, []string{"body.tiering.basis"}},
		{"tiering currency", func(p *Program) { p.Tiering.Currency = "" }, []string{"body.tiering.currency"}},
		{"tiering window", func(p *Program) { p.Tiering.Window = "weekly" }, []string{"body.tiering.window"}},
		{"tiering grace days", func(p *Program) { p.Tiering.GraceDays = 366 }, []string{"body.tiering.grace_days"}},
		{"everything at once", func(p *Program) {
			*p = Program{EarnRates: []EarnRate{{"HKD", 1, 0}}, ReturnWindows: []ReturnWindow{{}}, DefaultReturnDays: -1}
		}, []string{"body.point_name", "body.rounding", "body.earn_rates[0]", "body.expiry", "body.default_return_days",
			"body.return_windows[0]", "body.tiering.basis", "body.tiering.window"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := DefaultProgram("t1", "HKD")
			tc.change(&p)
			if got := fieldLocations(t, p.Validate("body")); !slices.Equal(got, tc.want) {
				t.Errorf("locations %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProgram_Validate_BaseAndNormalizing(t *testing.T) {
	t.Parallel()
	p := DefaultProgram("t1", "HKD")
	p.EarnRates = []EarnRate{{" hkd ", 1, 1000}, {"jpy", 1, 10}}
	p.PointValues = []PointValue{{"usd", 100, 1}}
	if err := p.Validate("body"); err != nil {
		t.Fatal(err)
	}
	if p.EarnRates[0].Currency != "HKD" || p.EarnRates[1].Currency != "JPY" || p.PointValues[0].Currency != "USD" {
		t.Errorf("currencies not normalised: %v %v", p.EarnRates, p.PointValues)
	}
	p.Rounding = ""
	if got := fieldLocations(t, p.Validate("program")); !slices.Equal(got, []string{"program.rounding"}) {
		t.Errorf("locations %q under base program", got)
	}
}

func TestProgram_ReturnDays(t *testing.T) {
	t.Parallel()
	windows := []ReturnWindow{
		{SalesChannel: "web", Days: 30},
		{Location: "HK1", Days: 7},
		{SalesChannel: "web", Location: "HK1", Days: 3},
		{SalesChannel: "pos", Days: 10},
		{Location: "HK9", Days: 0},
	}
	for _, tc := range []struct {
		name              string
		channel, location string
		want              int
	}{
		{"nothing matches: default", "app", "HK2", 14},
		{"channel only", "web", "", 30},
		{"channel, other location", "web", "HK2", 30},
		{"other channel", "pos", "HK2", 10},
		{"location only", "app", "HK1", 7},
		{"location beats channel", "pos", "HK1", 7},
		{"both beat either", "web", "HK1", 3},
		{"a window of 0 days beats the default", "app", "HK9", 0},
		{"location of 0 days beats the channel", "web", "HK9", 0},
		{"no channel, no location", "", "", 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The answer does not depend on the order of the windows.
			reversed := slices.Clone(windows)
			slices.Reverse(reversed)
			for _, order := range [][]ReturnWindow{windows, reversed} {
				p := Program{DefaultReturnDays: 14, ReturnWindows: order}
				if got := p.ReturnDays(tc.channel, tc.location); got != tc.want {
					t.Errorf("ReturnDays(%q, %q) = %d, want %d (windows %v)", tc.channel, tc.location, got, tc.want, order)
				}
			}
		})
	}
}

func TestProgram_RateAndValue(t *testing.T) {
	t.Parallel()
	p := Program{
		EarnRates:   []EarnRate{{"HKD", 1, 1000}, {"JPY", 1, 100}},
		PointValues: []PointValue{{"HKD", 100, 100}, {"JPY", 3, 7}},
	}
	if r, ok := p.Rate("JPY"); !ok || r != (EarnRate{"JPY", 1, 100}) {
		t.Errorf("Rate(JPY) = %v, %v", r, ok)
	}
	if _, ok := p.Rate("USD"); ok {
		t.Error("Rate(USD) found")
	}
	for _, tc := range []struct {
		points   int64
		currency string
		want     int64
		ok       bool
	}{
		{0, "HKD", 0, true},
		{250, "HKD", 250, true},
		{10, "JPY", 23, true}, // 10 × 7 ÷ 3 = 23.3, rounded down
		{1_000_000_000_000_000, "JPY", 2_333_333_333_333_333, true},
		{100, "USD", 0, false},
	} {
		if got, ok := p.Value(tc.points, tc.currency); got != tc.want || ok != tc.ok {
			t.Errorf("Value(%d, %s) = %d, %v; want %d, %v", tc.points, tc.currency, got, ok, tc.want, tc.ok)
		}
	}
}
