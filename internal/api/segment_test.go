package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// basic is the Authorization header Segment's libraries send: the write key
// as the Basic-auth user name, no password.
func basic(key string) h {
	return h{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))}
}

type segmentAnswer struct {
	Success    bool `json:"success"`
	Accepted   int  `json:"accepted"`
	Duplicates int  `json:"duplicates"`
	Dropped    []struct {
		Index     int    `json:"index"`
		MessageID string `json:"messageId"`
		Reason    string `json:"reason"`
	} `json:"dropped"`
	Notes []struct {
		Index int    `json:"index"`
		Note  string `json:"note"`
	} `json:"notes"`
	Transactions []struct {
		Index         int    `json:"index"`
		TransactionID string `json:"transactionId"`
	} `json:"transactions"`
}

func (s *server) segment(t *testing.T, key, path string, body any) segmentAnswer {
	t.Helper()
	return decode[segmentAnswer](t, s.must(t, http.StatusOK, http.MethodPost, path, "", body, basic(key)))
}

type eventJSON struct {
	ID         string         `json:"id"`
	MessageID  string         `json:"message_id"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	CustomerID string         `json:"customer_id"`
	Commerce   string         `json:"ecommerce_action"`
	Properties map[string]any `json:"properties"`
}

func msg(typ string, kv ...any) map[string]any {
	m := map[string]any{"type": typ, "messageId": fmt.Sprintf("m-%d", uniq.Add(1)), "timestamp": "2026-11-20T07:04:05Z"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestSegment_AnonymousVisitorBecomesKnownCustomerWithEarlierEvents(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		anon := fmt.Sprintf("anon-%d", uniq.Add(1))
		ans := s.segment(t, c.Secret, "/v1/batch", map[string]any{"batch": []any{
			msg("page", "anonymousId", anon, "name", "Home"),
			msg("track", "anonymousId", anon, "event", "Product Viewed", "properties", map[string]any{"sku": "TEE-M", "price": 129}),
			msg("track", "anonymousId", anon, "event", "Product Added", "properties", map[string]any{"sku": "TEE-M"}),
		}})
		if ans.Accepted != 3 || len(ans.Dropped) != 0 || !ans.Success {
			t.Fatalf("anonymous batch: %+v", ans)
		}
		mail := email("mei")
		ans = s.segment(t, c.Secret, "/v1/identify", msg("identify", "userId", "u-1029", "anonymousId", anon,
			"traits", map[string]any{"email": mail, "firstName": "Mei", "lastName": "Chan", "loyalty_tier": "gold"}))
		if ans.Accepted != 1 {
			t.Fatalf("identify: %+v", ans)
		}
		s.segment(t, c.Secret, "/v1/track", msg("track", "userId", "u-1029", "event", "Cart Viewed",
			"context", map[string]any{"traits": map[string]any{"gender": "female"}}))
		found := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?email="+mail, c.Secret, nil, nil))
		if len(found.Data) != 1 {
			t.Fatalf("customers by email: %+v", found)
		}
		cus := found.Data[0]
		if cus.Traits["first_name"] != "Mei" || cus.Traits["gender"] != "female" {
			t.Errorf("traits and context.traits should update the profile: %+v", cus.Traits)
		}
		evs := decode[page[eventJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cus.ID+"/events", c.Secret, nil, nil))
		if len(evs.Data) != 5 {
			t.Fatalf("want the 3 anonymous events and 2 known ones on one customer, got %d: %+v", len(evs.Data), evs.Data)
		}
		viewed := decode[page[eventJSON]](t, s.must(t, http.StatusOK, http.MethodGet,
			"/v1/customers/"+cus.ID+"/events?name=Product%20Viewed&since=2026-11-20T00:00:00Z&until=2026-11-21T00:00:00Z", c.Secret, nil, nil))
		if len(viewed.Data) != 1 || viewed.Data[0].Commerce != "product_viewed" {
			t.Errorf("name filter: %+v", viewed.Data)
		}
		none := decode[page[eventJSON]](t, s.must(t, http.StatusOK, http.MethodGet,
			"/v1/customers/"+cus.ID+"/events?until=2026-11-20T00:00:00Z", c.Secret, nil, nil))
		if len(none.Data) != 0 {
			t.Errorf("until filter: %+v", none.Data)
		}
		tl := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cus.ID+"/timeline", c.Secret, nil, nil))
		events := 0
		for _, it := range tl.Data {
			if it["type"] == "event" {
				events++
			}
		}
		if events != 5 {
			t.Errorf("timeline: %d events, want 5", events)
		}
	})
}

func TestSegment_DuplicatesDropsAndAuth(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		c := s.newTenant(t)
		m := msg("track", "userId", "u-7", "event", "Signed Up")
		if a := s.segment(t, c.Secret, "/v1/track", m); a.Accepted != 1 {
			t.Fatalf("first: %+v", a)
		}
		a := s.segment(t, c.Secret, "/v1/batch", map[string]any{"batch": []any{
			m,                               // recorded before
			msg("track", "userId", "u-7"),   // no event name
			msg("track", "event", "No One"), // no user
			msg("bogus", "userId", "u-7"),   // no such type
			"not an object",                 // not a call
			msg("track", "userId", "u-7", "event", "Ok", "properties", map[string]any{"pad": strings.Repeat("x", 33<<10)}),
			msg("page", "userId", "u-7", "name", "Home"),
		}})
		if a.Accepted != 1 || a.Duplicates != 1 || len(a.Dropped) != 5 {
			t.Fatalf("want 1 accepted, 1 duplicate, 5 dropped: %+v", a)
		}
		for i, d := range a.Dropped {
			if d.Index != i+1 || d.Reason == "" {
				t.Errorf("dropped[%d] = %+v", i, d)
			}
		}
		// Segment's answers: 400 for malformed JSON or oversize, 401 without a key.
		assertProblem(t, s.do(t, http.MethodPost, "/v1/batch", "", `{"batch": [`, basic(c.Secret)), http.StatusBadRequest)
		big := map[string]any{"batch": []any{}}
		var items []any
		for range 20 {
			items = append(items, msg("track", "userId", "u-7", "event", "Big", "properties", map[string]any{"pad": strings.Repeat("y", 30<<10)}))
		}
		big["batch"] = items
		assertProblem(t, s.do(t, http.MethodPost, "/v1/batch", "", big, basic(c.Secret)), http.StatusBadRequest)
		one := msg("track", "userId", "u-7", "event", "Big", "properties", map[string]any{"pad": strings.Repeat("z", 33<<10)})
		assertProblem(t, s.do(t, http.MethodPost, "/v1/track", "", one, basic(c.Secret)), http.StatusBadRequest)
		assertProblem(t, s.do(t, http.MethodPost, "/v1/track", "", msg("track", "userId", "u", "event", "E"), nil), http.StatusUnauthorized)
		assertProblem(t, s.do(t, http.MethodPost, "/v1/track", "", msg("track", "userId", "u", "event", "E"), basic("sk_wrong")), http.StatusUnauthorized)
		// The write key in the body works too; a key without events:write does not.
		wk := msg("track", "userId", "u-8", "event", "E")
		wk["writeKey"] = c.Secret
		if a := decode[segmentAnswer](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/track", "", wk, nil)); a.Accepted != 1 {
			t.Errorf("writeKey in body: %+v", a)
		}
		reader := s.newKey(t, c.TenantID, "customers:read")
		assertProblem(t, s.do(t, http.MethodPost, "/v1/track", "", msg("track", "userId", "u", "event", "E"), basic(reader.Secret)), http.StatusForbidden)
		// Only the tracking routes take Basic auth.
		assertProblem(t, s.do(t, http.MethodGet, "/v1/keys", "", nil, basic(c.Secret)), http.StatusUnauthorized)
		// A publishable key with events:write, as web and app SDKs embed.
		pk := s.must(t, http.StatusCreated, http.MethodPost, "/v1/keys", c.Secret, map[string]any{"kind": "pk", "scopes": []string{"events:write"}}, nil)
		if a := s.segment(t, pk.JSON["secret"].(string), "/v1/page", msg("page", "anonymousId", "a-1", "name", "Home")); a.Accepted != 1 {
			t.Errorf("publishable key: %+v", a)
		}
	})
}

func order(orderID string, extra ...any) map[string]any {
	props := map[string]any{"order_id": orderID, "currency": "HKD", "revenue": 357.8, "tax": 0, "shipping": 20, "total": 377.8, "discount": 0,
		"products": []map[string]any{
			{"product_id": "p-1", "sku": "TEE-M", "name": "Tee", "category": "tops", "price": 129.4, "quantity": 2},
			{"product_id": "CAP", "price": 99, "quantity": 1},
		}}
	for i := 0; i+1 < len(extra); i += 2 {
		props[extra[i].(string)] = extra[i+1]
	}
	return props
}

func TestSegment_OrderCompletedIsAPurchaseAndRefundAReturn(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.newShop(t)
		key := s.must(t, http.StatusCreated, http.MethodPost, "/v1/keys", sh.Secret, map[string]any{"scopes": []string{"events:write"}, "sales_channel": "web"}, nil)
		if key.JSON["sales_channel_id"] == nil {
			t.Errorf("key shows no sales channel: %s", key)
		}
		wk := key.JSON["secret"].(string)
		oid := fmt.Sprintf("WEB-%d", uniq.Add(1))
		a := s.segment(t, wk, "/v1/track", msg("track", "userId", "u-55", "event", "Order Completed", "properties", order(oid)))
		if a.Accepted != 1 || len(a.Transactions) != 1 {
			t.Fatalf("order: %+v", a)
		}
		tr := decode[transactionJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/transactions/"+a.Transactions[0].TransactionID, sh.Secret, nil, nil))
		if tr.Kind != "purchase" || tr.Totals.Total.Amount != 37780 || tr.Currency != "HKD" || len(tr.Lines) != 3 {
			t.Errorf("transaction: %+v", tr)
		}
		// The same order resent under another messageId applies nothing twice.
		again := s.segment(t, wk, "/v1/track", msg("track", "userId", "u-55", "event", "Order Completed", "properties", order(oid)))
		if len(again.Transactions) != 1 || again.Transactions[0].TransactionID != a.Transactions[0].TransactionID {
			t.Errorf("resend: %+v", again)
		}
		sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+tr.CustomerID+"/sales_summary", sh.Secret, nil, nil))
		if len(sum.Data) != 1 || sum.Data[0].Purchases != 1 {
			t.Fatalf("summary after resend: %+v", sum)
		}
		// A stated total that disagrees keeps the event but records nothing.
		bad := s.segment(t, wk, "/v1/track", msg("track", "userId", "u-55", "event", "Order Completed", "properties", order(oid+"-b", "total", 1)))
		if bad.Accepted != 1 || len(bad.Transactions) != 0 || len(bad.Notes) != 1 || !strings.Contains(bad.Notes[0].Note, "total") {
			t.Errorf("bad total: %+v", bad)
		}
		// A key bound to no sales channel: the event is kept, the report says why no transaction.
		nokey := s.segment(t, sh.Secret, "/v1/track", msg("track", "userId", "u-55", "event", "Order Completed", "properties", order(oid+"-c")))
		if nokey.Accepted != 1 || len(nokey.Notes) != 1 || !strings.Contains(nokey.Notes[0].Note, "sales channel") {
			t.Errorf("no channel: %+v", nokey)
		}
		// A full refund gives the whole order back.
		ref := s.segment(t, wk, "/v1/track", msg("track", "userId", "u-55", "event", "Order Refunded", "properties", map[string]any{"order_id": oid}))
		if len(ref.Transactions) != 1 {
			t.Fatalf("refund: %+v", ref)
		}
		ret := decode[transactionJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/transactions/"+ref.Transactions[0].TransactionID, sh.Secret, nil, nil))
		if ret.Kind != "return" || ret.Totals.Total.Amount != 37780 || ret.OriginalID != tr.ID {
			t.Errorf("return: %+v", ret)
		}
		sum = decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+tr.CustomerID+"/sales_summary", sh.Secret, nil, nil))
		if sum.Data[0].Returns != 1 {
			t.Errorf("summary after refund: %+v", sum)
		}
	})
}
