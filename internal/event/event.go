// Package event holds behavioural events: what a shopper did on the web
// shop or in the app (viewed a product, added it to the cart, completed an
// order), as Segment's tracking libraries send it. It decodes and validates
// Segment payloads, maps Segment's user ids and traits to OMO identifiers and
// traits, and reads Segment's e-commerce events (Order Completed, Order
// Refunded) as purchases and returns. Storage lives in sqldb.
package event

import (
	"encoding/json"
	"time"
)

// Types of event, as Segment names its calls.
const (
	TypeIdentify = "identify"
	TypeTrack    = "track"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeGroup    = "group"
	TypeAlias    = "alias"
)

// Types lists every event type.
var Types = []string{TypeIdentify, TypeTrack, TypePage, TypeScreen, TypeGroup, TypeAlias}

// Segment's size rules.
const (
	MaxEventBytes = 32 << 10  // one event (one call, or one item of a batch)
	MaxBatchBytes = 500 << 10 // one /v1/batch body
	// MaxBatchItems bounds the items of one batch; 500 KB hold no more
	// than a few thousand of the smallest events.
	MaxBatchItems = 5000
	maxIDBytes    = 200
	maxNameBytes  = 200
)

// External identifier types Segment's ids are stored under (as "ext:<type>").
const (
	IdentifierUserID      = "user_id"
	IdentifierAnonymousID = "anonymous_id"
)

// Event is one behavioural event as recorded.
type Event struct {
	TenantID    string
	ID          string
	MessageID   string
	Type        string
	Name        string // track: the event; page, screen: the name; group: the group id
	UserID      string
	AnonymousID string
	PreviousID  string // alias only
	GroupID     string // group only
	CustomerID  string // the customer it was recorded on (reads follow merges)
	// Timestamp is when it happened, corrected for the sending device's
	// clock as Segment does: received_at − (sent_at − timestamp).
	Timestamp         time.Time
	OriginalTimestamp *time.Time // as the device said, when it said
	SentAt            *time.Time
	ReceivedAt        time.Time
	Properties        json.RawMessage // a JSON object ("{}" when none)
	Traits            json.RawMessage // identify and group: a JSON object
	Context           json.RawMessage // a JSON object
	Integrations      json.RawMessage // a JSON object
	Commerce          string          // the e-commerce action (order_completed…), "" for other events
	TransactionID     string          // the purchase or return an order event recorded
	KeyID             string          // the write key that sent it
}
