package event_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/event"
)

var received = time.Date(2026, 11, 20, 7, 0, 10, 0, time.UTC)

func TestDecodeBatch_CorrectsClockAndDropsBadItems(t *testing.T) {
	t.Parallel()
	body := `{"batch": [
		{"type": "track", "event": "Product Viewed", "userId": 42, "timestamp": "2026-11-20T07:00:00Z", "messageId": "a"},
		{"type": "track", "userId": "u"},
		{"type": "page", "anonymousId": "x", "properties": [1]},
		{"type": "identify", "anonymousId": "x", "traits": {"email": "a@b.hk"}}
	], "sentAt": "2026-11-20T07:00:05Z", "context": {"library": {"name": "analytics-go"}}, "writeKey": "pk_abc"}`
	b, err := event.DecodeBatch([]byte(body), received)
	if err != nil {
		t.Fatal(err)
	}
	if b.WriteKey != "pk_abc" || len(b.Events) != 2 || len(b.Dropped) != 2 || !slices.Equal(b.Indexes, []int{0, 3}) {
		t.Fatalf("batch: %+v", b)
	}
	e := b.Events[0]
	if e.UserID != "42" || e.Commerce != "product_viewed" || !e.Timestamp.Equal(received.Add(-5*time.Second)) {
		t.Errorf("event: %+v", e)
	}
	if !strings.Contains(string(e.Context), "analytics-go") {
		t.Errorf("batch context not applied: %s", e.Context)
	}
	if b.Events[1].MessageID == "" || !strings.HasPrefix(b.Events[1].MessageID, "omo-") {
		t.Errorf("derived messageId: %q", b.Events[1].MessageID)
	}
	again, _ := event.DecodeBatch([]byte(body), received)
	if again.Events[1].MessageID != b.Events[1].MessageID {
		t.Error("a derived messageId must be stable")
	}
}

func TestDecode_Malformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{`, `[]`, `{"batch": 3}`, `{"nobatch": []}`, strings.Repeat(" ", event.MaxBatchBytes+1)} {
		if _, err := event.DecodeBatch([]byte(body), received); !errors.Is(err, event.ErrMalformed) {
			t.Errorf("%.20q: %v, want ErrMalformed", body, err)
		}
	}
	if _, err := event.DecodeCall("track", []byte(`"x"`), received); !errors.Is(err, event.ErrMalformed) {
		t.Errorf("call: %v", err)
	}
}

func TestIdentityOf_MapsSegmentTraits(t *testing.T) {
	t.Parallel()
	e := event.Event{Type: event.TypeIdentify, UserID: "u1", AnonymousID: "a1",
		Traits:  json.RawMessage(`{"email": "Mei@x.hk", "phone": "+85291234567", "firstName": "Mei", "last_name": "Chan", "birthday": "1990-04-01T00:00:00Z", "plan": "gold", "id": "u1"}`),
		Context: json.RawMessage(`{"traits": {"gender": "female"}}`)}
	id := e.IdentityOf()
	in := id.Identifiers
	if in.Email != "Mei@x.hk" || in.Phone == "" || len(in.External) != 2 || in.External[0].Type != "user_id" || in.External[1].Type != "anonymous_id" {
		t.Errorf("identifiers: %+v", in)
	}
	tr := id.Traits
	if *tr.FirstName != "Mei" || *tr.LastName != "Chan" || *tr.Birthday != "1990-04-01" || *tr.Gender != "female" || tr.Attributes["plan"] != "gold" || tr.Attributes["id"] != nil {
		t.Errorf("traits: %+v", tr)
	}
}

func TestParseOrder_SpreadsAndChecks(t *testing.T) {
	t.Parallel()
	o, err := event.ParseOrder(event.OrderCompleted, json.RawMessage(`{"order_id": "W1", "currency": "hkd", "discount": 10, "tax": 5, "shipping": 20,
		"revenue": 348.02, "total": 373.02, "products": [{"sku": "A", "price": 129.005, "quantity": 2}, {"product_id": "B", "price": 100}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var disc, tax int64
	for _, l := range o.Lines {
		disc += l.Discount
		tax += l.Tax
	}
	if o.Currency != "HKD" || len(o.Lines) != 3 || o.Lines[0].UnitPrice != 12901 || disc != 1000 || tax != 500 || o.Lines[2].SKU != "shipping" {
		t.Errorf("order: %+v", o)
	}
	if _, err := event.ParseOrder(event.OrderCompleted, json.RawMessage(`{"order_id": "W1", "total": 1, "products": [{"sku": "A", "price": 2}]}`)); err == nil {
		t.Error("a wrong total must be an error")
	}
	if got := event.Allocate(10, []int64{1, 1, 1}); !slices.Equal(got, []int64{4, 3, 3}) {
		t.Errorf("allocate: %v", got)
	}
}

// FuzzSegmentPayload feeds the decoder arbitrary bodies: it must never
// panic, and whatever it accepts must be an event it can store.
func FuzzSegmentPayload(f *testing.F) {
	f.Add([]byte(`{"batch":[{"type":"track","event":"Order Completed","userId":"u","properties":{"order_id":"1","products":[{"sku":"a","price":1e2}]}}]}`))
	f.Add([]byte(`{"batch":[{"type":"identify","anonymousId":7,"traits":{"email":"x@y.hk","birthday":"2000-01-01"},"context":{"traits":{"a":null}}}],"context":{"ip":"1"}}`))
	f.Add([]byte(`{"batch":[{"type":"alias","userId":"u","previousId":"a","timestamp":"2026-01-01T00:00:00+08:00","sentAt":"1969-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"batch":[1,null,"x",{"type":"page"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := event.DecodeBatch(body, received)
		if err != nil {
			if !errors.Is(err, event.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if len(b.Events) != len(b.Indexes) {
			t.Fatal("events and indexes differ in length")
		}
		for _, e := range b.Events {
			if e.MessageID == "" || !slices.Contains(event.Types, e.Type) || (e.UserID == "" && e.AnonymousID == "") {
				t.Fatalf("accepted an invalid event: %+v", e)
			}
			for _, raw := range []json.RawMessage{e.Properties, e.Traits, e.Context, e.Integrations} {
				if !json.Valid(raw) || raw[0] != '{' {
					t.Fatalf("stored JSON is not an object: %q", raw)
				}
			}
			_ = e.IdentityOf()
			if e.Commerce != "" {
				_, _ = event.ParseOrder(e.Commerce, e.Properties)
			}
		}
		if c, err := event.DecodeCall(event.TypeTrack, body, received); err == nil && len(c.Events)+len(c.Dropped) != 1 {
			t.Fatalf("a call decodes to one event or one drop: %+v", c)
		}
	})
}
