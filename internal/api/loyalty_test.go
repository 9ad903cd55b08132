package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// loyaltyShop is a shop with a program (1 point per HK$10, 7 days pending
// online, none in store), two tiers and a set of rules.
func (s *server) loyaltyShop(t *testing.T) shop {
	t.Helper()
	return s.loyaltyShopFor(t, s.newShop(t))
}

// loyaltyShopFor gives a shop the program of loyaltyShop.
func (s *server) loyaltyShopFor(t *testing.T, sh shop) shop {
	t.Helper()
	s.must(t, http.StatusOK, http.MethodPut, "/v1/loyalty/program", sh.Secret, map[string]any{
		"point_name": "Stars", "rounding": "down",
		"earn_rates":          []map[string]any{{"currency": "HKD", "points": 1, "amount": 1000}},
		"point_values":        []map[string]any{{"currency": "HKD", "points": 100, "amount": 1000}},
		"expiry":              map[string]any{"kind": "rolling_months", "months": 24},
		"exclusions":          map[string]any{"categories": []string{"gift_card"}, "tenders": []string{"points"}},
		"default_return_days": 7, "return_windows": []map[string]any{{"sales_channel": "pos", "days": 0}},
		"tiering": map[string]any{"basis": "spend", "currency": "HKD", "window": "rolling_12_months"},
	}, nil)
	s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/tiers", sh.Secret, map[string]any{
		"code": "member", "name": "Member", "rank": 0, "threshold": 0, "multiplier": 1000}, nil)
	s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/tiers", sh.Secret, map[string]any{
		"code": "gold", "name": "Gold", "rank": 1, "threshold": 500000, "multiplier": 1500}, nil)
	return sh
}

func (s *server) rule(t *testing.T, key string, body map[string]any) string {
	t.Helper()
	r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/rules", key, body, nil)
	return r.JSON["id"].(string)
}

func TestLoyalty_PurchaseEarnsInTheSameResponse(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		s.rule(t, sh.Secret, map[string]any{"name": "Tops ×2", "trigger": "purchase",
			"condition": map[string]any{"categories": []string{"tops"}}, "effect": map[string]any{"kind": "multiplier", "multiplier": 2000}})
		buyer := ids("email", email("earn"))
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, sale("L-1", buyer), nil)
		lo := r.JSON["loyalty"].(map[string]any)
		// Tees 23220 → 23 base (of 33 for the sale) ×2 for tops: 33 + 23.
		if lo["points"].(float64) != 56 || lo["pending"] != false || lo["balances"].(map[string]any)["available"].(float64) != 56 {
			t.Fatalf("loyalty block: %v", r)
		}
		cid := r.JSON["customer_id"].(string)
		acct := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/loyalty", sh.Secret, nil, nil)
		if acct.JSON["balances"].(map[string]any)["available"].(float64) != 56 || acct.JSON["tier"].(map[string]any)["code"] != "member" ||
			acct.JSON["gap_to_next_tier"].(float64) != 500000-33120 {
			t.Fatalf("account: %s", acct)
		}
		entries := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/loyalty/entries", sh.Secret, nil, nil)
		if data := entries.JSON["data"].([]any); len(data) != 1 || len(data[0].(map[string]any)["postings"].([]any)) != 2 {
			t.Fatalf("entries: %s", entries)
		}
		// A resend applies nothing.
		again := s.must(t, http.StatusOK, http.MethodPost, "/v1/transactions", sh.Secret, sale("L-1", buyer), nil)
		if again.JSON["loyalty"] != nil {
			t.Errorf("a resend reported loyalty: %s", again)
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

func TestLoyalty_AdjustmentsNeedTheirScopeAndApplyOnce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		cus := s.identify(t, sh.Secret, http.StatusCreated, ids("email", email("adj")))
		path := "/v1/customers/" + cus.ID + "/loyalty/adjustments"
		reader := s.newKey(t, sh.TenantID, "loyalty:read")
		assertProblem(t, s.do(t, http.MethodPost, path, reader.Secret, map[string]any{"points": 10, "reason": "x"}, nil), http.StatusForbidden)
		give := map[string]any{"points": 500, "reason": "service recovery", "reference": "TICKET-1"}
		s.must(t, http.StatusCreated, http.MethodPost, path, sh.Secret, give, nil)
		again := s.must(t, http.StatusOK, http.MethodPost, path, sh.Secret, give, nil)
		if again.JSON["balances"].(map[string]any)["available"].(float64) != 500 {
			t.Fatalf("applied twice: %s", again)
		}
		assertFieldError(t, s.do(t, http.MethodPost, path, sh.Secret, map[string]any{"points": -501, "reason": "too much"}, nil), "body.points")
		s.must(t, http.StatusCreated, http.MethodPost, path, sh.Secret, map[string]any{"points": -200, "reason": "goodwill reversed"}, nil)
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/customers/"+cus.ID+"/loyalty", other.Secret, nil, nil), http.StatusNotFound)
		assertLedgerSound(t, db, sh.TenantID)
	})
}

func TestLoyalty_ProgramRejectsBadSettings(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.newShop(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/loyalty/program", sh.Secret, nil, nil), http.StatusNotFound)
		r := s.do(t, http.MethodPut, "/v1/loyalty/program", sh.Secret, map[string]any{"point_name": "Stars", "rounding": "down",
			"earn_rates": []map[string]any{{"currency": "HKX", "points": 1, "amount": 1000}},
			"expiry":     map[string]any{"kind": "rolling_months", "months": 0},
			"tiering":    map[string]any{"basis": "spend", "currency": "HKD", "window": "rolling_12_months"}}, nil)
		assertFieldError(t, r, "body.earn_rates[0].currency")
		// Tiers need a program, and a ladder with an entry tier.
		assertProblem(t, s.do(t, http.MethodPost, "/v1/loyalty/tiers", sh.Secret, map[string]any{
			"code": "member", "name": "Member", "rank": 0, "threshold": 0, "multiplier": 1000}, nil), http.StatusConflict)
	})
}

// TestLoyalty_QuoteEqualsCommit quotes random baskets against a program
// with rules of every kind and limits, then records each one: the points
// recorded must be exactly the points quoted, award by award and line by line.
func TestLoyalty_QuoteEqualsCommit(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		for _, r := range quoteRules {
			s.rule(t, sh.Secret, r)
		}
		rng := rand.New(rand.NewPCG(7, uint64(len(t.Name()))))
		customers := make([]string, 4)
		for i := range customers {
			customers[i] = s.identify(t, sh.Secret, http.StatusCreated, ids("email", email(fmt.Sprint("q", i)))).ID
		}
		for i := range 60 {
			basket := randomBasket(rng, fmt.Sprint("Q-", i), customers[rng.IntN(len(customers))])
			quoteBody := map[string]any{"customer_id": basket["customer_id"], "sales_channel": basket["sales_channel"],
				"location": basket["location"], "occurred_at": basket["occurred_at"], "lines": basket["lines"], "tenders": basket["tenders"]}
			// Half the baskets ask both calls to explain the rules that gave
			// nothing: those reasons must agree too.
			explain := i%2 == 1
			query := map[bool]string{true: "?explain=true"}[explain]
			q := s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/quote"+query, sh.Secret, quoteBody, nil)
			r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions"+query, sh.Secret, basket, nil)
			quoted, recorded := q.JSON["earning"], r.JSON["loyalty"].(map[string]any)["earning"]
			if _, listed := quoted.(map[string]any)["not_applied"]; listed != explain {
				t.Fatalf("basket %d: explain=%v but not_applied listed=%v", i, explain, listed)
			}
			if !reflect.DeepEqual(quoted, recorded) {
				a, _ := json.Marshal(quoted)
				b, _ := json.Marshal(recorded)
				t.Fatalf("basket %d: quote\n%s\nrecorded\n%s", i, a, b)
			}
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

var quoteRules = []map[string]any{
	{"name": "Tops ×2", "trigger": "purchase", "condition": map[string]any{"categories": []string{"tops"}},
		"effect": map[string]any{"kind": "multiplier", "multiplier": 2000}},
	{"name": "Big basket", "trigger": "purchase", "condition": map[string]any{"min_spend": 50000, "currency": "HKD"},
		"effect": map[string]any{"kind": "fixed_points", "points": 100}, "limits": map[string]any{"per_member_per_day": 1}},
	{"name": "Welcome", "trigger": "purchase", "condition": map[string]any{"first_purchase": true},
		"effect": map[string]any{"kind": "fixed_points", "points": 200}, "limits": map[string]any{"once_per_member": true}},
	{"name": "Caps", "trigger": "purchase", "condition": map[string]any{"skus": []string{"CAP"}},
		"effect": map[string]any{"kind": "points_per_item", "points": 7}, "limits": map[string]any{"budget": 150}},
	{"name": "Web", "trigger": "purchase", "condition": map[string]any{"sales_channels": []string{"web"}, "currency": "HKD"},
		"effect": map[string]any{"kind": "points_per_amount", "points": 3, "amount": 10000}},
	{"name": "Gold only", "trigger": "purchase", "condition": map[string]any{"tiers": []string{"gold"}},
		"effect": map[string]any{"kind": "fixed_points", "points": 11}, "limits": map[string]any{"per_member_per_month": 3}},
}

func randomBasket(rng *rand.Rand, receipt, customerID string) map[string]any {
	skus := []struct{ sku, category string }{{"TEE-M", "tops"}, {"CAP", "accessories"}, {"GC-500", "gift_card"}, {"JEANS", "bottoms"}}
	var lines []map[string]any
	var total int64
	for range 1 + rng.IntN(4) {
		it := skus[rng.IntN(len(skus))]
		qty, price := int64(1+rng.IntN(3)), int64(100+rng.IntN(40000))
		discount := int64(0)
		if rng.IntN(3) == 0 {
			discount = rng.Int64N(qty * price / 2)
		}
		lines = append(lines, map[string]any{"sku": it.sku, "category": it.category, "quantity": qty, "unit_price": price, "discount": discount})
		total += qty*price - discount
	}
	points := int64(0)
	if rng.IntN(4) == 0 {
		points = rng.Int64N(total/2 + 1)
	}
	channel := []string{"pos", "web"}[rng.IntN(2)]
	return map[string]any{"kind": "purchase", "sales_channel": channel, "location": "CWB", "register": "R1", "receipt_number": receipt,
		"occurred_at": fmt.Sprintf("2026-11-%02dT1%d:00:00+08:00", 1+rng.IntN(20), rng.IntN(9)), "customer_id": customerID,
		"lines": lines, "tenders": []map[string]any{{"type": "points", "amount": points}, {"type": "card", "amount": total - points}}}
}

func assertLedgerSound(t *testing.T, db *sqldb.DB, tenantID string) {
	t.Helper()
	bad, err := db.CheckLoyalty(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error("ledger invariant:", b)
	}
}

func TestLoyalty_Liability(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		buyer := ids("email", email("liab"))
		// Both sales happen now: the web sale's points stay pending for the
		// 7 days after it, whatever day the test runs.
		now := time.Now().UTC().Format(time.RFC3339)
		store := sale("LB-1", buyer)
		store["occurred_at"] = now
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, store, nil) // 33 available
		web := sale("LB-2", buyer)
		web["sales_channel"], web["occurred_at"] = "web", now
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", sh.Secret, web, nil) // 33 pending (7-day window)
		l := s.must(t, http.StatusOK, http.MethodGet, "/v1/loyalty/liability", sh.Secret, nil, nil)
		values := l.JSON["values"].([]any)[0].(map[string]any)
		if l.JSON["available"].(float64) != 33 || l.JSON["pending"].(float64) != 33 || values["currency"] != "HKD" || values["available"].(float64) != 330 {
			t.Fatalf("liability: %s", l)
		}
		flows := l.JSON["flows"].([]any)
		if len(flows) != 1 || flows[0].(map[string]any)["issued"].(float64) != 66 {
			t.Fatalf("flows: %v", flows)
		}
		c := s.must(t, http.StatusOK, http.MethodGet, "/v1/loyalty/liability.csv", sh.Secret, nil, nil)
		if ct := c.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
			!strings.Contains(string(c.Raw), "section,key,points,value_HKD\noutstanding,available,33,330\n") {
			t.Fatalf("csv: %s %s", ct, c.Raw)
		}
		other := s.newTenant(t)
		assertProblem(t, s.do(t, http.MethodGet, "/v1/loyalty/liability", other.Secret, nil, nil), http.StatusNotFound)
	})
}

// TestLoyalty_EventsEarn: a behavioural event sent through the tracking API
// earns what an event rule gives, once per member, and only when its
// properties match.
func TestLoyalty_EventsEarn(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		s.rule(t, sh.Secret, map[string]any{"name": "Review bonus", "trigger": "event",
			"condition": map[string]any{"event": "Review Written", "properties": []map[string]any{{"name": "rating", "values": []string{"4", "5"}}}},
			"effect":    map[string]any{"kind": "fixed_points", "points": 20}, "limits": map[string]any{"once_per_member": true}})
		review := func(rating int) map[string]any {
			return msg("track", "userId", "reviewer-1", "event", "Review Written", "properties", map[string]any{"rating": rating})
		}
		first := s.segment(t, sh.Secret, "/v1/batch", map[string]any{"batch": []any{review(2), review(5), review(5)}})
		if len(first.Dropped) != 0 {
			t.Fatalf("dropped: %+v", first.Dropped)
		}
		found := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?external_type=user_id&external_value=reviewer-1", sh.Secret, nil, nil)
		data := found.JSON["data"].([]any)
		if len(data) != 1 {
			t.Fatalf("customer: %s", found)
		}
		cid := data[0].(map[string]any)["id"].(string)
		acct := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/loyalty", sh.Secret, nil, nil)
		if acct.JSON["balances"].(map[string]any)["available"].(float64) != 20 {
			t.Fatalf("a 5-star review earns 20 once: %s", acct)
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

// TestLoyalty_PointsAsATender holds points for a payment, then captures or
// releases: a failed payment gives back exactly the lots it took.
func TestLoyalty_PointsAsATender(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		cus := s.identify(t, sh.Secret, http.StatusCreated, ids("email", email("tender")))
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers/"+cus.ID+"/loyalty/adjustments", sh.Secret,
			map[string]any{"points": 1000, "reason": "welcome"}, nil)
		balance := func() float64 {
			r := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cus.ID+"/loyalty", sh.Secret, nil, nil)
			return r.JSON["balances"].(map[string]any)["available"].(float64)
		}
		// HK$25.00 at 100 points = HK$10 is 250 points.
		hold := map[string]any{"customer_id": cus.ID, "amount": 2500, "currency": "HKD", "reference": "PAY-1"}
		h := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/holds", sh.Secret, hold, nil)
		if h.JSON["points"].(float64) != 250 || balance() != 750 {
			t.Fatalf("hold: %s, balance %v", h, balance())
		}
		again := s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/holds", sh.Secret, hold, nil)
		if again.JSON["id"] != h.JSON["id"] || balance() != 750 {
			t.Fatalf("a retried hold held twice: %s", again)
		}
		hid := h.JSON["id"].(string)
		s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/holds/"+hid+"/release", sh.Secret, nil, nil)
		if balance() != 1000 {
			t.Fatalf("release gave back %v", balance())
		}
		assertProblem(t, s.do(t, http.MethodPost, "/v1/loyalty/holds/"+hid+"/capture", sh.Secret, nil, nil), http.StatusConflict)
		// A second payment goes through.
		h2 := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/holds", sh.Secret,
			map[string]any{"customer_id": cus.ID, "points": 400, "currency": "HKD", "reference": "PAY-2"}, nil)
		if h2.JSON["amount"].(map[string]any)["amount"].(float64) != 4000 {
			t.Fatalf("400 points pay HK$40: %s", h2)
		}
		s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/holds/"+h2.JSON["id"].(string)+"/capture", sh.Secret, nil, nil)
		if balance() != 600 {
			t.Fatalf("after capture: %v", balance())
		}
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/loyalty/holds", sh.Secret,
			map[string]any{"customer_id": cus.ID, "points": 601, "currency": "HKD", "reference": "PAY-3"}, nil), "body.points")
		assertLedgerSound(t, db, sh.TenantID)
	})
}

// TestLoyalty_QuoteOffersRedeemableRewards: the quote lists the rewards the
// member could redeem now: eligible, in stock and affordable.
func TestLoyalty_QuoteOffersRedeemableRewards(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		cheap := s.reward(t, sh.Secret, nil)
		s.reward(t, sh.Secret, map[string]any{"name": "Too dear", "cost": 1000})
		s.reward(t, sh.Secret, map[string]any{"name": "Gold only", "eligibility": map[string]any{"tiers": []string{"gold"}}})
		s.reward(t, sh.Secret, map[string]any{"name": "Elsewhere", "eligibility": map[string]any{"locations": []string{"MK"}}})
		cus := s.identify(t, sh.Secret, http.StatusCreated, ids("email", email("offers")))
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers/"+cus.ID+"/loyalty/adjustments", sh.Secret,
			map[string]any{"points": 500, "reason": "welcome"}, nil)
		q := s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/quote", sh.Secret, map[string]any{"customer_id": cus.ID,
			"sales_channel": "pos", "location": "CWB", "lines": []map[string]any{{"sku": "TEE", "quantity": 1, "unit_price": 10000}}}, nil)
		offers := q.JSON["rewards"].([]any)
		if len(offers) != 1 || offers[0].(map[string]any)["id"] != cheap {
			t.Fatalf("offers: %v", offers)
		}
	})
}
