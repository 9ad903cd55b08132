package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// shop is a tenant with a store (HKD) and a POS sales channel.
type shop struct {
	caller
	LocationID, ChannelID string
}

// caller returns the tenant's key.
func (c caller) caller() caller { return c }

func (s *server) newShop(t *testing.T) shop {
	t.Helper()
	c := s.newTenant(t)
	loc := s.must(t, http.StatusCreated, http.MethodPost, "/v1/locations", c.Secret, map[string]any{
		"code": "CWB", "type": "store", "names": map[string]string{"en": "Causeway Bay", "zh-Hant": "銅鑼灣"},
		"time_zone": "Asia/Hong_Kong", "currency": "HKD", "coordinates": map[string]float64{"latitude": 22.28, "longitude": 114.18}}, nil)
	ch := s.must(t, http.StatusCreated, http.MethodPost, "/v1/sales_channels", c.Secret, map[string]any{
		"code": "pos", "type": "pos", "names": map[string]string{"en": "Store POS"}}, nil)
	for _, code := range []string{"web"} {
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/sales_channels", c.Secret, map[string]any{
			"code": code, "type": "web", "names": map[string]string{"en": "Web shop"}}, nil)
	}
	return shop{caller: c, LocationID: loc.JSON["id"].(string), ChannelID: ch.JSON["id"].(string)}
}

// sale is a purchase body at the shop's store: 2 × TEE at 129.00 less 25.80, 1 × CAP at 99.00.
func sale(receipt string, customer map[string]any) map[string]any {
	b := map[string]any{
		"kind": "purchase", "sales_channel": "pos", "location": "CWB", "register": "R1", "receipt_number": receipt,
		"occurred_at": "2026-11-20T15:04:05+08:00",
		"lines": []map[string]any{
			{"sku": "TEE-M", "name": "Tee", "category": "tops", "quantity": 2, "unit_price": 12900, "discount": 2580},
			{"sku": "CAP", "quantity": 1, "unit_price": 9900},
		},
		"tenders": []map[string]any{{"type": "card", "amount": 33120}},
	}
	if customer != nil {
		b["customer"] = customer
	}
	return b
}

type transactionJSON struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	CustomerID   string `json:"customer_id"`
	OriginalID   string `json:"original_transaction_id"`
	LocalTime    string `json:"local_time"`
	Currency     string `json:"currency"`
	Duplicate    bool   `json:"duplicate"`
	Linked       bool   `json:"linked"`
	CustomerMade bool   `json:"customer_created"`
	Lines        []struct {
		LineNumber int   `json:"line_number"`
		Total      int64 `json:"total"`
		Returned   int64 `json:"returned_quantity"`
		Original   int   `json:"original_line"`
	} `json:"lines"`
	Totals struct {
		Subtotal, Discount, Tax, Total struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		}
	} `json:"totals"`
}

type summaryJSON struct {
	Data []struct {
		Currency        string     `json:"currency"`
		Purchases       int64      `json:"purchases"`
		Returns         int64      `json:"returns"`
		NetSpent        amountJSON `json:"net_spent"`
		AverageBasket   amountJSON `json:"average_basket"`
		FirstPurchaseAt *time.Time `json:"first_purchase_at"`
		LastPurchaseAt  *time.Time `json:"last_purchase_at"`
		BySalesChannel  []struct {
			ID        string `json:"id"`
			Purchases int64  `json:"purchases"`
		} `json:"by_sales_channel"`
		ByLocation []struct {
			ID string `json:"id"`
		} `json:"by_location"`
	} `json:"data"`
}

type amountJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func TestTransactions_PurchaseComputesTotalsAndUpdatesAggregates(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		mail := email("buyer")
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, sale("0001", ids("email", mail)), nil)
		tr := decode[transactionJSON](t, r)
		if tr.Totals.Subtotal.Amount != 35700 || tr.Totals.Discount.Amount != 2580 || tr.Totals.Total.Amount != 33120 || tr.Totals.Total.Currency != "HKD" {
			t.Errorf("totals %+v", tr.Totals)
		}
		if !tr.CustomerMade || tr.CustomerID == "" || tr.LocalTime != "2026-11-20T15:04:05+08:00" || tr.Duplicate {
			t.Errorf("recorded %s", r)
		}
		// The same customer buys again online, found by the same email.
		web := sale("W-1", ids("email", mail))
		delete(web, "location")
		web["currency"] = "HKD"
		web["occurred_at"] = "2026-11-22T10:00:00Z"
		tr2 := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, web, nil))
		if tr2.CustomerID != tr.CustomerID || tr2.CustomerMade {
			t.Errorf("second sale went to %s (created %v), want %s", tr2.CustomerID, tr2.CustomerMade, tr.CustomerID)
		}
		sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+tr.CustomerID+"/sales_summary", sh.Secret, nil, nil))
		if len(sum.Data) != 1 {
			t.Fatalf("summary %+v", sum)
		}
		d := sum.Data[0]
		if d.Purchases != 2 || d.NetSpent.Amount != 66240 || d.AverageBasket.Amount != 33120 || len(d.BySalesChannel) != 1 || len(d.ByLocation) != 1 {
			t.Errorf("summary %+v", d)
		}
		if !d.FirstPurchaseAt.Equal(time.Date(2026, 11, 20, 7, 4, 5, 0, time.UTC)) || !d.LastPurchaseAt.Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("first %v last %v", d.FirstPurchaseAt, d.LastPurchaseAt)
		}
		got := decode[transactionJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/transactions/"+tr.ID, sh.Secret, nil, nil))
		if got.ID != tr.ID || len(got.Lines) != 2 || got.Lines[0].Total != 23220 {
			t.Errorf("get %+v", got)
		}
		list := decode[page[transactionJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+tr.CustomerID+"/transactions?limit=1", sh.Secret, nil, nil))
		if len(list.Data) != 1 || list.Data[0].ID != tr2.ID || list.NextCursor == nil {
			t.Fatalf("first page %+v", list)
		}
		next := decode[page[transactionJSON]](t, s.must(t, http.StatusOK, http.MethodGet,
			"/v1/customers/"+tr.CustomerID+"/transactions?limit=1&cursor="+*list.NextCursor, sh.Secret, nil, nil))
		if len(next.Data) != 1 || next.Data[0].ID != tr.ID {
			t.Errorf("second page %+v", next)
		}
	})
}

func TestTransactions_ResendAppliesNothingTwice(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		cust := s.identify(t, sh.Secret, http.StatusCreated, ids("email", email("loyal")))
		body := sale("0002", nil)
		body["customer_id"] = cust.ID
		// Three POS terminals (or retries) send the same sale at once.
		var wg sync.WaitGroup
		results := make([]response, 3)
		for i := range results {
			wg.Go(func() { results[i] = s.do(t, http.MethodPost, "/v1/transactions", sh.Secret, body, nil) })
		}
		wg.Wait()
		created, ids := 0, map[string]bool{}
		for _, r := range results {
			switch r.Status {
			case http.StatusCreated:
				created++
			case http.StatusOK:
				if !decode[transactionJSON](t, r).Duplicate {
					t.Errorf("200 without duplicate: %s", r)
				}
			default:
				t.Fatalf("unexpected %s", r)
			}
			ids[decode[transactionJSON](t, r).ID] = true
		}
		if created != 1 || len(ids) != 1 {
			t.Errorf("created %d, distinct ids %d; want 1 and 1", created, len(ids))
		}
		// Later, with an Idempotency-Key and without: still the original.
		s.must(t, http.StatusOK, http.MethodPost, "/v1/transactions", sh.Secret, body, h{"Idempotency-Key": "resend-1"})
		s.must(t, http.StatusOK, http.MethodPost, "/v1/transactions", sh.Secret, body, nil)
		sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cust.ID+"/sales_summary", sh.Secret, nil, nil))
		if len(sum.Data) != 1 || sum.Data[0].Purchases != 1 || sum.Data[0].NetSpent.Amount != 33120 {
			t.Errorf("aggregates counted a resend: %+v", sum)
		}
		// The same receipt number with other content is a conflict, not a silent drop.
		changed := sale("0002", nil)
		changed["customer_id"] = cust.ID
		changed["lines"] = []map[string]any{{"sku": "CAP", "quantity": 1, "unit_price": 9900}}
		delete(changed, "tenders")
		assertProblem(t, s.do(t, http.MethodPost, "/v1/transactions", sh.Secret, changed, nil), http.StatusConflict)
		// The same receipt number at another register is another sale.
		other := sale("0002", nil)
		other["register"] = "R2"
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, other, nil)
	})
}

func TestTransactions_Returns(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		buy := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret,
			sale("0003", ids("phone", phone())), nil))
		ret := func(receipt string, lines []map[string]any, original map[string]any) map[string]any {
			return map[string]any{"kind": "return", "sales_channel": "pos", "location": "CWB", "register": "R1", "receipt_number": receipt,
				"occurred_at": "2026-11-21T12:00:00+08:00", "lines": lines, "original": original}
		}
		byReceipt := map[string]any{"location": "CWB", "register": "R1", "receipt_number": "0003"}
		// One tee of two, matched by SKU: linked, the buyer inherited.
		r1 := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret,
			ret("R-1", []map[string]any{{"sku": "TEE-M", "quantity": 1, "unit_price": 11610}}, byReceipt), nil))
		if !r1.Linked || r1.OriginalID != buy.ID || r1.CustomerID != buy.CustomerID || r1.Lines[0].Original != 1 {
			t.Errorf("partial return %+v", r1)
		}
		// Two more tees: only one is left.
		over := s.do(t, http.MethodPost, "/v1/transactions", sh.Secret,
			ret("R-2", []map[string]any{{"sku": "TEE-M", "quantity": 2, "unit_price": 11610}}, map[string]any{"transaction_id": buy.ID}), nil)
		if p := assertProblem(t, over, http.StatusBadRequest); len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[0].quantity" {
			t.Errorf("over-return: %s", over)
		}
		// A SKU that was not bought.
		assertProblem(t, s.do(t, http.MethodPost, "/v1/transactions", sh.Secret,
			ret("R-3", []map[string]any{{"sku": "SOCKS", "quantity": 1, "unit_price": 100}}, byReceipt), nil), http.StatusBadRequest)
		// Concurrent returns of the last tee: exactly one wins.
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = s.do(t, http.MethodPost, "/v1/transactions", sh.Secret,
					ret(fmt.Sprintf("R-race-%d", i), []map[string]any{{"sku": "TEE-M", "quantity": 1, "unit_price": 11610}}, byReceipt), nil).Status
			})
		}
		wg.Wait()
		won := 0
		for _, st := range statuses {
			if st == http.StatusCreated {
				won++
			} else if st != http.StatusBadRequest {
				t.Errorf("status %d", st)
			}
		}
		if won != 1 {
			t.Errorf("%d concurrent returns of the last unit succeeded, want 1 (%v)", won, statuses)
		}
		got := decode[transactionJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/transactions/"+buy.ID, sh.Secret, nil, nil))
		if got.Lines[0].Returned != 2 || got.Lines[1].Returned != 0 {
			t.Errorf("returned quantities %+v", got.Lines)
		}
		// A return whose sale predates OMO is recorded unlinked.
		unlinked := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret,
			ret("R-9", []map[string]any{{"sku": "OLD", "quantity": 1, "unit_price": 5000}}, map[string]any{"receipt_number": "1999-42"}), nil))
		if unlinked.Linked || unlinked.OriginalID != "" || unlinked.CustomerID != "" {
			t.Errorf("unlinked return %+v", unlinked)
		}
		sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+buy.CustomerID+"/sales_summary", sh.Secret, nil, nil))
		if d := sum.Data[0]; d.Purchases != 1 || d.Returns != 2 || d.NetSpent.Amount != 33120-2*11610 {
			t.Errorf("summary after returns %+v", d)
		}
	})
}

func TestTransactions_Rejects(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		for _, tc := range []struct {
			name  string
			edit  func(map[string]any)
			field string
		}{
			{"unknown sales channel", func(b map[string]any) { b["sales_channel"] = "fax" }, "body.sales_channel"},
			{"unknown location", func(b map[string]any) { b["location"] = "MARS" }, "body.location"},
			{"no receipt and no external id", func(b map[string]any) { delete(b, "receipt_number") }, "body.receipt_number"},
			{"totals that disagree", func(b map[string]any) { b["totals"] = map[string]any{"total": 33000} }, "body.totals.total"},
			{"tenders that do not add up", func(b map[string]any) { b["tenders"] = []map[string]any{{"type": "cash", "amount": 100}} }, "body.tenders"},
			{"discount above the line", func(b map[string]any) {
				b["lines"] = []map[string]any{{"sku": "A", "quantity": 1, "unit_price": 100, "discount": 101}}
				delete(b, "tenders")
			}, "body.lines[0].discount"},
			{"negative quantity", func(b map[string]any) { b["lines"] = []map[string]any{{"sku": "A", "quantity": -1, "unit_price": 100}} }, "body.lines[0].quantity"},
			{"bad currency", func(b map[string]any) { b["currency"] = "HKX" }, "body.currency"},
			{"customer id and identifiers", func(b map[string]any) {
				b["customer_id"] = "cus_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"
				b["customer"] = ids("email", "x@y.hk")
			}, "body.customer"},
			{"unknown customer", func(b map[string]any) { b["customer_id"] = "cus_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f" }, "body.customer_id"},
			{"bad customer email", func(b map[string]any) { b["customer"] = ids("email", "not-an-email") }, "body.customer.identifiers.email"},
			{"a purchase with an original", func(b map[string]any) { b["original"] = map[string]any{"receipt_number": "1"} }, "body.original"},
			{"in the far future", func(b map[string]any) { b["occurred_at"] = "2099-01-01T00:00:00Z" }, "body.occurred_at"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := sale("rej-"+tc.name, nil)
				tc.edit(b)
				p := assertProblem(t, s.do(t, http.MethodPost, "/v1/transactions", sh.Secret, b, nil), http.StatusBadRequest)
				found := false
				for _, l := range p.Locations() {
					found = found || l == tc.field
				}
				if !found {
					t.Errorf("fields %v, want %s", p.Locations(), tc.field)
				}
			})
		}
		// Nothing was recorded by any of them.
		all := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", sh.Secret, nil, nil))
		if len(all.Data) != 0 {
			t.Errorf("rejected sales created customers: %+v", all.Data)
		}
	})
}

func TestTransactions_FollowMergesAndTimeline(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		mail, tel := email("merge"), phone()
		a := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, sale("M-1", ids("email", mail)), nil))
		b := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, sale("M-2", ids("phone", tel)), nil))
		merged := s.identify(t, sh.Secret, http.StatusOK, ids("email", mail, "phone", tel))
		for _, cid := range []string{a.CustomerID, b.CustomerID} {
			sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/sales_summary", sh.Secret, nil, nil))
			if len(sum.Data) != 1 || sum.Data[0].Purchases != 2 {
				t.Errorf("after the merge, %s sums %+v; want both purchases", cid, sum)
			}
		}
		tl := decode[page[struct {
			Type        string           `json:"type"`
			Transaction *transactionJSON `json:"transaction"`
		}]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+merged.ID+"/timeline", sh.Secret, nil, nil))
		kinds := map[string]int{}
		for _, it := range tl.Data {
			kinds[it.Type]++
		}
		if kinds["transaction"] != 2 || kinds["profile_change"] < 3 {
			t.Errorf("timeline kinds %v", kinds)
		}
		// Unmerge: each customer has its own purchase again; nothing moved.
		s.must(t, http.StatusOK, http.MethodPost, "/v1/customers/"+merged.ID+"/unmerge", sh.Secret, map[string]any{}, nil)
		for _, cid := range []string{a.CustomerID, b.CustomerID} {
			sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/sales_summary", sh.Secret, nil, nil))
			if len(sum.Data) != 1 || sum.Data[0].Purchases != 1 {
				t.Errorf("after the unmerge, %s sums %+v; want its own purchase only", cid, sum)
			}
			txs := decode[page[transactionJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/transactions", sh.Secret, nil, nil))
			if len(txs.Data) != 1 {
				t.Errorf("after the unmerge, %s lists %d transactions, want 1", cid, len(txs.Data))
			}
		}
	})
}

func TestLocations_CRUDAndConflicts(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		dup := s.do(t, http.MethodPost, "/v1/locations", sh.Secret, map[string]any{"code": "CWB", "type": "store",
			"names": map[string]string{"en": "Again"}, "time_zone": "Asia/Hong_Kong", "currency": "HKD"}, nil)
		assertProblem(t, dup, http.StatusConflict)
		bad := s.do(t, http.MethodPost, "/v1/locations", sh.Secret, map[string]any{"code": "SG1", "type": "store",
			"names": map[string]string{"en": "Orchard"}, "time_zone": "Singapore Time", "currency": "SGD"}, nil)
		if p := assertProblem(t, bad, http.StatusBadRequest); p.Locations()[0] != "body.time_zone" {
			t.Errorf("bad time zone: %s", bad)
		}
		upd := s.must(t, http.StatusOK, http.MethodPatch, "/v1/locations/"+sh.LocationID, sh.Secret,
			map[string]any{"status": "temporarily_closed", "names": map[string]string{"en": "Causeway Bay (Lee Garden)"}}, nil)
		if upd.JSON["status"] != "temporarily_closed" || upd.JSON["code"] != "CWB" {
			t.Errorf("update %s", upd)
		}
		list := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/locations?type=store", sh.Secret, nil, nil))
		if len(list.Data) != 1 {
			t.Errorf("list %+v", list)
		}
		chs := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/sales_channels", sh.Secret, nil, nil))
		if len(chs.Data) != 2 || chs.Data[0]["code"] != "pos" {
			t.Errorf("sales channels %+v", chs)
		}
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/sales_channels/"+sh.ChannelID, sh.Secret, map[string]any{"active": false}, nil)
		readOnly := s.newKey(t, sh.TenantID, "locations:read")
		assertProblem(t, s.do(t, http.MethodPost, "/v1/sales_channels", readOnly.Secret,
			map[string]any{"code": "x", "type": "web", "names": map[string]string{"en": "x"}}, nil), http.StatusForbidden)
		assertProblem(t, s.do(t, http.MethodPost, "/v1/transactions", readOnly.Secret, sale("nope", nil), nil), http.StatusForbidden)
	})
}
