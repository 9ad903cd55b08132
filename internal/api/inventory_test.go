package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// stockShop is a shop with its store (CWB) and a warehouse.
type stockShop struct {
	shop
	Warehouse string
}

func (s *server) stockShop(t *testing.T) stockShop {
	t.Helper()
	sh := s.newShop(t)
	wh := s.must(t, http.StatusCreated, http.MethodPost, "/v1/locations", sh.Secret, map[string]any{
		"code": "WH-KT", "type": "warehouse", "names": map[string]string{"en": "Kwun Tong warehouse"},
		"time_zone": "Asia/Hong_Kong", "currency": "HKD"}, nil)
	return stockShop{shop: sh, Warehouse: wh.JSON["id"].(string)}
}

func assertStockSound(t *testing.T, db *sqldb.DB, tenantID string) {
	t.Helper()
	bad, err := db.CheckInventory(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error("stock invariant:", b)
	}
}

type movementJSON struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Quantity     int64  `json:"quantity"`
	OnHandBefore int64  `json:"on_hand_before"`
	OnHandAfter  int64  `json:"on_hand_after"`
	Duplicate    bool   `json:"duplicate"`
}

type levelJSON struct {
	SKU           string `json:"sku"`
	LocationID    string `json:"location_id"`
	OnHand        int64  `json:"on_hand"`
	Reserved      int64  `json:"reserved"`
	Available     int64  `json:"available"`
	SalesChannels []struct {
		SalesChannel string `json:"sales_channel"`
		SafetyStock  int64  `json:"safety_stock"`
		Available    int64  `json:"available"`
	} `json:"sales_channels"`
}

func (s *server) levels(t *testing.T, key, query string) []levelJSON {
	t.Helper()
	return decode[page[levelJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory?"+query, key, nil, nil)).Data
}

func TestInventory_MovementsLevelsAndJournal(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.stockShop(t)
		receipt := map[string]any{"kind": "receipt", "sku": "TEE-M", "location_id": sh.LocationID, "quantity": 12,
			"reference": "GRN-1", "key": "GRN-1:1"}
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, receipt, h{"Idempotency-Key": "k-1"})
		first := decode[page[movementJSON]](t, r).Data
		if len(first) != 1 || first[0].OnHandAfter != 12 || !strings.HasPrefix(first[0].ID, "stm_") {
			t.Fatalf("receipt: %s", r)
		}
		// The same key without an Idempotency-Key applies nothing: 200, duplicate.
		again := decode[page[movementJSON]](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/inventory/movements", sh.Secret, receipt, nil)).Data
		if !again[0].Duplicate || again[0].ID != first[0].ID {
			t.Errorf("resend: %+v", again)
		}
		replay := s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, receipt, h{"Idempotency-Key": "k-1"})
		if string(replay.Raw) != string(r.Raw) {
			t.Errorf("replay differs:\n%s\n%s", replay.Raw, r.Raw)
		}
		batch := map[string]any{"movements": []map[string]any{
			{"kind": "sale", "sku": "TEE-M", "location_id": sh.LocationID, "quantity": 2},
			{"kind": "receipt", "sku": "CAP", "location_id": sh.Warehouse, "quantity": 30},
			{"kind": "adjustment", "sku": "TEE-M", "location_id": sh.LocationID, "quantity": -1, "reason": "damaged", "note": "torn seam"},
		}}
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, batch, nil)
		// Field errors name the movement; a short sale is a conflict; nothing of a failed batch applies.
		bad := map[string]any{"movements": []map[string]any{
			{"kind": "receipt", "sku": "SOCK", "location_id": sh.LocationID, "quantity": 1},
			{"kind": "adjustment", "sku": "TEE-M", "location_id": sh.LocationID, "quantity": -1},
		}}
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/movements", sh.Secret, bad, nil), "body.movements[1].reason")
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"kind": "receipt", "sku": "X",
			"quantity": 1}, nil), "body.location_id")
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"kind": "receipt", "sku": "X",
			"location_id": "loc_nope", "quantity": 1}, nil), "body.location_id")
		// Text PostgreSQL cannot store is a field error on both engines, not a 500.
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"kind": "receipt", "sku": "T\u0000",
			"location_id": sh.LocationID, "quantity": 1}, nil), "body.sku")
		assertFieldError(t, s.do(t, http.MethodGet, "/v1/inventory/movements?reference=%00", sh.Secret, nil, nil), "query.reference")
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/reservations", sh.Secret, map[string]any{"ref": "c", "sales_channel": "w\u0000",
			"lines": []map[string]any{{"sku": "TEE-M", "location_id": sh.LocationID, "quantity": 1}}}, nil), "body.sales_channel")
		p := assertProblem(t, s.do(t, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"kind": "sale", "sku": "TEE-M",
			"location_id": sh.LocationID, "quantity": 10}, nil), http.StatusConflict)
		if !strings.Contains(p.Detail, "9 on hand") {
			t.Errorf("short sale: %q", p.Detail)
		}
		if l := s.levels(t, sh.Secret, "sku=SOCK"); len(l) != 0 {
			t.Errorf("half a batch applied: %+v", l)
		}
		// A count sets on hand.
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"kind": "count", "sku": "TEE-M",
			"location_id": sh.LocationID, "quantity": 8, "reason": "cycle_count"}, nil)
		levels := s.levels(t, sh.Secret, "")
		if len(levels) != 2 || levels[0].SKU != "CAP" || levels[1].OnHand != 8 || levels[1].Available != 8 || len(levels[1].SalesChannels) != 2 {
			t.Fatalf("levels %+v", levels)
		}
		// The journal pages newest first.
		var kinds []string
		cursor := ""
		for range 5 {
			pg := decode[page[movementJSON]](t, s.must(t, http.StatusOK, http.MethodGet,
				"/v1/inventory/movements?sku=TEE-M&limit=2&cursor="+cursor, sh.Secret, nil, nil))
			for _, m := range pg.Data {
				kinds = append(kinds, m.Kind)
			}
			if pg.NextCursor == nil {
				break
			}
			cursor = *pg.NextCursor
		}
		if strings.Join(kinds, ",") != "count,adjustment,sale,receipt" {
			t.Errorf("journal %v", kinds)
		}
		// Scopes and tenants.
		reader := s.newKey(t, sh.TenantID, "inventory:read")
		assertProblem(t, s.do(t, http.MethodPost, "/v1/inventory/movements", reader.Secret, receipt, nil), http.StatusForbidden)
		s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory", reader.Secret, nil, nil)
		other := s.newTenant(t)
		if l := s.levels(t, other.Secret, ""); len(l) != 0 {
			t.Errorf("another tenant sees %+v", l)
		}
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/movements", other.Secret, receipt, nil), "body.location_id")
		assertStockSound(t, db, sh.TenantID)
	})
}

type reservationJSON struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	ExpiresAt *string `json:"expires_at"`
	Lines     []struct {
		SKU    string `json:"sku"`
		Status string `json:"status"`
	} `json:"lines"`
}

func TestInventory_ReservationsAndSafetyStock(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.stockShop(t)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{"movements": []map[string]any{
			{"kind": "receipt", "sku": "DRESS-S", "location_id": sh.LocationID, "quantity": 3},
			{"kind": "receipt", "sku": "DRESS-S", "location_id": sh.Warehouse, "quantity": 1}}}, nil)
		rule := s.must(t, http.StatusOK, http.MethodPut, "/v1/inventory/safety_stock", sh.Secret, map[string]any{
			"sales_channel": "web", "location_type": "store", "quantity": 2}, nil)
		if rule.JSON["quantity"].(float64) != 2 || rule.JSON["location_type"] != "store" {
			t.Fatalf("rule %s", rule)
		}
		assertFieldError(t, s.do(t, http.MethodPut, "/v1/inventory/safety_stock", sh.Secret, map[string]any{
			"sales_channel": "tmall", "quantity": 2}, nil), "body.sales_channel")
		rules := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory/safety_stock?sales_channel=web", sh.Secret, nil, nil))
		if len(rules.Data) != 1 {
			t.Errorf("rules %+v", rules)
		}
		lv := s.levels(t, sh.Secret, "sku=DRESS-S&location_id="+sh.LocationID)
		if len(lv) != 1 || lv[0].SalesChannels[1].SalesChannel != "web" || lv[0].SalesChannels[1].Available != 1 || lv[0].SalesChannels[0].Available != 3 {
			t.Fatalf("levels %+v", lv)
		}
		// The web shop may take one from the store floor, not two.
		hold := func(ref string, qty int, channel string, ttl any) response {
			body := map[string]any{"ref": ref, "sales_channel": channel,
				"lines": []map[string]any{{"sku": "DRESS-S", "location_id": sh.LocationID, "quantity": qty}}}
			if ttl != nil {
				body["ttl_seconds"] = ttl
			}
			return s.do(t, http.MethodPost, "/v1/inventory/reservations", sh.Secret, body, nil)
		}
		p := assertProblem(t, hold("cart-1", 2, "web", nil), http.StatusConflict)
		if len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[0].quantity" || !strings.Contains(p.Detail, "1 available") {
			t.Errorf("short hold: %+v", p)
		}
		cart := decode[reservationJSON](t, hold("cart-1", 1, "web", nil))
		if cart.Status != "held" || cart.ExpiresAt == nil || !strings.HasPrefix(cart.ID, "rsv_") {
			t.Fatalf("cart hold %+v", cart)
		}
		if r := hold("cart-1", 1, "web", nil); r.Status != http.StatusOK || decode[reservationJSON](t, r).ID != cart.ID {
			t.Errorf("retry: %s", r)
		}
		// An associate holds the last two for a VIP for a day, through the POS.
		vipResp := hold("vip:amy", 2, "pos", 86400)
		if vipResp.Status != http.StatusCreated {
			t.Fatalf("VIP hold: %s", vipResp)
		}
		vip := decode[reservationJSON](t, vipResp)
		assertProblem(t, hold("cart-2", 1, "pos", 0), http.StatusConflict)
		got := decode[reservationJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory/reservations/"+vip.ID, sh.Secret, nil, nil))
		if got.Status != "held" || len(got.Lines) != 1 {
			t.Errorf("VIP hold %+v", got)
		}
		list := decode[page[reservationJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory/reservations?status=held", sh.Secret, nil, nil))
		if len(list.Data) != 2 || list.Data[0].ID != vip.ID {
			t.Errorf("held reservations %+v", list.Data)
		}
		// The VIP buys; the cart is abandoned.
		sold := decode[reservationJSON](t, s.must(t, http.StatusOK, http.MethodPost, "/v1/inventory/reservations/"+vip.ID+"/commit", sh.Secret,
			map[string]any{"reference": "POS-R1-0042"}, nil))
		if sold.Status != "committed" {
			t.Errorf("commit: %+v", sold)
		}
		released := decode[reservationJSON](t, s.must(t, http.StatusOK, http.MethodDelete, "/v1/inventory/reservations/"+cart.ID, sh.Secret, nil, nil))
		if released.Status != "released" || released.Lines[0].Status != "released" {
			t.Errorf("release: %+v", released)
		}
		lv = s.levels(t, sh.Secret, "sku=DRESS-S&location_id="+sh.LocationID)
		if lv[0].OnHand != 1 || lv[0].Reserved != 0 {
			t.Errorf("after the sale: %+v", lv[0])
		}
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/inventory/reservations/"+vip.ID, other.Secret, nil, nil), http.StatusNotFound)
		assertProblem(t, s.do(t, http.MethodDelete, "/v1/inventory/reservations/"+vip.ID, other.Secret, nil, nil), http.StatusNotFound)
		s.must(t, http.StatusNoContent, http.MethodDelete, "/v1/inventory/safety_stock?sales_channel=web&location_type=store", sh.Secret, nil, nil)
		assertProblem(t, s.do(t, http.MethodDelete, "/v1/inventory/safety_stock?sales_channel=web&location_type=store", sh.Secret, nil, nil), http.StatusNotFound)
		assertStockSound(t, db, sh.TenantID)
	})
}

// TestInventory_ConcurrentHoldsOverHTTP: 60 shoppers hold the last 10
// units at once through the API: exactly 10 get them.
func TestInventory_ConcurrentHoldsOverHTTP(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.stockShop(t)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{
			"kind": "receipt", "sku": "HOT", "location_id": sh.Warehouse, "quantity": 10}, nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		status := map[int]int{}
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.do(t, http.MethodPost, "/v1/inventory/reservations", sh.Secret, map[string]any{"ref": fmt.Sprint("cart-", i),
					"sales_channel": "web", "lines": []map[string]any{{"sku": "HOT", "location_id": sh.Warehouse, "quantity": 1}}}, nil)
				mu.Lock()
				status[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if status[http.StatusCreated] != 10 || status[http.StatusConflict] != 50 {
			t.Fatalf("statuses %v", status)
		}
		assertStockSound(t, db, sh.TenantID)
	})
}

func TestInventory_TransfersThresholdsAndFacts(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.stockShop(t)
		s.must(t, http.StatusOK, http.MethodPut, "/v1/inventory/low_stock_thresholds", sh.Secret, map[string]any{
			"sku": "TEE", "location_id": sh.Warehouse, "low_stock": 10}, nil)
		ts := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory/low_stock_thresholds", sh.Secret, nil, nil))
		if len(ts.Data) != 1 || ts.Data[0]["low_stock"].(float64) != 10 {
			t.Errorf("thresholds %+v", ts)
		}
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", sh.Secret, map[string]any{
			"kind": "receipt", "sku": "TEE", "location_id": sh.Warehouse, "quantity": 20}, nil)
		body := map[string]any{"from_location_id": sh.Warehouse, "to_location_id": sh.LocationID, "reference": "TO-9", "key": "TO-9",
			"lines": []map[string]any{{"sku": "TEE", "quantity": 12}}}
		tr := s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/transfers", sh.Secret, body, nil)
		if !strings.HasPrefix(tr.JSON["id"].(string), "trf_") || len(tr.JSON["movements"].([]any)) != 2 {
			t.Fatalf("transfer %s", tr)
		}
		again := s.must(t, http.StatusOK, http.MethodPost, "/v1/inventory/transfers", sh.Secret, body, nil)
		if again.JSON["id"] != tr.JSON["id"] || again.JSON["duplicate"] != true {
			t.Errorf("resend %s", again)
		}
		body["key"], body["lines"] = "TO-10", []map[string]any{{"sku": "TEE", "quantity": 9}}
		assertProblem(t, s.do(t, http.MethodPost, "/v1/inventory/transfers", sh.Secret, body, nil), http.StatusConflict)
		body["to_location_id"] = sh.Warehouse
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/inventory/transfers", sh.Secret, body, nil), "body.to_location_id")
		facts := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory/facts?kind=low_stock", sh.Secret, nil, nil))
		if len(facts.Data) != 1 || facts.Data[0]["location_id"] != sh.Warehouse || facts.Data[0]["available_after"].(float64) != 8 ||
			!strings.HasPrefix(facts.Data[0]["cause"].(string), "transfer:trf_") {
			t.Errorf("low-stock facts %+v", facts.Data)
		}
		back := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/inventory/facts?kind=back_in_stock&limit=1", sh.Secret, nil, nil))
		if len(back.Data) != 1 || back.NextCursor == nil || back.Data[0]["sales_channel"] != "pos" {
			t.Errorf("back-in-stock facts %+v", back)
		}
		assertStockSound(t, db, sh.TenantID)
	})
}
