package location

import (
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func valid() Location {
	return Location{Code: "HK-CWB-01", Type: TypeStore, Names: map[string]string{"en": "Causeway Bay", "zh-Hant": "銅鑼灣"},
		TimeZone: "Asia/Hong_Kong", Currency: "hkd", Status: "open", Address: Address{Country: "HK"},
		Coordinates: &Coordinates{Latitude: 22.28, Longitude: 114.18}}
}

func TestLocation_Validate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(*Location)
		field string // "" when valid
	}{
		{"valid", func(*Location) {}, ""},
		{"bonded warehouse without coordinates", func(l *Location) { l.Type = TypeBondedWarehouse; l.Coordinates = nil }, ""},
		{"empty code", func(l *Location) { l.Code = "" }, "body.code"},
		{"code with space", func(l *Location) { l.Code = "HK CWB" }, "body.code"},
		{"unknown type", func(l *Location) { l.Type = "shop" }, "body.type"},
		{"unknown status", func(l *Location) { l.Status = "gone" }, "body.status"},
		{"no names", func(l *Location) { l.Names = nil }, "body.names"},
		{"bad language", func(l *Location) { l.Names = map[string]string{"English": "x"} }, "body.names.English"},
		{"blank name", func(l *Location) { l.Names = map[string]string{"en": "  "} }, "body.names.en"},
		{"bad time zone", func(l *Location) { l.TimeZone = "Hong Kong" }, "body.time_zone"},
		{"Local time zone", func(l *Location) { l.TimeZone = "Local" }, "body.time_zone"},
		{"bad currency", func(l *Location) { l.Currency = "HKX" }, "body.currency"},
		{"bad country", func(l *Location) { l.Address.Country = "hk" }, "body.address.country"},
		{"latitude out of range", func(l *Location) { l.Coordinates.Latitude = 91 }, "body.coordinates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := valid()
			tc.edit(&l)
			err := l.Validate("body")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if l.Currency != "HKD" {
					t.Errorf("currency = %q, want it upper-cased", l.Currency)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || len(e.Fields) != 1 || e.Fields[0].Location != tc.field {
				t.Fatalf("want one invalid field %s, got %#v", tc.field, err)
			}
		})
	}
}

func TestSalesChannel_Validate(t *testing.T) {
	t.Parallel()
	ok := SalesChannel{Code: "tmall", Type: ChannelMarketplace, Names: map[string]string{"en": "Tmall flagship"}}
	if err := ok.Validate("body"); err != nil {
		t.Fatal(err)
	}
	bad := SalesChannel{Code: "-x", Type: "fax", Names: nil}
	e, _ := apperr.As(bad.Validate("body"))
	if e == nil || len(e.Fields) != 3 {
		t.Fatalf("want 3 field errors, got %#v", e)
	}
}
