// Package location holds where a brand sells and stocks: physical locations
// (stores, warehouses, bonded warehouses) and sales channels (the own web
// shop, the app, marketplaces, social commerce, store POS). Every transaction
// names one sales channel and, when it happened somewhere physical, one
// location. Rules here are pure validation over values.
package location

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// Location types.
const (
	TypeStore           = "store"
	TypeOutlet          = "outlet"
	TypeWarehouse       = "warehouse"
	TypeBondedWarehouse = "bonded_warehouse"
	TypePopUp           = "pop_up"
)

// Types lists the location types.
var Types = []string{TypeStore, TypeOutlet, TypeWarehouse, TypeBondedWarehouse, TypePopUp}

// Statuses of a location: whether it trades now.
var Statuses = []string{"open", "temporarily_closed", "closed", "planned"}

// Location is a physical place of a brand.
type Location struct {
	TenantID    string
	ID          string
	Code        string            // the brand's own code, unique per tenant (e.g. "HK-CWB-01")
	Type        string            // one of Types
	Names       map[string]string // language tag → name, e.g. {"en": "Causeway Bay", "zh-Hant": "銅鑼灣"}
	TimeZone    string            // IANA, e.g. "Asia/Hong_Kong"
	Currency    string            // ISO 4217
	Address     Address
	Coordinates *Coordinates
	Status      string // one of Statuses
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Address is a postal address; Country is ISO 3166-1 alpha-2.
type Address struct {
	Lines      []string `json:"lines,omitempty" maxItems:"4"`
	City       string   `json:"city,omitempty" maxLength:"100"`
	Region     string   `json:"region,omitempty" maxLength:"100" doc:"district, state or province"`
	PostalCode string   `json:"postal_code,omitempty" maxLength:"20"`
	Country    string   `json:"country,omitempty" maxLength:"2" doc:"ISO 3166-1 alpha-2, e.g. HK, SG, TW, CN"`
}

// Coordinates are WGS 84 degrees.
type Coordinates struct {
	Latitude  float64 `json:"latitude" minimum:"-90" maximum:"90"`
	Longitude float64 `json:"longitude" minimum:"-180" maximum:"180"`
}

var (
	codePattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ValidCode reports whether s can be a location or sales channel code.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// Validate checks a location as it would be stored and names each bad field
// under base ("body").
func (l *Location) Validate(base string) error {
	var fields []apperr.FieldError
	bad := func(field, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + field, Message: msg, Value: v})
	}
	if !ValidCode(l.Code) {
		bad("code", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", l.Code)
	}
	if !slices.Contains(Types, l.Type) {
		bad("type", "one of "+strings.Join(Types, ", "), l.Type)
	}
	if !slices.Contains(Statuses, l.Status) {
		bad("status", "one of "+strings.Join(Statuses, ", "), l.Status)
	}
	fields = append(fields, validateNames(l.Names, base+".names")...)
	if _, err := time.LoadLocation(l.TimeZone); err != nil || l.TimeZone == "" || l.TimeZone == "Local" {
		bad("time_zone", "an IANA time zone such as Asia/Hong_Kong", l.TimeZone)
	}
	if c, ok := money.NormalizeCurrency(l.Currency); !ok {
		bad("currency", "an ISO 4217 currency code such as HKD", l.Currency)
	} else {
		l.Currency = c
	}
	if a := l.Address.Country; a != "" && !countryPattern.MatchString(a) {
		bad("address.country", "an ISO 3166-1 alpha-2 code in capitals, such as HK", a)
	}
	if c := l.Coordinates; c != nil && (math.IsNaN(c.Latitude) || math.IsNaN(c.Longitude) || math.Abs(c.Latitude) > 90 || math.Abs(c.Longitude) > 180) {
		bad("coordinates", "latitude within ±90 and longitude within ±180", c)
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the location is not valid", Fields: fields}
	}
	return nil
}

func validateNames(names map[string]string, base string) []apperr.FieldError {
	var fields []apperr.FieldError
	if len(names) == 0 {
		return []apperr.FieldError{{Location: base, Message: "at least one name, e.g. {\"en\": \"Causeway Bay\"}"}}
	}
	for lang, name := range names {
		if !languagePattern.MatchString(lang) {
			fields = append(fields, apperr.FieldError{Location: base + "." + lang, Message: "keys are language tags such as en, zh-Hant, zh-Hans", Value: lang})
		}
		if n := strings.TrimSpace(name); n == "" || len(n) > 200 {
			fields = append(fields, apperr.FieldError{Location: base + "." + lang, Message: "a name of 1 to 200 bytes", Value: name})
		}
	}
	return fields
}

// Sales channel types.
const (
	ChannelPOS         = "pos"
	ChannelWeb         = "web"
	ChannelApp         = "app"
	ChannelMarketplace = "marketplace"
	ChannelSocial      = "social_commerce"
	ChannelChat        = "chat_commerce"
	ChannelOther       = "other"
)

// ChannelTypes lists the sales channel types.
var ChannelTypes = []string{ChannelPOS, ChannelWeb, ChannelApp, ChannelMarketplace, ChannelSocial, ChannelChat, ChannelOther}

// SalesChannel is a way a brand sells: its web shop, app, a marketplace store
// (e.g. Tmall), social or chat commerce, or the POS of its locations.
type SalesChannel struct {
	TenantID  string
	ID        string
	Code      string // unique per tenant, e.g. "web-hk", "tmall"
	Type      string // one of ChannelTypes
	Names     map[string]string
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a sales channel and names each bad field under base.
func (c *SalesChannel) Validate(base string) error {
	var fields []apperr.FieldError
	if !ValidCode(c.Code) {
		fields = append(fields, apperr.FieldError{Location: base + ".code",
			Message: "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", Value: c.Code})
	}
	if !slices.Contains(ChannelTypes, c.Type) {
		fields = append(fields, apperr.FieldError{Location: base + ".type", Message: "one of " + strings.Join(ChannelTypes, ", "), Value: c.Type})
	}
	fields = append(fields, validateNames(c.Names, base+".names")...)
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the sales channel is not valid", Fields: fields}
	}
	return nil
}
