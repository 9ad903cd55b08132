package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// catalogShop gives a shop's tenant a product TEE-M (HK$200, 10 in stock at
// the store) and CAP (HK$99, 5 in stock).
func (s *server) catalogShop(t *testing.T, sh shop) {
	t.Helper()
	ctx := context.Background()
	tenantID := sh.TenantID
	if _, err := s.db.CreateCategory(ctx, catalog.Category{TenantID: tenantID, Code: "tops", Names: map[string]string{"en": "Tops"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreateProduct(ctx, catalog.Product{TenantID: tenantID, Status: catalog.StatusActive, Names: map[string]string{"en": "Tee"},
		Categories: []string{"tops"}, Variants: []catalog.Variant{{SKU: "TEE-M", Status: catalog.StatusActive}, {SKU: "CAP", Status: catalog.StatusActive}}}); err != nil {
		t.Fatal(err)
	}
	pl, err := s.db.CreatePriceList(ctx, catalog.PriceList{TenantID: tenantID, Code: "hkd", Name: "HKD", Currency: "HKD", Status: catalog.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.SetPrices(ctx, tenantID, pl.ID, []catalog.Price{{SKU: "TEE-M", Amount: 20000}, {SKU: "CAP", Amount: 9900}}); err != nil {
		t.Fatal(err)
	}
	for sku, n := range map[string]int{"TEE-M": 10, "CAP": 5} {
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"kind": "receipt", "sku": sku,
			"location_id": sh.LocationID, "quantity": n}, nil)
	}
}

// openCart opens an empty POS cart at the shop's store.
func (s *server) openCart(t *testing.T, sh shop) string {
	t.Helper()
	return s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts", sh.Secret, map[string]any{"sales_channel": "pos",
		"location_id": sh.LocationID, "associate_id": "staff-7"}, nil).JSON["id"].(string)
}

// isolationOrder sells a tee at the counter and returns the order.
func (s *server) isolationOrder(t *testing.T, sh shop) response {
	t.Helper()
	s.catalogShop(t, sh)
	cart := s.openCart(t, sh)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "TEE-M", "quantity": 1, "fulfilment": "take_now"}, nil)
	return s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret, map[string]any{"payment": map[string]any{"method": "paid_at_pos",
		"payment_method": "R1-0001"}}, nil)
}

func TestOrders_CounterSaleAndMixedBasket(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		counterSaleAndMixedBasket(t, newServer(t, db))
	})
}

func counterSaleAndMixedBasket(t *testing.T, s *server) {
	sh := s.newShop(t)
	o := s.isolationOrder(t, sh)
	if o.JSON["status"] != "fulfilled" || o.JSON["payment_status"] != "paid" || o.JSON["associate_id"] != "staff-7" {
		t.Fatalf("counter sale: %s", o)
	}
	again := s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+o.JSON["cart_id"].(string)+"/complete", sh.Secret,
		map[string]any{"payment": map[string]any{"method": "paid_at_pos"}}, nil)
	if again.JSON["id"] != o.JSON["id"] {
		t.Fatalf("a retried completion made another order: %s", again)
	}
	// Mixed basket: a cap now, a tee collected later at the same store, one order.
	cart := s.openCart(t, sh)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "CAP", "quantity": 1, "fulfilment": "take_now"}, nil)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "TEE-M", "quantity": 1}, nil)
	bad := s.do(t, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "NOPE", "quantity": 1}, nil)
	assertProblem(t, bad, http.StatusBadRequest)
	s.must(t, http.StatusOK, http.MethodPut, "/v1/carts/"+cart+"/delivery", sh.Secret, map[string]any{"method": "click_collect", "location_id": sh.LocationID}, nil)
	q := s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/quote", sh.Secret, nil, nil)
	if q.JSON["totals"].(map[string]any)["total"].(float64) != 29900 {
		t.Fatalf("quote %s", q)
	}
	mixed := s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret, map[string]any{"payment": map[string]any{"method": "pay_in_store"}}, nil)
	ships := mixed.JSON["shipments"].([]any)
	if len(ships) != 2 || mixed.JSON["status"] != "partially_fulfilled" && mixed.JSON["status"] != "open" {
		t.Fatalf("mixed basket: %s", mixed)
	}
	var collect string
	for _, x := range ships {
		if sm := x.(map[string]any); sm["method"] == "click_collect" {
			collect = sm["id"].(string)
		}
	}
	illegal := s.do(t, http.MethodPost, "/v1/shipments/"+collect+"/status", sh.Secret, map[string]any{"status": "shipped"}, nil)
	assertProblem(t, illegal, http.StatusConflict)
	for _, st := range []string{"picking", "ready_for_pickup", "picked_up"} {
		s.must(t, http.StatusOK, http.MethodPost, "/v1/shipments/"+collect+"/status", sh.Secret, map[string]any{"status": st}, nil)
	}
	final := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+mixed.JSON["id"].(string), sh.Secret, nil, nil)
	if final.JSON["status"] != "fulfilled" || final.JSON["payment_status"] != "paid" {
		t.Fatalf("after pickup: %s", final)
	}
	evs := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+mixed.JSON["id"].(string)+"/events", sh.Secret, nil, nil)
	if n := len(evs.JSON["data"].([]any)); n != 4 {
		t.Fatalf("%d events: %s", n, evs)
	}
	ret := s.must(t, http.StatusCreated, http.MethodPost, "/v1/orders/"+mixed.JSON["id"].(string)+"/returns", sh.Secret,
		map[string]any{"location_id": sh.LocationID, "lines": []map[string]any{{"line_no": 1, "quantity": 1, "restock": true}}}, nil)
	if ret.JSON["refund_total"].(float64) != 9900 {
		t.Fatalf("return: %s", ret)
	}
	// Replay both orders under draft rules.
	sim := s.must(t, http.StatusOK, http.MethodPost, "/v1/routing/simulate", sh.Secret, map[string]any{"draft": routingRules(nil),
		"past_orders": map[string]any{"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}}, nil)
	if sim.JSON["current"].(map[string]any)["orders"].(float64) != 2 {
		t.Fatalf("simulation of past orders: %s", sim)
	}
}

func TestOrders_ExchangeAtTheCounter(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		exchangeAtTheCounter(t, newServer(t, db))
	})
}

// exchangeAtTheCounter brings back a tee sold at the counter for a cap:
// the tee pays for the cap and the rest goes back to the sale's tender.
func exchangeAtTheCounter(t *testing.T, s *server) {
	sh := s.newShop(t)
	sale := s.isolationOrder(t, sh)
	saleID := sale.JSON["id"].(string)
	cart := s.openCart(t, sh)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "CAP", "quantity": 1, "fulfilment": "take_now"}, nil)
	tooMany := s.do(t, http.MethodPut, "/v1/carts/"+cart+"/exchange", sh.Secret, map[string]any{"order_id": saleID,
		"lines": []map[string]any{{"line_no": 1, "quantity": 2}}}, nil)
	assertProblem(t, tooMany, http.StatusBadRequest)
	if !strings.Contains(string(tooMany.Raw), `"location":"body.lines[0].quantity"`) {
		t.Fatalf("the problem does not name the line: %s", tooMany)
	}
	c := s.must(t, http.StatusOK, http.MethodPut, "/v1/carts/"+cart+"/exchange", sh.Secret, map[string]any{"order_id": saleID,
		"lines": []map[string]any{{"line_no": 1, "quantity": 1, "restock": true}}}, nil)
	totals := c.JSON["totals"].(map[string]any)
	if totals["total"].(float64) != 9900 || totals["exchange_credit"].(float64) != 9900 || totals["exchange_refund"].(float64) != 10100 || totals["due"].(float64) != 0 {
		t.Fatalf("exchange cart: %s", c)
	}
	if c.JSON["exchange"].(map[string]any)["location_id"] != sh.LocationID {
		t.Fatalf("the exchange did not default to the cart's store: %s", c)
	}
	o := s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret, map[string]any{}, nil)
	if o.JSON["exchange"].(map[string]any)["order_id"] != saleID || o.JSON["payment_status"] != "paid" || o.JSON["status"] != "fulfilled" {
		t.Fatalf("exchange order: %s", o)
	}
	old := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+saleID, sh.Secret, nil, nil)
	if old.JSON["refunded"].(float64) != 10100 || old.JSON["exchanged"].(float64) != 9900 || old.JSON["payment_status"] != "partially_refunded" {
		t.Fatalf("the sale after the exchange: %s", old)
	}
	evs := s.must(t, http.StatusOK, http.MethodGet, "/v1/orders/"+saleID+"/events", sh.Secret, nil, nil)
	last := evs.JSON["data"].([]any)[len(evs.JSON["data"].([]any))-1].(map[string]any)
	if last["kind"] != "order.returned" || last["data"].(map[string]any)["exchange_order_id"] != o.JSON["id"] {
		t.Fatalf("the sale's last fact: %v", last)
	}
}

func TestOrders_CancelWhatIsLeft(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		cancelWhatIsLeft(t, newServer(t, db))
	})
}

// cancelWhatIsLeft cancels a mixed basket after the take-now cap was handed
// over: the tee's collection is cancelled and refunded, the cap stays sold,
// and a second cancel has nothing left to do.
func cancelWhatIsLeft(t *testing.T, s *server) {
	sh := s.newShop(t)
	s.catalogShop(t, sh)
	cart := s.openCart(t, sh)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "CAP", "quantity": 1, "fulfilment": "take_now"}, nil)
	s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "TEE-M", "quantity": 1}, nil)
	s.must(t, http.StatusOK, http.MethodPut, "/v1/carts/"+cart+"/delivery", sh.Secret, map[string]any{"method": "click_collect", "location_id": sh.LocationID}, nil)
	o := s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret,
		map[string]any{"payment": map[string]any{"method": "paid_at_pos", "payment_method": "R1-9"}}, nil)
	oid := o.JSON["id"].(string)
	c := s.must(t, http.StatusOK, http.MethodPost, "/v1/orders/"+oid+"/cancel", sh.Secret, map[string]any{"reason": "changed her mind"}, nil)
	if c.JSON["refunded"].(float64) != 20000 || c.JSON["status"] != "fulfilled" || c.JSON["payment_status"] != "partially_refunded" {
		t.Fatalf("after cancelling the collection: %s", c)
	}
	for _, x := range c.JSON["shipments"].([]any) {
		sm := x.(map[string]any)
		if want := map[string]string{"take_now": "picked_up", "click_collect": "cancelled"}[sm["method"].(string)]; sm["status"] != want {
			t.Fatalf("shipment %v is %v, want %s", sm["method"], sm["status"], want)
		}
	}
	assertProblem(t, s.do(t, http.MethodPost, "/v1/orders/"+oid+"/cancel", sh.Secret, map[string]any{}, nil), http.StatusConflict)
	lvl := s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory?sku=TEE-M", sh.Secret, nil, nil)
	if !strings.Contains(string(lvl.Raw), `"reserved":0`) {
		t.Fatalf("the cancelled tee is still reserved: %s", lvl)
	}
}

func TestOrders_CancellingEverythingRefundsTheDelivery(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		s.catalogShop(t, sh)
		s.must(t, http.StatusOK, http.MethodPut, "/v1/commerce/settings", sh.Secret, map[string]any{
			"shipping": []map[string]any{{"method": "click_collect", "currency": "HKD", "amount": 5000}}}, nil)
		cart := s.openCart(t, sh)
		s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+cart+"/lines", sh.Secret, map[string]any{"sku": "TEE-M", "quantity": 1}, nil)
		s.must(t, http.StatusOK, http.MethodPut, "/v1/carts/"+cart+"/delivery", sh.Secret, map[string]any{"method": "click_collect",
			"location_id": sh.LocationID}, nil)
		o := s.must(t, http.StatusCreated, http.MethodPost, "/v1/carts/"+cart+"/complete", sh.Secret,
			map[string]any{"payment": map[string]any{"method": "paid_at_pos", "payment_method": "R1-5"}}, nil)
		if o.JSON["totals"].(map[string]any)["total"].(float64) != 25000 {
			t.Fatalf("order with delivery: %s", o)
		}
		c := s.must(t, http.StatusOK, http.MethodPost, "/v1/orders/"+o.JSON["id"].(string)+"/cancel", sh.Secret, map[string]any{}, nil)
		if c.JSON["refunded"].(float64) != 25000 || c.JSON["status"] != "cancelled" || c.JSON["payment_status"] != "refunded" {
			t.Fatalf("a cancelled order keeps part of its money: %s", c)
		}
	})
}
