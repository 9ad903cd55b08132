package ingest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/event"
)

var plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// eventRow maps a row of an events import to a Segment call and decodes it
// with the tracking API's own decoder, so a file and /v1/batch record the
// same event the same way. Without a message_id column the decoder derives
// one from the call, so importing the same file again is a duplicate.
func (r *rowMapper) eventRow(row Row, receivedAt time.Time) (event.Event, error) {
	g := &fieldGetter{m: r.m, row: row}
	typ := strings.ToLower(strings.TrimSpace(g.get("type")))
	if typ == "" {
		typ = "track"
	}
	call := map[string]any{"type": typ}
	name, ts := g.get("name"), g.get("timestamp")
	for k, f := range map[string]string{"userId": "user_id", "anonymousId": "anonymous_id", "messageId": "message_id"} {
		if v := g.get(f); v != "" {
			call[k] = v
		}
	}
	props, err := r.objectFields(g, "properties")
	if err != nil {
		return event.Event{}, err
	}
	traits, err := r.objectFields(g, "traits")
	if err != nil {
		return event.Event{}, err
	}
	if g.err != nil {
		return event.Event{}, g.err
	}
	at, err := parseTime(ts, r.m.TimeFormat, r.loc)
	if err != nil {
		return event.Event{}, fmt.Errorf("timestamp %w", err)
	}
	call["timestamp"] = at.UTC().Format(time.RFC3339Nano)
	switch typ {
	case "track":
		call["event"] = name
	case "page", "screen":
		call["name"] = name
	}
	if len(props) > 0 {
		call["properties"] = props
	}
	if len(traits) > 0 {
		call["traits"] = traits
	}
	body, err := json.Marshal(call)
	if err != nil {
		return event.Event{}, err
	}
	b, err := event.DecodeCall(typ, body, receivedAt)
	if err != nil {
		return event.Event{}, err
	}
	if len(b.Dropped) > 0 {
		return event.Event{}, fmt.Errorf("%s", b.Dropped[0].Reason)
	}
	if len(b.Events) != 1 {
		return event.Event{}, fmt.Errorf("the row is not an event")
	}
	return b.Events[0], nil
}

// objectFields builds an object from the field named field (a column that
// holds a JSON object, as JSON Lines files carry nested properties) and the
// field.<name> fields on top of it; values that are plain decimal numbers
// become JSON numbers (prices, quantities), the rest stay strings.
func (r *rowMapper) objectFields(g *fieldGetter, field string) (map[string]any, error) {
	out := map[string]any{}
	if whole := g.get(field); whole != "" {
		dec := json.NewDecoder(strings.NewReader(whole))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object: %v", field, err)
		}
	}
	prefix := field + "."
	for name := range r.m.Fields {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		v := g.get(name)
		if v == "" {
			continue
		}
		if plainNumber.MatchString(v) {
			out[strings.TrimPrefix(name, prefix)] = json.Number(v)
		} else {
			out[strings.TrimPrefix(name, prefix)] = v
		}
	}
	return out, nil
}
