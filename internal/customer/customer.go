// Package customer is the single customer view: identifiers and how they are
// normalised, traits and which source wins, consent, and the pure rules of
// identity resolution (who matches, who merges into whom, which limits stop a
// merge). Storage lives in sqldb; this package never touches a database.
package customer

import (
	"time"
)

// Identifier types. External identifiers carry their source system's type
// name, stored with the "ext:" prefix so it can never collide with these.
const (
	TypeEmail      = "email"
	TypePhone      = "phone"
	TypeCardNumber = "card_number"
	externalPrefix = "ext:"
)

// Identifier is one normalised value that points at exactly one customer.
type Identifier struct {
	Type  string `json:"type"` // email, phone, card_number, or ext:<external type>
	Value string `json:"value"`
}

// External builds the identifier of an external system's id.
func External(extType, value string) Identifier {
	return Identifier{Type: externalPrefix + extType, Value: value}
}

// IsExternal reports whether the identifier is an external system id, and its type.
func (i Identifier) IsExternal() (string, bool) {
	if len(i.Type) > len(externalPrefix) && i.Type[:len(externalPrefix)] == externalPrefix {
		return i.Type[len(externalPrefix):], true
	}
	return "", false
}

// LimitClass is the type used for per-customer limits: all external ids count together.
func (i Identifier) LimitClass() string {
	if _, ok := i.IsExternal(); ok {
		return "external"
	}
	return i.Type
}

// Traits are what a customer tells us about themselves. Nil means "not set".
type Traits struct {
	FirstName    *string        `json:"first_name,omitempty" maxLength:"200"`
	LastName     *string        `json:"last_name,omitempty" maxLength:"200"`
	Gender       *string        `json:"gender,omitempty" maxLength:"50" doc:"as the customer states it, e.g. female, male, non_binary"`
	Birthday     *string        `json:"birthday,omitempty" pattern:"^$|^([0-9]{4}|-)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$" doc:"YYYY-MM-DD, or --MM-DD when the year is unknown; empty string clears"`
	Locale       *string        `json:"locale,omitempty" maxLength:"35" doc:"BCP 47, e.g. zh-Hant-HK"`
	HomeLocation *string        `json:"home_location,omitempty" maxLength:"100" doc:"code of the customer's home location (store)"`
	Attributes   map[string]any `json:"attributes,omitempty" doc:"free-form; a null value removes an attribute"`
}

// TraitSource says who last set a trait and when; it decides which later
// value may overwrite it.
type TraitSource struct {
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

// Customer is one person as OMO knows them.
type Customer struct {
	TenantID     string
	ID           string
	MergedInto   string // direct parent when this customer was merged away
	SurvivorID   string // the live customer this one resolves to (itself when live)
	Identifiers  []Identifier
	Traits       Traits
	TraitSources map[string]TraitSource
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ErasedAt     *time.Time
}

// Live reports whether the customer is not merged away.
func (c *Customer) Live() bool { return c.SurvivorID == c.ID }

// Ignored tells the caller that one identifier of the request took no part in
// matching, and why.
type Ignored struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason" enum:"junk,flagged_shared,limit_reached,merge_blocked,erased"`
	Detail string `json:"detail"`
}
