package event

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// segmentJSON reads calls as encoding/json reads them (member names matched
// without regard to case, the last of repeated names wins, invalid UTF-8 left
// for decodeItem to report per item), with encoding/json/v2's decoder, which
// checks and decodes in one pass: encoding/json scans a body once to check it
// and again to decode it, and again for every raw member, and that cost more
// CPU than storing the events.
var segmentJSON = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// ErrMalformed is a body that cannot be read at all: not JSON, too large, or
// not shaped like a Segment call. Segment answers it with 400.
var ErrMalformed = errors.New("malformed Segment payload")

// Batch is a decoded Segment request: the events that passed validation and
// the items dropped, each with its reason.
type Batch struct {
	WriteKey string
	Events   []Event
	Indexes  []int // Indexes[i] is the position of Events[i] in the request
	Dropped  []Dropped
}

// Dropped is an item of a request that was not recorded, and why.
type Dropped struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId,omitempty"`
	Reason    string `json:"reason"`
}

// wire is one Segment call as sent. Ids are raw because some libraries send
// numeric user ids.
type wire struct {
	Type         string         `json:"type"`
	MessageID    jsontext.Value `json:"messageId"`
	UserID       jsontext.Value `json:"userId"`
	AnonymousID  jsontext.Value `json:"anonymousId"`
	PreviousID   jsontext.Value `json:"previousId"`
	GroupID      jsontext.Value `json:"groupId"`
	Event        jsontext.Value `json:"event"`
	Name         jsontext.Value `json:"name"`
	Timestamp    jsontext.Value `json:"timestamp"`
	SentAt       jsontext.Value `json:"sentAt"`
	Properties   jsontext.Value `json:"properties"`
	Traits       jsontext.Value `json:"traits"`
	Context      jsontext.Value `json:"context"`
	Integrations jsontext.Value `json:"integrations"`
	WriteKey     string         `json:"writeKey"`
}

// wireBatch is the body of /v1/batch and /v1/import.
type wireBatch struct {
	Batch        *[]jsontext.Value `json:"batch"`
	SentAt       jsontext.Value    `json:"sentAt"`
	Context      jsontext.Value    `json:"context"`
	Integrations jsontext.Value    `json:"integrations"`
	WriteKey     string            `json:"writeKey"`
}

// DecodeBatch reads a /v1/batch (or /v1/import) body received at
// receivedAt. It returns ErrMalformed (wrapped) for a body that is not a
// batch at all; a bad item is dropped alone, with its reason.
func DecodeBatch(body []byte, receivedAt time.Time) (Batch, error) {
	if len(body) > MaxBatchBytes {
		return Batch{}, fmt.Errorf("%w: the batch is larger than 500 KB", ErrMalformed)
	}
	var wb wireBatch
	if err := jsonv2.Unmarshal(body, &wb, segmentJSON); err != nil {
		return Batch{}, fmt.Errorf("%w: %s", ErrMalformed, jsonError(err))
	}
	if wb.Batch == nil {
		return Batch{}, fmt.Errorf("%w: a batch needs a \"batch\" array of calls", ErrMalformed)
	}
	items := *wb.Batch
	if len(items) > MaxBatchItems {
		return Batch{}, fmt.Errorf("%w: at most %d calls per batch", ErrMalformed, MaxBatchItems)
	}
	b := Batch{WriteKey: wb.WriteKey}
	shared := shared{context: objectOrNil(wb.Context), integrations: objectOrNil(wb.Integrations)}
	if t, ok := parseTime(wb.SentAt); ok {
		shared.sentAt = t
	}
	for i, raw := range items {
		e, mid, reason := decodeItem(raw, "", receivedAt, shared)
		if reason != "" {
			b.Dropped = append(b.Dropped, Dropped{Index: i, MessageID: mid, Reason: reason})
			continue
		}
		if b.WriteKey == "" {
			b.WriteKey = e.writeKey
		}
		b.Events = append(b.Events, e.Event)
		b.Indexes = append(b.Indexes, i)
	}
	return b, nil
}

// DecodeCall reads the body of a single call (/v1/identify, /v1/track, …);
// typ is the route's type. A body over 32 KB or that is not a JSON object is
// ErrMalformed; a call that is JSON but invalid comes back dropped.
func DecodeCall(typ string, body []byte, receivedAt time.Time) (Batch, error) {
	if len(body) > MaxEventBytes {
		return Batch{}, fmt.Errorf("%w: an event is limited to 32 KB", ErrMalformed)
	}
	var probe map[string]jsontext.Value
	if err := jsonv2.Unmarshal(body, &probe, segmentJSON); err != nil {
		return Batch{}, fmt.Errorf("%w: %s", ErrMalformed, jsonError(err))
	}
	e, mid, reason := decodeItem(body, typ, receivedAt, shared{})
	b := Batch{}
	if reason != "" {
		b.Dropped = []Dropped{{Index: 0, MessageID: mid, Reason: reason}}
		var w struct {
			WriteKey string `json:"writeKey"`
		}
		_ = json.Unmarshal(body, &w)
		b.WriteKey = w.WriteKey
		return b, nil
	}
	b.WriteKey = e.writeKey
	b.Events, b.Indexes = []Event{e.Event}, []int{0}
	return b, nil
}

// shared is what a batch gives all its items.
type shared struct {
	context, integrations json.RawMessage
	sentAt                *time.Time
}

type decoded struct {
	Event
	writeKey string
}

// decodeItem validates one call. It returns the reason it is dropped, if it is.
func decodeItem(raw []byte, forceType string, receivedAt time.Time, sh shared) (decoded, string, string) {
	var d decoded
	if len(raw) > MaxEventBytes {
		return d, peekMessageID(raw), "the event is larger than 32 KB"
	}
	if !utf8.Valid(raw) {
		return d, "", "the event is not valid UTF-8"
	}
	var w wire
	if err := jsonv2.Unmarshal(raw, &w, segmentJSON); err != nil {
		return d, "", "not a JSON object: " + jsonError(err)
	}
	mid, ok := idString(w.MessageID)
	if !ok || len(mid) > maxIDBytes {
		return d, "", "messageId must be a string of at most 200 bytes"
	}
	if mid == "" {
		mid = derivedMessageID(raw)
	}
	e := &d.Event
	e.MessageID, e.ReceivedAt = mid, receivedAt.UTC().Truncate(time.Microsecond)
	e.Type = strings.ToLower(strings.TrimSpace(w.Type))
	if forceType != "" {
		e.Type = forceType
	}
	if !slices.Contains(Types, e.Type) {
		return d, mid, fmt.Sprintf("type %q is not one of %s", w.Type, strings.Join(Types, ", "))
	}
	if reason := d.readIDs(w); reason != "" {
		return d, mid, reason
	}
	if reason := d.readTimes(w, sh); reason != "" {
		return d, mid, reason
	}
	for _, f := range []struct {
		name string
		in   []byte
		out  *json.RawMessage
	}{{"properties", w.Properties, &e.Properties}, {"traits", w.Traits, &e.Traits}, {"context", w.Context, &e.Context},
		{"integrations", w.Integrations, &e.Integrations}} {
		obj, ok := object(f.in)
		if !ok {
			return d, mid, f.name + " must be a JSON object"
		}
		*f.out = obj
	}
	var err error
	if e.Context, err = mergeObjects(e.Context, sh.context); err != nil {
		return d, mid, "context: " + err.Error()
	}
	if e.Integrations, err = mergeObjects(e.Integrations, sh.integrations); err != nil {
		return d, mid, "integrations: " + err.Error()
	}
	if e.Type == TypeTrack {
		e.Commerce = CommerceAction(e.Name)
	}
	d.writeKey = w.WriteKey
	return d, mid, ""
}

// readIDs reads the user ids and the event's name, checking what each type requires.
func (d *decoded) readIDs(w wire) string {
	e := &d.Event
	fields := []struct {
		name string
		raw  []byte
		out  *string
		max  int
	}{{"userId", w.UserID, &e.UserID, maxIDBytes}, {"anonymousId", w.AnonymousID, &e.AnonymousID, maxIDBytes},
		{"previousId", w.PreviousID, &e.PreviousID, maxIDBytes}, {"groupId", w.GroupID, &e.GroupID, maxIDBytes},
		{"event", w.Event, &e.Name, maxNameBytes}}
	if e.Type == TypePage || e.Type == TypeScreen {
		fields[4] = struct {
			name string
			raw  []byte
			out  *string
			max  int
		}{"name", w.Name, &e.Name, maxNameBytes}
	}
	for _, f := range fields {
		v, ok := idString(f.raw)
		if !ok || len(v) > f.max || strings.ContainsRune(v, 0) {
			return fmt.Sprintf("%s must be a string of at most %d bytes", f.name, f.max)
		}
		*f.out = strings.TrimSpace(v)
	}
	switch {
	case e.Type == TypeAlias && (e.UserID == "" || e.PreviousID == ""):
		return "alias needs userId and previousId"
	case e.UserID == "" && e.AnonymousID == "":
		return "userId or anonymousId is required"
	case e.Type == TypeTrack && e.Name == "":
		return "track needs an event name"
	case e.Type == TypeGroup && e.GroupID == "":
		return "group needs a groupId"
	}
	if e.Type == TypeGroup {
		e.Name = e.GroupID
	}
	if e.Type != TypeTrack && e.Type != TypePage && e.Type != TypeScreen && e.Type != TypeGroup {
		e.Name = ""
	}
	return ""
}

// readTimes sets the event's times. Like Segment, it corrects the device's
// clock: timestamp + (receivedAt − sentAt).
func (d *decoded) readTimes(w wire, sh shared) string {
	e := &d.Event
	ts, ok := parseTime(w.Timestamp)
	if !ok {
		return "timestamp must be an ISO 8601 time between 1970 and 2200"
	}
	sent, ok := parseTime(w.SentAt)
	if !ok {
		return "sentAt must be an ISO 8601 time between 1970 and 2200"
	}
	if sent == nil {
		sent = sh.sentAt
	}
	e.OriginalTimestamp, e.SentAt = ts, sent
	switch {
	case ts == nil:
		e.Timestamp = e.ReceivedAt
	case sent != nil:
		e.Timestamp = ts.Add(e.ReceivedAt.Sub(*sent)).UTC()
	default:
		e.Timestamp = ts.UTC()
	}
	e.Timestamp = e.Timestamp.Truncate(time.Microsecond)
	return ""
}

var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseTime reads an optional ISO 8601 time; ok is false for a bad one.
func parseTime(raw []byte) (*time.Time, bool) {
	if isNull(raw) {
		return nil, true
	}
	s, ok := unquote(raw)
	if !ok {
		return nil, false
	}
	if strings.TrimSpace(s) == "" {
		return nil, true
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil || t.Before(minTime) || !t.Before(maxTime) {
		return nil, false
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t, true
}

// idString reads an id sent as a string or a number; null and absent are "".
func idString(raw []byte) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	switch raw[0] {
	case '"':
		return unquote(raw)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return "", false
		}
		return string(raw), true
	}
	return "", false
}

// unquote reads a JSON string; ok is false for any other value.
func unquote(raw []byte) (string, bool) {
	b, err := jsontext.AppendUnquote(nil, bytes.TrimSpace(raw))
	return string(b), err == nil
}

func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// object returns a JSON object, "{}" for null or absent; ok is false for any
// other JSON value.
func object(raw []byte) (json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return json.RawMessage("{}"), true
	}
	return raw, raw[0] == '{'
}

func objectOrNil(raw []byte) json.RawMessage {
	o, ok := object(raw)
	if !ok || string(o) == "{}" {
		return nil
	}
	return o
}

// mergeObjects adds to obj the members of defaults it lacks.
func mergeObjects(obj, defaults json.RawMessage) (json.RawMessage, error) {
	if defaults == nil {
		return obj, nil
	}
	var m, dm map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(defaults, &dm); err != nil {
		return nil, err
	}
	for k, v := range dm {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// derivedMessageID is the messageId of a call that came without one: a hash
// of the call, so the same call sent twice is recorded once.
func derivedMessageID(raw []byte) string {
	sum := sha256.Sum256(bytes.TrimSpace(raw))
	return "omo-" + hex.EncodeToString(sum[:16])
}

// peekMessageID reads the messageId of an item that is otherwise dropped.
func peekMessageID(raw []byte) string {
	var w struct {
		MessageID json.RawMessage `json:"messageId"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return ""
	}
	s, ok := idString(w.MessageID)
	if !ok || len(s) > maxIDBytes || !utf8.ValidString(s) {
		return ""
	}
	return s
}

// jsonError describes a decoding error without echoing the input.
func jsonError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must not be a JSON %s", te.Field, te.Value)
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return fmt.Sprintf("invalid JSON at byte %d", syn.ByteOffset)
	}
	var sem *jsonv2.SemanticError
	if errors.As(err, &sem) && sem.JSONPointer != "" && sem.JSONKind != 0 {
		field := strings.ReplaceAll(strings.TrimPrefix(string(sem.JSONPointer), "/"), "/", ".")
		return fmt.Sprintf("%s must not be a JSON %s", field, kindNames[sem.JSONKind])
	}
	return "invalid JSON"
}

// kindNames name JSON kinds as encoding/json's errors do.
var kindNames = map[jsontext.Kind]string{'n': "null", 'f': "bool", 't': "bool", '"': "string", '0': "number", '{': "object", '[': "array"}
