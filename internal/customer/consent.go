package customer

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

// Message channels and purposes a consent can be given for.
var (
	MessageChannels = []string{"email", "sms", "whatsapp", "line", "wechat", "push", "voice"}
	Purposes        = []string{"marketing", "service"}
	ConsentStatuses = []string{"granted", "denied", "withdrawn"}
)

// ConsentInput is one consent statement as received.
type ConsentInput struct {
	MessageChannel string     `json:"message_channel" enum:"email,sms,whatsapp,line,wechat,push,voice"`
	Purpose        string     `json:"purpose" enum:"marketing,service"`
	Status         string     `json:"status" enum:"granted,denied,withdrawn"`
	Source         string     `json:"source,omitempty" maxLength:"100" doc:"where it was given: web_signup, pos, in_store_form, app…"`
	Evidence       string     `json:"evidence,omitempty" maxLength:"2000" doc:"e.g. the notice version shown, or the paper form's reference"`
	OccurredAt     *time.Time `json:"occurred_at,omitempty" doc:"when the customer gave it; defaults to now"`
}

// Consent is one recorded consent statement; the history is never rewritten.
type Consent struct {
	ID             string    `json:"id"`
	CustomerID     string    `json:"customer_id"`
	MessageChannel string    `json:"message_channel"`
	Purpose        string    `json:"purpose"`
	Status         string    `json:"status"`
	Source         string    `json:"source"`
	Evidence       string    `json:"evidence"`
	OccurredAt     time.Time `json:"occurred_at"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// ValidateConsents checks consent inputs, naming the bad field.
func ValidateConsents(in []ConsentInput, now time.Time, base string) error {
	var fields []apperr.FieldError
	for i, c := range in {
		loc := fmt.Sprintf("%s[%d]", base, i)
		check := func(field, v string, allowed []string) {
			if !slices.Contains(allowed, v) {
				fields = append(fields, apperr.FieldError{Location: loc + "." + field, Message: fmt.Sprintf("must be one of %v", allowed), Value: v})
			}
		}
		check("message_channel", c.MessageChannel, MessageChannels)
		check("purpose", c.Purpose, Purposes)
		check("status", c.Status, ConsentStatuses)
		if c.OccurredAt != nil && c.OccurredAt.After(now.Add(5*time.Minute)) {
			fields = append(fields, apperr.FieldError{Location: loc + ".occurred_at", Message: "is in the future", Value: c.OccurredAt})
		}
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "some consents are invalid", Fields: fields}
	}
	return nil
}

// CurrentConsents reduces a history to the latest statement per message
// channel and purpose, the state later modules check before sending.
func CurrentConsents(history []Consent) []Consent {
	latest := map[[2]string]Consent{}
	for _, c := range history {
		k := [2]string{c.MessageChannel, c.Purpose}
		if old, ok := latest[k]; !ok || newer(c, old) {
			latest[k] = c
		}
	}
	out := make([]Consent, 0, len(latest))
	for _, c := range latest {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MessageChannel != out[j].MessageChannel {
			return out[i].MessageChannel < out[j].MessageChannel
		}
		return out[i].Purpose < out[j].Purpose
	})
	return out
}

func newer(a, b Consent) bool {
	if !a.OccurredAt.Equal(b.OccurredAt) {
		return a.OccurredAt.After(b.OccurredAt)
	}
	if !a.RecordedAt.Equal(b.RecordedAt) {
		return a.RecordedAt.After(b.RecordedAt)
	}
	return a.ID > b.ID
}

// HasFreshGrant reports whether the inputs grant any consent after t: what
// it takes to re-create an erased person.
func HasFreshGrant(in []ConsentInput, t time.Time, now time.Time) bool {
	for _, c := range in {
		at := now
		if c.OccurredAt != nil {
			at = *c.OccurredAt
		}
		if c.Status == "granted" && at.After(t) {
			return true
		}
	}
	return false
}
