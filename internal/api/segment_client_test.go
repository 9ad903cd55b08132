package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	analytics "github.com/segmentio/analytics-go/v3"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// outcome collects what the Segment client reports for each message.
type outcome struct {
	mu       sync.Mutex
	ok, fail int
	errs     []error
}

func (o *outcome) Success(analytics.Message) { o.mu.Lock(); o.ok++; o.mu.Unlock() }
func (o *outcome) Failure(_ analytics.Message, err error) {
	o.mu.Lock()
	o.fail++
	o.errs = append(o.errs, err)
	o.mu.Unlock()
}

// TestSegment_OfficialGoClient points Segment's own Go library, unmodified,
// at OMO: an anonymous visitor browses, logs in, and completes an order.
func TestSegment_OfficialGoClient(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.newShop(t)
		key := s.must(t, http.StatusCreated, http.MethodPost, "/v1/keys", sh.Secret,
			map[string]any{"kind": "pk", "scopes": []string{"events:write"}, "sales_channel": "web"}, nil)
		var out outcome
		client, err := analytics.NewWithConfig(key.JSON["secret"].(string), analytics.Config{Endpoint: s.url, BatchSize: 50, Callback: &out})
		if err != nil {
			t.Fatal(err)
		}
		anon := fmt.Sprintf("anon-go-%d", uniq.Add(1))
		user := fmt.Sprintf("user-go-%d", uniq.Add(1))
		mail := email("go")
		msgs := []analytics.Message{
			analytics.Page{AnonymousId: anon, Name: "Home"},
			analytics.Track{AnonymousId: anon, Event: "Product Viewed", Properties: analytics.NewProperties().SetSKU("TEE-M").SetPrice(129)},
			analytics.Track{AnonymousId: anon, Event: "Product Added", Properties: analytics.NewProperties().SetSKU("TEE-M")},
			analytics.Identify{AnonymousId: anon, UserId: user, Traits: analytics.NewTraits().SetEmail(mail).SetFirstName("Mei").SetLastName("Chan")},
			analytics.Track{UserId: user, Event: "Order Completed", Properties: analytics.Properties{"order_id": "GO-" + user, "currency": "HKD",
				"total": 258, "products": []map[string]any{{"sku": "TEE-M", "price": 129, "quantity": 2}}}},
			analytics.Screen{UserId: user, Name: "Order Confirmation"},
			analytics.Group{UserId: user, GroupId: "company-1", Traits: analytics.NewTraits().SetName("Acme")},
			analytics.Alias{UserId: user, PreviousId: anon},
		}
		for _, m := range msgs {
			if err := client.Enqueue(m); err != nil {
				t.Fatalf("enqueue %T: %v", m, err)
			}
		}
		if err := client.Close(); err != nil { // flushes
			t.Fatal(err)
		}
		if out.ok != len(msgs) || out.fail != 0 {
			t.Fatalf("client reported %d ok, %d failed: %v", out.ok, out.fail, out.errs)
		}
		found := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?email="+mail, sh.Secret, nil, nil))
		if len(found.Data) != 1 || found.Data[0].Traits["first_name"] != "Mei" {
			t.Fatalf("customer: %+v", found.Data)
		}
		cid := found.Data[0].ID
		evs := decode[page[eventJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/events", sh.Secret, nil, nil))
		if len(evs.Data) != len(msgs) {
			t.Errorf("want all %d events on the customer, got %d", len(msgs), len(evs.Data))
		}
		ts := decode[page[transactionJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/transactions", sh.Secret, nil, nil))
		if len(ts.Data) != 1 || ts.Data[0].Totals.Total.Amount != 25800 {
			t.Errorf("transactions: %+v", ts.Data)
		}
	})
}
