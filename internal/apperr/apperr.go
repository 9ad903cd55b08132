// Package apperr is OMO's one error model: a small set of kinds that every layer
// wraps with %w, and that the HTTP layer maps to a status in exactly one place.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind string

// The kinds. Anything else is treated as Internal.
const (
	Invalid      Kind = "invalid"
	NotFound     Kind = "not_found"
	Conflict     Kind = "conflict"
	Unauthorized Kind = "unauthorized"
	Forbidden    Kind = "forbidden"
	// PaymentFailed: the payment provider declined; nothing was applied.
	PaymentFailed Kind = "payment_failed"
	Internal      Kind = "internal"
)

// FieldError names one bad input field, as a JSON-pointer-like location
// ("body.identifiers.email") with a human message.
type FieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
}

// Error is an error with a kind, a message safe to show to API clients, and
// optional field-level detail.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error // the cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a client-visible message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about a single field.
func Field(location, message string, value any) *Error {
	return &Error{Kind: Invalid, Message: "validation failed",
		Fields: []FieldError{{Location: location, Message: message, Value: value}}}
}

// KindOf reports the kind of err, Internal when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of the given kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// Summary words an error on one line with its fields, for reports that are
// not problem JSON (import rejections, sFTP client errors):
// "message: location message; location message".
func Summary(err error) string {
	e, ok := As(err)
	if !ok {
		return err.Error()
	}
	s := e.Message
	for i, f := range e.Fields {
		if i == 0 {
			s += ": "
		} else {
			s += "; "
		}
		s += f.Location + " " + f.Message
	}
	return s
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Fields returns an Invalid error naming every bad field.
func Fields(fs ...FieldError) *Error {
	return &Error{Kind: Invalid, Message: "validation failed", Fields: fs}
}
