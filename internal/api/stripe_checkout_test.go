package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/omo-platform/omo/internal/api"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/payment"
	"github.com/omo-platform/omo/internal/payment/paymenttest"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

const stripeWebhookSecret = "whsec_omo_checkout_test"

func stripeServer(t *testing.T, db *sqldb.DB, base string) *server {
	t.Helper()
	reg, err := payment.NewRegistry(payment.Config{StripeSecretKey: "sk_test_omo", StripeWebhookSecret: stripeWebhookSecret, StripeAPIBase: base})
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, db, func(d *api.Deps) { d.Payments = reg })
}

// TestCheckout_PointsAndADeclinedCardThroughStripeMock pays part of a sale
// with points and the rest by card through Stripe's own stripe-mock, whose
// PaymentIntent comes back with a payment error: the checkout is a 402 and
// nothing moved: the points, the cart and the stock are as they were.
func TestCheckout_PointsAndADeclinedCardThroughStripeMock(t *testing.T) {
	t.Parallel()
	base := paymenttest.StripeMock(t)
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := stripeServer(t, db, base)
		sh := s.loyaltyShopFor(t, s.newShop(t))
		s.catalogShop(t, sh)
		cus := s.member(t, sh, "stripe-declined", 500)
		cart := s.openCart(t, sh)
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/carts/"+cart, sh.Secret, map[string]any{"customer_id": cus}, nil)
		s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "TEE-M", "quantity": 1, "fulfilment": "take_now"}, nil)
		c := s.must(t, http.StatusOK, http.MethodPut, "/v1/carts/"+cart+"/points", sh.Secret, map[string]any{"points": 100}, nil)
		if c.JSON["totals"].(map[string]any)["points_amount"].(float64) <= 0 {
			t.Fatalf("points pay nothing: %s", c)
		}
		r := s.do(t, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret,
			map[string]any{"payment": map[string]any{"method": "card", "payment_method": "pm_card_visa"}}, nil)
		assertProblem(t, r, http.StatusPaymentRequired)
		acct := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cus+"/loyalty", sh.Secret, nil, nil)
		if b := acct.JSON["balances"].(map[string]any); b["available"].(float64) != 500 || b["held"].(float64) != 0 {
			t.Fatalf("a declined card moved points: %s", acct)
		}
		if again := s.must(t, http.StatusOK, http.MethodGet, "/v1/carts/"+cart, sh.Secret, nil, nil); again.JSON["status"] != "open" {
			t.Fatalf("cart after the decline: %s", again)
		}
		lvl := s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory?sku=TEE-M", sh.Secret, nil, nil)
		if !strings.Contains(string(lvl.Raw), `"reserved":0`) {
			t.Fatalf("stock held after the decline: %s", lvl)
		}
	})
}

// TestCheckout_AlipayConfirmedBySignedWebhook pays a counter sale with
// Alipay through a peer answering in Stripe's format (stripe-mock answers
// fixtures only): the PaymentIntent needs the shopper, so the order waits
// with its stock and the goods stay; Stripe's signed
// payment_intent.succeeded event confirms it once (a replay applies
// nothing), the sale is recorded and the goods are handed over.
func TestCheckout_AlipayConfirmedBySignedWebhook(t *testing.T) {
	t.Parallel()
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Path != "/v1/payment_intents" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"unexpected `+r.URL.Path+`"}}`)
			return
		}
		_, _ = io.WriteString(w, alipayIntent("pi_omo_alipay", "requires_action"))
	}))
	t.Cleanup(peer.Close)
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := stripeServer(t, db, peer.URL)
		sh := s.newShop(t)
		s.catalogShop(t, sh)
		o := s.alipayCounterSale(t, sh)
		if o.JSON["payment_status"] != "awaiting_payment" || o.JSON["next_action"] == nil {
			t.Fatalf("Alipay order: %s", o)
		}
		if ship := o.JSON["shipments"].([]any)[0].(map[string]any); ship["status"] != "allocated" {
			t.Fatalf("goods handed over before the payment: %s", o)
		}
		payload := succeededEvent("evt_omo_1", "pi_omo_alipay", "")
		hook := "/webhooks/stripe/" + id.Format(id.Tenant, sh.TenantID)
		if bad := s.post(t, hook, payload, "t=1,v1=00"); bad.StatusCode != http.StatusBadRequest {
			t.Fatalf("a badly signed webhook: %d", bad.StatusCode)
		}
		sig := sign(payload)
		for i, want := range []bool{true, false} {
			r := s.post(t, hook, payload, sig)
			var out struct{ Applied bool }
			if r.StatusCode != http.StatusOK || json.NewDecoder(r.Body).Decode(&out) != nil || out.Applied != want {
				t.Fatalf("delivery %d: %d applied=%v", i, r.StatusCode, out.Applied)
			}
		}
		paid := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+o.JSON["id"].(string), sh.Secret, nil, nil)
		if paid.JSON["payment_status"] != "paid" || paid.JSON["status"] != "fulfilled" || paid.JSON["transaction_id"] == nil {
			t.Fatalf("after Stripe's confirmation: %s", paid)
		}
	})
}

// post sends a webhook as Stripe does: no API key, a signature header.
func (s *server) post(t *testing.T, path string, body []byte, signature string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Stripe-Signature", signature)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Body.Close() })
	return r
}

// TestCheckout_StripeConnectPerBrand pays through the brand's connected
// Stripe account: the PaymentIntent is created with its Stripe-Account
// header, and only events of that account confirm the brand's orders.
func TestCheckout_StripeConnectPerBrand(t *testing.T) {
	t.Parallel()
	accounts := make(chan string, 16)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		accounts <- r.URL.Path + " " + r.Header.Get("Stripe-Account")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/refunds" {
			_, _ = io.WriteString(w, `{"id":"re_omo_connect","object":"refund","amount":20000,"status":"succeeded","payment_intent":"pi_omo_connect"}`)
			return
		}
		_, _ = io.WriteString(w, alipayIntent("pi_omo_connect", "requires_action"))
	}))
	t.Cleanup(peer.Close)
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := stripeServer(t, db, peer.URL)
		sh := s.newShop(t)
		s.catalogShop(t, sh)
		bad := s.do(t, http.MethodPut, "/v1/commerce/settings", sh.Secret, map[string]any{"shipping": []any{}, "stripe_account": "acct-1"}, nil)
		assertProblem(t, bad, http.StatusBadRequest)
		if !strings.Contains(string(bad.Raw), "body.stripe_account") {
			t.Fatalf("the problem does not name the field: %s", bad)
		}
		till := s.must(t, http.StatusCreated, http.MethodPost, "/v1/keys", sh.Secret, map[string]any{"scopes": []string{"orders:read", "orders:write"}}, nil)
		assertProblem(t, s.do(t, http.MethodPut, "/v1/commerce/settings", till.JSON["secret"].(string),
			map[string]any{"shipping": []any{}, "stripe_account": "acct_1Thief"}, nil), http.StatusForbidden)
		s.must(t, http.StatusOK, http.MethodPut, "/v1/commerce/settings", sh.Secret, map[string]any{"shipping": []any{}, "stripe_account": "acct_1OmoBrandHK"}, nil)
		o := s.alipayCounterSale(t, sh)
		if got := <-accounts; got != "/v1/payment_intents acct_1OmoBrandHK" {
			t.Fatalf("the PaymentIntent was created as %q", got)
		}
		event := func(account string) []byte { return succeededEvent("evt_omo_connect", "pi_omo_connect", account) }
		hook := "/webhooks/stripe/" + id.Format(id.Tenant, sh.TenantID)
		for _, other := range []string{"", "acct_1SomeoneElse"} {
			if r := s.post(t, hook, event(other), sign(event(other))); r.StatusCode != http.StatusBadRequest {
				t.Fatalf("an event of account %q applied to the brand: %d", other, r.StatusCode)
			}
		}
		// The platform's one Connect endpoint finds the brand by the payment.
		unknown := []byte(strings.Replace(string(event("acct_1OmoBrandHK")), `"id":"pi_omo_connect"`, `"id":"pi_someone_else"`, 1))
		var out struct{ Applied bool }
		if r := s.post(t, "/webhooks/stripe", unknown, sign(unknown)); r.StatusCode != http.StatusOK || json.NewDecoder(r.Body).Decode(&out) != nil || out.Applied {
			t.Fatalf("an event about no payment of OMO's: %d applied=%v", r.StatusCode, out.Applied)
		}
		if r := s.post(t, "/webhooks/stripe", event("acct_1OmoBrandHK"), sign(event("acct_1OmoBrandHK"))); r.StatusCode != http.StatusOK ||
			json.NewDecoder(r.Body).Decode(&out) != nil || !out.Applied {
			t.Fatalf("the brand's own event on the Connect endpoint: %d applied=%v", r.StatusCode, out.Applied)
		}
		other := []byte(`{"id":"evt_omo_other","object":"event","api_version":"2026-03-25.dahlia","created":1767225600,"livemode":false,` +
			`"pending_webhooks":1,"type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
		if r := s.post(t, hook, other, sign(other)); r.StatusCode != http.StatusOK {
			t.Fatalf("an event type OMO does not apply must be acknowledged, got %d", r.StatusCode)
		}
		paid := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+o.JSON["id"].(string), sh.Secret, nil, nil)
		if paid.JSON["payment_status"] != "paid" {
			t.Fatalf("after the brand's event: %s", paid)
		}
		// The brand moves to another account: the old payment is still
		// refunded on the account it was taken on.
		s.must(t, http.StatusOK, http.MethodPut, "/v1/commerce/settings", sh.Secret, map[string]any{"shipping": []any{}, "stripe_account": "acct_1OmoBrandNew"}, nil)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/orders/"+o.JSON["id"].(string)+"/returns", sh.Secret,
			map[string]any{"location_id": sh.LocationID, "lines": []map[string]any{{"line_no": 1, "quantity": 1, "restock": true}}}, nil)
		if got := <-accounts; got != "/v1/refunds acct_1OmoBrandHK" {
			t.Fatalf("the refund went as %q", got)
		}
	})
}

// TestCheckout_CancellingAnAwaitingOrderVoidsItsPayment cancels an Alipay
// order the shopper never finished: the order is cancelled with its stock
// back, and the PaymentIntent is cancelled at Stripe so it can no longer
// take money.
func TestCheckout_CancellingAnAwaitingOrderVoidsItsPayment(t *testing.T) {
	t.Parallel()
	paths := make(chan string, 16)
	peer := alipayPeer(t, "pi_omo_void", http.StatusOK,
		`{"id":"re_omo_late","object":"refund","amount":20000,"status":"succeeded","payment_intent":"pi_omo_void"}`, paths)
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := stripeServer(t, db, peer)
		sh := s.newShop(t)
		s.catalogShop(t, sh)
		o := s.alipayCounterSale(t, sh)
		if got := <-paths; !strings.HasPrefix(got, "POST /v1/payment_intents ") {
			t.Fatalf("first request %s", got)
		}
		c := s.must(t, http.StatusOK, http.MethodPost, "/v1/orders/"+o.JSON["id"].(string)+"/cancel", sh.Secret, map[string]any{}, nil)
		if c.JSON["status"] != "cancelled" || c.JSON["payment_status"] != "failed" {
			t.Fatalf("cancelled awaiting order: %s", c)
		}
		if got := <-paths; !strings.HasPrefix(got, "POST /v1/payment_intents/pi_omo_void/cancel") {
			t.Fatalf("the payment was not voided: %s", got)
		}
		lvl := s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory?sku=TEE-M", sh.Secret, nil, nil)
		if !strings.Contains(string(lvl.Raw), `"reserved":0`) {
			t.Fatalf("stock still held: %s", lvl)
		}
		// The shopper pays anyway (the void raced the payment): the money
		// goes back, once, however often Stripe delivers the event.
		payload := succeededEvent("evt_omo_late", "pi_omo_void", "")
		hook := "/webhooks/stripe/" + id.Format(id.Tenant, sh.TenantID)
		for i := range 2 {
			sig := sign(payload)
			if r := s.post(t, hook, payload, sig); r.StatusCode != http.StatusOK {
				t.Fatalf("late payment delivery %d: %d", i, r.StatusCode)
			}
		}
		if got := <-paths; !strings.HasPrefix(got, "POST /v1/refunds late:") {
			t.Fatalf("the late payment was not refunded: %s", got)
		}
		select {
		case got := <-paths:
			t.Fatalf("a second delivery sent %s", got)
		default:
		}
		after := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+o.JSON["id"].(string), sh.Secret, nil, nil)
		pay := after.JSON["payments"].([]any)[0].(map[string]any)
		if pay["status"] != "refunded" || pay["captured"].(float64) != 20000 || pay["refunded"].(float64) != 20000 {
			t.Fatalf("late payment: %v", pay)
		}
		evs := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+o.JSON["id"].(string)+"/events", sh.Secret, nil, nil)
		if !strings.Contains(string(evs.Raw), "payment.refunded_late") {
			t.Fatalf("no fact of the late refund: %s", evs)
		}
	})
}

// TestCheckout_LatePaymentAlreadyRefunded: the order's cancel found the
// PaymentIntent just succeeded and refunded it in full; Stripe then
// refuses the late-payment refund as already refunded, and the event is
// recorded as refunded instead of failing for days.
func TestCheckout_LatePaymentAlreadyRefunded(t *testing.T) {
	t.Parallel()
	peer := alipayPeer(t, "pi_omo_twice", http.StatusBadRequest,
		`{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}`, nil)
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := stripeServer(t, db, peer)
		sh := s.newShop(t)
		s.catalogShop(t, sh)
		o := s.alipayCounterSale(t, sh)
		s.must(t, http.StatusOK, http.MethodPost, "/v1/orders/"+o.JSON["id"].(string)+"/cancel", sh.Secret, map[string]any{}, nil)
		payload := succeededEvent("evt_omo_twice", "pi_omo_twice", "")
		sig := sign(payload)
		if r := s.post(t, "/webhooks/stripe/"+id.Format(id.Tenant, sh.TenantID), payload, sig); r.StatusCode != http.StatusOK {
			t.Fatalf("late payment refunded already: %d", r.StatusCode)
		}
		after := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+o.JSON["id"].(string), sh.Secret, nil, nil)
		if pay := after.JSON["payments"].([]any)[0].(map[string]any); pay["status"] != "refunded" || pay["refunded"].(float64) != 20000 {
			t.Fatalf("late payment: %v", pay)
		}
	})
}

// alipayIntent is a PaymentIntent as Stripe answers it for Alipay.
// alipayPeer is a Stripe-format peer for one Alipay PaymentIntent: creating
// it answers requires_action, cancelling it canceled, and /v1/refunds answers
// refundStatus with refundBody. When seen is not nil, each request's method,
// path and idempotency key go to it. It returns the peer's URL.
func alipayPeer(t *testing.T, pi string, refundStatus int, refundBody string, seen chan<- string) string {
	t.Helper()
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if seen != nil {
			seen <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Idempotency-Key")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/refunds" {
			w.WriteHeader(refundStatus)
			_, _ = io.WriteString(w, refundBody)
			return
		}
		status := "requires_action"
		if strings.HasSuffix(r.URL.Path, "/cancel") {
			status = "canceled"
		}
		_, _ = io.WriteString(w, alipayIntent(pi, status))
	}))
	t.Cleanup(peer.Close)
	return peer.URL
}

func alipayIntent(pi, status string) string {
	return `{"id":"` + pi + `","object":"payment_intent","amount":20000,"currency":"hkd","status":"` + status + `",` +
		`"client_secret":"` + pi + `_secret_1","payment_method_types":["alipay"],` +
		`"next_action":{"type":"alipay_handle_redirect","alipay_handle_redirect":{"url":"https://stripe.example/alipay/` + pi + `"}}}`
}

// succeededEvent is Stripe's payment_intent.succeeded event for the
// PaymentIntent pi of HK$200, from a connected account when account is
// not "".
func succeededEvent(eventID, pi, account string) []byte {
	acct := ""
	if account != "" {
		acct = `"account":"` + account + `",`
	}
	return []byte(`{"id":"` + eventID + `","object":"event",` + acct + `"api_version":"2026-03-25.dahlia","created":1767225600,` +
		`"livemode":false,"pending_webhooks":1,"type":"payment_intent.succeeded","data":{"object":{"id":"` + pi + `",` +
		`"object":"payment_intent","amount":20000,"amount_received":20000,"currency":"hkd","status":"succeeded"}}}`)
}

// sign signs a webhook payload as Stripe does, now.
func sign(payload []byte) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: stripeWebhookSecret, Timestamp: time.Now()}).Header
}

// alipayCounterSale sells a tee at the counter, paid with Alipay: the
// order waits for the shopper's payment.
func (s *server) alipayCounterSale(t *testing.T, sh shop) response {
	t.Helper()
	cart := s.openCart(t, sh)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "TEE-M", "quantity": 1, "fulfilment": "take_now"}, nil)
	return s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret,
		map[string]any{"payment": map[string]any{"method": "alipay", "return_url": "https://shop.example/back"}}, nil)
}
