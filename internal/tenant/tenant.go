// Package tenant describes a brand using OMO: its identity and the settings
// that shape how its data is read (default phone country, identity limits,
// which sources outrank others).
package tenant

import (
	"time"
)

// Tenant is one brand. Every other row in OMO belongs to exactly one tenant.
type Tenant struct {
	ID        string
	Name      string
	Settings  Settings
	CreatedAt time.Time
	// Pepper keys the HMAC used for erasure tombstones; never shown.
	Pepper []byte
}

// Settings are the per-tenant knobs of identity resolution.
type Settings struct {
	// DefaultCountry is the ISO 3166 region used to read national phone numbers.
	DefaultCountry string `json:"default_country,omitempty"`
	// IdentifierLimits caps how many identifiers of one type a customer may hold;
	// a request that would exceed one merges nothing.
	IdentifierLimits map[string]int `json:"identifier_limits,omitempty"`
	// SourcePriority ranks data sources; a trait set by a higher-priority source
	// is not overwritten by a lower one. Unlisted sources rank 0.
	SourcePriority map[string]int `json:"source_priority,omitempty"`
	// FlagAfterMerges is how many merges one identifier may cause before it is
	// flagged as shared (a shop's own phone typed at the till) and stops merging.
	FlagAfterMerges int `json:"flag_after_merges,omitempty"`
	// RateLimitPerSecond is the sustained request rate allowed per API key.
	RateLimitPerSecond int `json:"rate_limit_per_second,omitempty"`
}

// DefaultSettings are what a new tenant starts with.
func DefaultSettings() Settings {
	return Settings{
		DefaultCountry:     "HK",
		IdentifierLimits:   map[string]int{"email": 5, "phone": 5, "card_number": 3, "external": 20},
		SourcePriority:     map[string]int{"admin": 100, "console": 100},
		FlagAfterMerges:    3,
		RateLimitPerSecond: 1000,
	}
}

// WithDefaults fills zero fields from DefaultSettings, so that settings saved by
// an older version keep working.
func (s Settings) WithDefaults() Settings {
	d := DefaultSettings()
	if s.DefaultCountry == "" {
		s.DefaultCountry = d.DefaultCountry
	}
	if s.IdentifierLimits == nil {
		s.IdentifierLimits = d.IdentifierLimits
	}
	if s.SourcePriority == nil {
		s.SourcePriority = d.SourcePriority
	}
	if s.FlagAfterMerges == 0 {
		s.FlagAfterMerges = d.FlagAfterMerges
	}
	if s.RateLimitPerSecond == 0 {
		s.RateLimitPerSecond = d.RateLimitPerSecond
	}
	return s
}

// Limit returns the cap for an identifier type ("email", "phone",
// "card_number", or "external" for all external types together).
func (s Settings) Limit(idType string) int {
	if n, ok := s.IdentifierLimits[idType]; ok {
		return n
	}
	return 20
}

// Priority returns a source's rank; unknown sources rank 0.
func (s Settings) Priority(source string) int { return s.SourcePriority[source] }
