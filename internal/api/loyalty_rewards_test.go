package api_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// member creates a customer of the shop with points given by adjustment.
func (s *server) member(t *testing.T, sh shop, tag string, points ...int) string {
	t.Helper()
	cus := s.identify(t, sh.Secret, http.StatusCreated, ids("email", email(tag)))
	for i, p := range points {
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers/"+cus.ID+"/loyalty/adjustments", sh.Secret,
			map[string]any{"points": p, "reason": "test", "reference": fmt.Sprintf("%s-%d", tag, i)}, nil)
	}
	return cus.ID
}

func (s *server) reward(t *testing.T, key string, body map[string]any) string {
	t.Helper()
	b := map[string]any{"name": "HK$50 off", "kind": "fixed_discount", "cost": 100, "value": map[string]any{"amount": 5000, "currency": "HKD"}}
	for k, v := range body {
		b[k] = v
	}
	return s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/rewards", key, b, nil).JSON["id"].(string)
}

func available(t *testing.T, s *server, key, cid string) float64 {
	t.Helper()
	r := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/loyalty", key, nil, nil)
	return r.JSON["balances"].(map[string]any)["available"].(float64)
}

// lotState is each lot's remaining points and expiry, by lot id.
func lotState(t *testing.T, db *sqldb.DB, tenantID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	rows, err := db.Read().Query(context.Background(), `SELECT id, remaining, expires_at FROM loyalty_lots WHERE tenant_id = $1`, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var lot string
		var n int64
		var exp *time.Time
		if err := rows.Scan(&lot, &n, &exp); err != nil {
			t.Fatal(err)
		}
		out[lot] = fmt.Sprintf("%d until %v", n, exp.UTC())
	}
	return out
}

func TestRewards_RedeemThenCancelRestoresTheSameLots(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		cid := s.member(t, sh, "redeem", 60, 80)
		before := lotState(t, db, sh.TenantID)
		rwd := s.reward(t, sh.Secret, map[string]any{"coupon_prefix": "HK50", "coupon_valid_days": 10})
		body := map[string]any{"customer_id": cid, "reward_id": rwd, "sales_channel": "pos", "location": "CWB", "reference": "R-1"}
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret, body, nil)
		code := r.JSON["coupon"].(map[string]any)["code"].(string)
		if !strings.HasPrefix(code, "HK50-") || r.JSON["balances"].(map[string]any)["available"].(float64) != 40 {
			t.Fatalf("redemption: %s", r)
		}
		// The retry applies nothing.
		again := s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret, body, nil)
		if again.JSON["id"] != r.JSON["id"] || available(t, s, sh.Secret, cid) != 40 {
			t.Fatalf("retry: %s", again)
		}
		assertLedgerSound(t, db, sh.TenantID)
		// Too few points: 409 saying how many there are.
		p := assertProblem(t, s.do(t, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret,
			map[string]any{"customer_id": cid, "reward_id": rwd, "sales_channel": "pos"}, nil), http.StatusConflict)
		if !strings.Contains(p.Detail, "40 points available") {
			t.Errorf("detail %q does not say what is available", p.Detail)
		}
		rid := r.JSON["id"].(string)
		s.must(t, http.StatusOK, http.MethodGet, "/v1/loyalty/redemptions/"+rid, sh.Secret, nil, nil)
		list := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid+"/loyalty/redemptions", sh.Secret, nil, nil)
		if len(list.JSON["data"].([]any)) != 1 {
			t.Fatalf("list: %s", list)
		}
		c := s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/redemptions/"+rid+"/cancel", sh.Secret, map[string]any{"reason": "changed mind"}, nil)
		if c.JSON["status"] != "cancelled" || c.JSON["coupon"].(map[string]any)["state"] != "void" || available(t, s, sh.Secret, cid) != 140 {
			t.Fatalf("cancel: %s", c)
		}
		if after := lotState(t, db, sh.TenantID); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("lots after cancel %v, before %v", after, before)
		}
		s.must(t, http.StatusOK, http.MethodPost, "/v1/loyalty/redemptions/"+rid+"/cancel", sh.Secret, map[string]any{}, nil)
		assertProblem(t, s.do(t, http.MethodPost, "/v1/coupons/"+code+"/redeem", sh.Secret, map[string]any{"sales_channel": "pos"}, nil), http.StatusConflict)
		if w := s.must(t, http.StatusOK, http.MethodGet, "/v1/loyalty/rewards/"+rwd, sh.Secret, nil, nil); w.JSON["redeemed"].(float64) != 0 {
			t.Errorf("stock not given back: %s", w)
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

func TestRewards_UsedCouponCannotBeCancelled(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		cid := s.member(t, sh, "used", 300)
		rwd := s.reward(t, sh.Secret, map[string]any{"eligibility": map[string]any{"sales_channels": []string{"pos"}}})
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret,
			map[string]any{"customer_id": cid, "reward_id": rwd, "sales_channel": "pos"}, nil)
		code := strings.ToLower(strings.ReplaceAll(r.JSON["coupon"].(map[string]any)["code"].(string), "-", " "))
		assertProblem(t, s.do(t, http.MethodPost, "/v1/coupons/"+code+"/redeem", sh.Secret, map[string]any{"sales_channel": "web"}, nil), http.StatusConflict)
		use := map[string]any{"sales_channel": "pos", "location": "CWB", "reference": "RCPT-9", "customer_id": cid}
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/coupons/"+code+"/redeem", sh.Secret, use, nil)
		s.must(t, http.StatusOK, http.MethodPost, "/v1/coupons/"+code+"/redeem", sh.Secret, use, nil)
		st := s.must(t, http.StatusOK, http.MethodGet, "/v1/coupons/"+code, sh.Secret, nil, nil)
		if st.JSON["state"] != "used" || st.JSON["uses"].(float64) != 1 {
			t.Fatalf("state: %s", st)
		}
		assertProblem(t, s.do(t, http.MethodPost, "/v1/loyalty/redemptions/"+r.JSON["id"].(string)+"/cancel", sh.Secret, map[string]any{}, nil),
			http.StatusConflict)
		for _, img := range []string{"qr.png", "barcode.png"} {
			res := s.must(t, http.StatusOK, http.MethodGet, "/v1/coupons/"+code+"/"+img, sh.Secret, nil, nil)
			if res.Header.Get("Content-Type") != "image/png" {
				t.Errorf("%s: content type %q", img, res.Header.Get("Content-Type"))
			}
			if _, err := png.Decode(bytes.NewReader(res.Raw)); err != nil {
				t.Errorf("%s: %v", img, err)
			}
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

// parallel runs n requests at once and counts the statuses.
func (s *server) parallel(t *testing.T, n int, req func(i int) response) map[int]int {
	t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := req(i)
			mu.Lock()
			got[r.Status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

func TestRewards_ConcurrentRedemptionsNeverOverspend(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		const balance, cost, n = 1000, 7, 256
		cid := s.member(t, sh, "hammer", 400, 600)
		rwd := s.reward(t, sh.Secret, map[string]any{"cost": cost})
		start := time.Now()
		got := s.parallel(t, n, func(i int) response {
			return s.do(t, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret,
				map[string]any{"customer_id": cid, "reward_id": rwd, "sales_channel": "pos", "reference": fmt.Sprintf("H-%d", i)}, nil)
		})
		t.Logf("%s: %d concurrent redemptions in %v: %v", db.Engine(), n, time.Since(start), got)
		if got[http.StatusCreated] != balance/cost || got[http.StatusConflict] != n-balance/cost {
			t.Fatalf("statuses %v, want %d created and the rest 409", got, balance/cost)
		}
		if a := available(t, s, sh.Secret, cid); a != balance%cost {
			t.Errorf("available %v, want %d", a, balance%cost)
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

func TestRewards_ConcurrentCouponUseSucceedsOnce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		cid := s.member(t, sh, "once", 100)
		rwd := s.reward(t, sh.Secret, nil)
		r := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret,
			map[string]any{"customer_id": cid, "reward_id": rwd, "sales_channel": "pos"}, nil)
		code := r.JSON["coupon"].(map[string]any)["code"].(string)
		pos := s.newKey(t, sh.TenantID, "coupons:redeem")
		got := s.parallel(t, 100, func(i int) response {
			return s.do(t, http.MethodPost, "/v1/coupons/"+code+"/redeem", pos.Secret,
				map[string]any{"sales_channel": "pos", "location": "CWB", "reference": fmt.Sprintf("T-%d", i)}, nil)
		})
		if got[http.StatusCreated] != 1 || got[http.StatusConflict] != 99 {
			t.Fatalf("statuses %v, want exactly one 201", got)
		}
		assertLedgerSound(t, db, sh.TenantID)
	})
}

func TestRewards_StockAndQuotaRacesStayWithinLimits(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		var members []string
		for i := range 8 {
			members = append(members, s.member(t, sh, fmt.Sprintf("race%d", i), 1000))
		}
		stocked := s.reward(t, sh.Secret, map[string]any{"cost": 10, "stock": 5})
		quota := s.reward(t, sh.Secret, map[string]any{"cost": 10, "quotas": []map[string]any{
			{"location": "CWB", "period": "month", "limit": 3}, {"location": "CWB", "period": "day", "limit": 50}}})
		for _, tc := range []struct {
			reward, location string
			want             int
		}{{stocked, "", 5}, {quota, "CWB", 3}} {
			var created atomic.Int64
			got := s.parallel(t, 40, func(i int) response {
				r := s.do(t, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret, map[string]any{"customer_id": members[i%len(members)],
					"reward_id": tc.reward, "sales_channel": "pos", "location": tc.location}, nil)
				if r.Status == http.StatusCreated {
					created.Add(1)
				}
				return r
			})
			if got[http.StatusCreated] != tc.want || got[http.StatusConflict] != 40-tc.want {
				t.Errorf("reward %s: statuses %v, want %d created", tc.reward, got, tc.want)
			}
		}
		// Elsewhere the quota does not apply.
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/redemptions", sh.Secret,
			map[string]any{"customer_id": members[0], "reward_id": quota, "sales_channel": "web"}, nil)
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/loyalty/rewards/"+stocked, sh.Secret, map[string]any{"stock": 6}, nil)
		assertFieldError(t, s.do(t, http.MethodPatch, "/v1/loyalty/rewards/"+stocked, sh.Secret, map[string]any{"stock": 4}, nil), "body.stock")
		assertLedgerSound(t, db, sh.TenantID)
	})
}

func TestCoupons_GuessesAreThrottled(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		guesser := s.newKey(t, sh.TenantID, "coupons:redeem")
		for i := range 10 {
			assertProblem(t, s.do(t, http.MethodGet, fmt.Sprintf("/v1/coupons/NOPE-%d", i), guesser.Secret, nil, nil), http.StatusNotFound)
		}
		r := s.do(t, http.MethodPost, "/v1/coupons/NOPE-X/redeem", guesser.Secret, map[string]any{"sales_channel": "pos"}, nil)
		assertProblem(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After: %s", r)
		}
		// Another key is not affected.
		assertProblem(t, s.do(t, http.MethodGet, "/v1/coupons/NOPE-1", sh.Secret, nil, nil), http.StatusNotFound)
	})
}

func TestCoupons_BatchAndCSV(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db)
		sh := s.loyaltyShop(t)
		b := s.must(t, http.StatusCreated, http.MethodPost, "/v1/coupons/batches", sh.Secret,
			map[string]any{"name": "Flyer", "count": 2500, "prefix": "FLY", "max_uses": 2}, nil)
		if b.JSON["count"].(float64) != 2500 || b.JSON["status"] != "ready" {
			t.Fatalf("batch: %s", b)
		}
		csv := s.must(t, http.StatusOK, http.MethodGet, b.JSON["codes_url"].(string), sh.Secret, nil, nil)
		lines := strings.Split(strings.TrimSpace(string(csv.Raw)), "\n")
		if len(lines) != 2501 || !strings.HasPrefix(lines[1], "FLY-") {
			t.Fatalf("csv has %d lines, first %q", len(lines), lines[min(1, len(lines)-1)])
		}
		code := strings.Split(lines[1], ",")[0]
		for i, want := range []int{http.StatusCreated, http.StatusCreated, http.StatusConflict} {
			r := s.do(t, http.MethodPost, "/v1/coupons/"+code+"/redeem", sh.Secret, map[string]any{"sales_channel": "web", "reference": fmt.Sprint(i)}, nil)
			if r.Status != want {
				t.Errorf("use %d: %s", i+1, r)
			}
		}
		assertFieldError(t, s.do(t, http.MethodPost, "/v1/coupons/batches", sh.Secret, map[string]any{"count": 10}, nil), "body.name")
		assertLedgerSound(t, db, sh.TenantID)
	})
}
