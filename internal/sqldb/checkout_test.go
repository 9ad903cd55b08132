package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/payment"
	"github.com/omo-platform/omo/internal/routing"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// shop is a loyalty world with a catalog, a Hong Kong warehouse holding
// stock, and the offline payment provider.
type shop struct {
	*loyaltyWorld
	warehouse string
	payer     offlinePayer
}

// offlinePayer pays through the real offline provider (pay in store, cash
// on delivery, paid at the POS).
type offlinePayer struct{ p payment.Offline }

func (o offlinePayer) Pay(ctx context.Context, r sqldb.PayRequest) (sqldb.PayResult, error) {
	m, err := payment.ParseMethod(r.Method)
	if err != nil {
		return sqldb.PayResult{}, err
	}
	res, err := o.p.Pay(ctx, payment.Intent{OrderID: r.OrderID, Currency: r.Currency, Amount: r.Amount, Method: m, PaymentMethod: r.PaymentMethod,
		IdempotencyKey: r.IdempotencyKey})
	st := sqldb.PayPending
	if res.Status == payment.Succeeded {
		st = sqldb.PaySucceeded
	}
	return sqldb.PayResult{Provider: res.Provider, Reference: res.Reference, Status: st, Captured: res.Captured}, err
}
func (offlinePayer) Cancel(context.Context, string, string, string) error { return nil }
func (offlinePayer) Refund(_ context.Context, r sqldb.RefundRequest) (sqldb.PayResult, error) {
	return sqldb.PayResult{Provider: r.Provider, Status: sqldb.PaySucceeded}, nil
}

// decliningPayer answers as a card network does when the card is declined.
type decliningPayer struct{ offlinePayer }

func (decliningPayer) Pay(context.Context, sqldb.PayRequest) (sqldb.PayResult, error) {
	return sqldb.PayResult{Provider: "stripe", Status: sqldb.PayFailed, FailureCode: "card_declined", FailureReason: "Your card was declined."}, nil
}

func openShop(t *testing.T, e sqldb.Engine) *shop {
	w := openLoyalty(t, e)
	ctx := context.Background()
	wh, err := w.db.CreateLocation(ctx, location.Location{TenantID: w.tenantID, Code: "HK-WH", Type: location.TypeWarehouse,
		Names: map[string]string{"en": "Kwai Chung"}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open",
		Address: location.Address{Country: "HK"}, Coordinates: &location.Coordinates{Latitude: 22.36, Longitude: 114.12}})
	w.must(wh, err)
	w.must(w.db.CreateCategory(ctx, catalog.Category{TenantID: w.tenantID, Code: "apparel", Names: map[string]string{"en": "Apparel"}}))
	w.must(w.db.CreateProduct(ctx, catalog.Product{TenantID: w.tenantID, Status: catalog.StatusActive, Names: map[string]string{"en": "Tee"},
		Categories: []string{"apparel"}, Options: []string{"size"}, Variants: []catalog.Variant{
			{SKU: "TEE-M", Options: map[string]string{"size": "M"}, Status: catalog.StatusActive},
			{SKU: "TEE-L", Options: map[string]string{"size": "L"}, Status: catalog.StatusActive}}}))
	pl, err := w.db.CreatePriceList(ctx, catalog.PriceList{TenantID: w.tenantID, Code: "web-hkd", Name: "Web", Currency: "HKD", Status: catalog.StatusActive})
	w.must(pl, err)
	w.must(w.db.SetPrices(ctx, w.tenantID, pl.ID, []catalog.Price{{SKU: "TEE-M", Amount: 20000}, {SKU: "TEE-L", Amount: 30000}}))
	s := &shop{loyaltyWorld: w, warehouse: wh.ID}
	s.receive("TEE-M", 10)
	s.receive("TEE-L", 10)
	return s
}

func (s *shop) receive(sku string, n int64) {
	s.t.Helper()
	err := s.db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		return sqldb.RecordMovement(context.Background(), tx, sqldb.StockMovement{TenantID: s.tenantID, SKU: sku, LocationID: s.warehouse,
			Kind: "receipt", Quantity: n, Reference: "test", Key: fmt.Sprintf("receipt:%s:%d:%d", sku, n, s.receipt)})
	})
	s.receipt++
	if err != nil {
		s.t.Fatal(err)
	}
}

// cart opens a web cart shipping to Hong Kong with lines (SKU, quantity).
func (s *shop) cart(customerID string, lines ...any) order.Cart {
	s.t.Helper()
	ctx := context.Background()
	c, err := s.db.CreateCart(ctx, sqldb.NewCart{TenantID: s.tenantID, CustomerID: customerID, SalesChannel: "web", Currency: "HKD"})
	if err != nil {
		s.t.Fatal(err)
	}
	c, err = s.db.EditCart(ctx, s.tenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error {
		for i := 0; i < len(lines); i += 2 {
			if _, err := c.AddLine(lines[i].(string), int64(lines[i+1].(int)), "", fmt.Sprint("l", i)); err != nil {
				return err
			}
		}
		c.Delivery = &order.Delivery{Method: order.ShipToAddress, Address: &order.Address{Country: "HK", Point: &order.Point{Lat: 22.28, Lon: 114.18}}}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *shop) checkAll() {
	s.t.Helper()
	s.check()
	bad, err := s.db.CheckInventory(context.Background(), s.tenantID)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, b := range bad {
		s.t.Error(b)
	}
}

func TestCheckout_CompletesOnceAndEarns(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("ada.lovelace@gmail.com")
			c := s.cart(cus, "TEE-M", 2, "TEE-L", 1)
			p := sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "cash_on_delivery"}
			o, created, err := s.db.CompleteCart(ctx, p, s.payer)
			if err != nil || !created {
				t.Fatalf("complete: %v %v", created, err)
			}
			if o.Totals.Total != 70000 || o.PaymentStatus != sqldb.PaymentCollect || o.Status != order.OrderOpen || o.TransactionID == "" {
				t.Fatalf("order %+v", o)
			}
			if o.Loyalty == nil || o.Loyalty.Points != 70 {
				t.Fatalf("the sale earned nothing: %+v", o.Loyalty)
			}
			again, created, err := s.db.CompleteCart(ctx, p, s.payer)
			if err != nil || created || again.ID != o.ID {
				t.Fatalf("a retried completion made another order: %v %v %v", again.ID, created, err)
			}
			// Ship it: the reservation becomes a sale; delivered fulfils.
			sh := o.Shipments[0]
			for _, to := range []string{order.Picking, order.Packed, order.Shipped, order.Delivered} {
				if o, err = s.db.MoveShipment(ctx, sqldb.ShipmentMove{TenantID: s.tenantID, ShipmentID: sh.ID, To: to}, s.payer); err != nil {
					t.Fatalf("→ %s: %v", to, err)
				}
			}
			if o.Status != order.OrderFulfilled {
				t.Fatalf("status %s", o.Status)
			}
			if _, err := s.db.MoveShipment(ctx, sqldb.ShipmentMove{TenantID: s.tenantID, ShipmentID: sh.ID, To: order.Cancelled}, s.payer); !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("cancelling a delivered shipment: %v", err)
			}
			// Return one tee of two, restocked: refund is its share; more than bought is refused.
			r, err := s.db.ReturnOrder(ctx, sqldb.ReturnParams{TenantID: s.tenantID, OrderID: o.ID, LocationID: s.warehouse,
				Lines: []sqldb.ReturnItem{{LineNo: 1, Quantity: 1, Restock: true}}}, s.payer)
			if err != nil || r.RefundTotal != 20000 {
				t.Fatalf("return: %+v %v", r, err)
			}
			if _, err := s.db.ReturnOrder(ctx, sqldb.ReturnParams{TenantID: s.tenantID, OrderID: o.ID,
				Lines: []sqldb.ReturnItem{{LineNo: 1, Quantity: 2}}}, s.payer); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("returning beyond what was bought: %v", err)
			}
			evs, err := s.db.OrderEvents(ctx, s.tenantID, o.ID)
			if err != nil || len(evs) != 6 {
				t.Fatalf("events %d %v", len(evs), err)
			}
			s.checkAll()
		})
	}
}

func TestCheckout_ZeroOversell(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			const shoppers = 500
			carts := make([]order.Cart, shoppers)
			for i := range carts {
				carts[i] = s.cart("", "TEE-M", 1)
			}
			var orders, soldOut atomic.Int64
			var wg sync.WaitGroup
			sem := make(chan struct{}, 64)
			for _, c := range carts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					_, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "cash_on_delivery"}, s.payer)
					switch {
					case err == nil:
						orders.Add(1)
					case apperr.Is(err, apperr.Conflict):
						soldOut.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if orders.Load() != 10 || soldOut.Load() != shoppers-10 {
				t.Fatalf("%d orders and %d sold out of 10 units", orders.Load(), soldOut.Load())
			}
			s.checkAll()
		})
	}
}

func TestCheckout_PointsWithAFailedPayment(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("bo.chan@gmail.com")
			s.buy(cus, "pos", line("BAG", "bags", 1, 500000)) // earns points to pay with
			before, err := s.db.FindLoyaltyAccount(ctx, s.tenantID, cus)
			if err != nil {
				t.Fatal(err)
			}
			c := s.cart(cus, "TEE-M", 1)
			c, err = s.db.EditCart(ctx, s.tenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error { c.Points = 100; return nil })
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "card"}, decliningPayer{})
			if !apperr.Is(err, apperr.PaymentFailed) {
				t.Fatalf("declined card: %v", err)
			}
			after, err := s.db.FindLoyaltyAccount(ctx, s.tenantID, cus)
			if err != nil {
				t.Fatal(err)
			}
			if after.Balances.Available != before.Balances.Available {
				t.Fatalf("a declined payment moved points: %d → %d", before.Balances.Available, after.Balances.Available)
			}
			again, err := s.db.FindCart(ctx, s.tenantID, c.ID)
			if err != nil || again.Status != order.CartOpen {
				t.Fatalf("cart after decline: %+v %v", again, err)
			}
			s.checkAll()
		})
	}
}

// TestCheckout_CancelledShipmentRefunds cancels the only shipment of two
// paid orders before it leaves: the stock goes back, the points paid come
// back as points, the money tender is refunded (or, cash on delivery, no
// longer collected), the points earned are clawed back, and the order is
// cancelled and refunded in full.
func TestCheckout_CancelledShipmentRefunds(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("kit.lau@gmail.com")
			s.buy(cus, "pos", line("BAG", "bags", 1, 500000))
			before, err := s.db.FindLoyaltyAccount(ctx, s.tenantID, cus)
			if err != nil {
				t.Fatal(err)
			}
			for _, method := range []string{"paid_at_pos", "cash_on_delivery"} {
				c := s.cart(cus, "TEE-M", 1)
				if _, err := s.db.EditCart(ctx, s.tenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error { c.Points = 100; return nil }); err != nil {
					t.Fatal(err)
				}
				o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: method,
					PaymentMethod: "R1-0042"}, s.payer)
				if err != nil {
					t.Fatalf("%s: %+v", method, err)
				}
				o, err = s.db.MoveShipment(ctx, sqldb.ShipmentMove{TenantID: s.tenantID, ShipmentID: o.Shipments[0].ID, To: order.Cancelled}, s.payer)
				if err != nil {
					t.Fatalf("%s: %v", method, err)
				}
				if o.Status != order.OrderCancelled || o.PaymentStatus != sqldb.PaymentRefunded || o.Refunded != o.Totals.Total {
					t.Fatalf("%s: order %s / %s, refunded %d of %d", method, o.Status, o.PaymentStatus, o.Refunded, o.Totals.Total)
				}
				for _, p := range o.Payments {
					if p.Provider != "points" && p.Captured > 0 && p.Refunded != p.Captured {
						t.Fatalf("%s: payment %+v not refunded", method, p)
					}
				}
			}
			after, err := s.db.FindLoyaltyAccount(ctx, s.tenantID, cus)
			if err != nil {
				t.Fatal(err)
			}
			if after.Balances.Available != before.Balances.Available || after.Balances.Held != 0 {
				t.Fatalf("points after two cancelled orders: %+v, before %+v", after.Balances, before.Balances)
			}
			s.checkAll()
		})
	}
}

// TestCheckout_CouponComesBackWithTheWholeOrder uses a single-use HK$50
// coupon at checkout: a partial return keeps it used, returning the rest
// makes it usable again, and the refunds add up to what was paid.
func TestCheckout_CouponComesBackWithTheWholeOrder(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			rw, err := s.db.CreateReward(ctx, sqldb.Reward{TenantID: s.tenantID, Name: "HK$50 off", Kind: sqldb.RewardFixedDiscount, Status: "active",
				Cost: 100, Amount: 5000, Currency: "HKD", CouponDays: 30})
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.db.CreateCouponBatch(ctx, sqldb.CouponBatch{TenantID: s.tenantID, RewardID: rw.ID, Requested: 1, MaxUses: 1})
			if err != nil {
				t.Fatal(err)
			}
			var code string
			if err := s.db.EachBatchCode(ctx, s.tenantID, b.ID, func(c sqldb.Coupon) error { code = c.Code; return nil }); err != nil || code == "" {
				t.Fatalf("batch code %q: %v", code, err)
			}
			c := s.cart("", "TEE-M", 2)
			if _, err := s.db.EditCart(ctx, s.tenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error { return c.AddCoupon(code) }); err != nil {
				t.Fatal(err)
			}
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "paid_at_pos", PaymentMethod: "R1-7"}, s.payer)
			if err != nil {
				t.Fatal(err)
			}
			if o.Totals.Total != 35000 {
				t.Fatalf("total with the coupon: %d", o.Totals.Total)
			}
			o = s.deliver(o)
			state := func() string {
				cp, err := s.db.FindCouponByCode(ctx, s.tenantID, code)
				if err != nil {
					t.Fatal(err)
				}
				return cp.State(s.db.Now())
			}
			var refunded int64
			for i, want := range []string{"used", "active"} {
				r, err := s.db.ReturnOrder(ctx, sqldb.ReturnParams{TenantID: s.tenantID, OrderID: o.ID, LocationID: s.warehouse,
					Lines: []sqldb.ReturnItem{{LineNo: 1, Quantity: 1, Restock: true}}}, s.payer)
				if err != nil {
					t.Fatal(err)
				}
				refunded += r.RefundTotal
				if got := state(); got != want {
					t.Fatalf("after return %d the coupon is %s, want %s", i+1, got, want)
				}
			}
			if refunded != o.Totals.Total {
				t.Fatalf("refunded %d of %d", refunded, o.Totals.Total)
			}
			s.checkAll()
		})
	}
}

// TestCheckout_TierPriceFollowsTheTier prices a member's open cart from
// the gold list the moment a purchase makes her gold, and the order keeps
// the price that won.
func TestCheckout_TierPriceFollowsTheTier(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			gold, err := s.db.CreatePriceList(ctx, catalog.PriceList{TenantID: s.tenantID, Code: "gold-hkd", Name: "Gold", Currency: "HKD",
				Status: catalog.StatusActive, Tiers: []string{"gold"}, Priority: 20})
			s.must(gold, err)
			s.must(s.db.SetPrices(ctx, s.tenantID, gold.ID, []catalog.Price{{SKU: "TEE-M", Amount: 17000}}))
			cus := s.customer("gia.tam@gmail.com")
			c := s.cart(cus, "TEE-M", 1)
			before, err := s.db.PriceCart(ctx, c)
			if err != nil || before.Totals.Lines[0].UnitPrice != 20000 {
				t.Fatalf("before gold: %+v %v", before, err)
			}
			s.buy(cus, "pos", line("BAG", "bags", 1, 500000))
			after, err := s.db.PriceCart(ctx, c)
			if err != nil || after.Tier != "gold" || after.Totals.Lines[0].UnitPrice != 17000 || after.Totals.Lines[0].PriceRule == "" {
				t.Fatalf("after gold: %+v %v", after, err)
			}
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "cash_on_delivery"}, s.payer)
			if err != nil || o.Lines[0].UnitPrice != 17000 || o.Lines[0].PriceRule != after.Totals.Lines[0].PriceRule {
				t.Fatalf("order at the gold price: %+v %v", o, err)
			}
			s.checkAll()
		})
	}
}

// TestCheckout_RoutesAgainWhenTheNearestSellsOut sends 20 concurrent
// shoppers to a store near them that holds 2 tees, with 20 more at the
// warehouse: a shopper routed to the store after it sold out is routed
// again to the warehouse instead of being told the tee is gone, so every
// shopper gets an order and nothing is oversold.
func TestCheckout_RoutesAgainWhenTheNearestSellsOut(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			near, err := s.db.CreateLocation(ctx, location.Location{TenantID: s.tenantID, Code: "HK-NEAR", Type: location.TypeStore,
				Names: map[string]string{"en": "Causeway Bay"}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: "open",
				Address: location.Address{Country: "HK"}, Coordinates: &location.Coordinates{Latitude: 22.28, Longitude: 114.18}})
			s.must(near, err)
			s.receive("TEE-L", 10) // 20 at the warehouse
			rules, err := s.db.CreateRoutingRules(ctx, sqldb.RoutingRulesParams{TenantID: s.tenantID, Rules: routing.DefaultRuleSet(), Activate: true},
				sqldb.Actor{Actor: "key:test"})
			s.must(rules, err)
			if err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				return sqldb.RecordMovement(ctx, tx, sqldb.StockMovement{TenantID: s.tenantID, SKU: "TEE-L", LocationID: near.ID,
					Kind: "receipt", Quantity: 2, Reference: "test", Key: "receipt:near"})
			}); err != nil {
				t.Fatal(err)
			}
			const shoppers = 20
			carts := make([]order.Cart, shoppers)
			for i := range carts {
				carts[i] = s.cart("", "TEE-L", 1)
			}
			var wg sync.WaitGroup
			from := make(chan string, shoppers)
			for _, c := range carts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "cash_on_delivery"}, s.payer)
					if err != nil {
						t.Error(err)
						return
					}
					if o.Routing.RuleVersion != rules.Version {
						t.Errorf("the order was routed by rule version %d, want %d", o.Routing.RuleVersion, rules.Version)
					}
					from <- o.Shipments[0].LocationID
				}()
			}
			wg.Wait()
			close(from)
			count := map[string]int{}
			for loc := range from {
				count[loc]++
			}
			if count[near.ID] != 2 || count[s.warehouse] != shoppers-2 {
				t.Fatalf("orders per location: %v (store %s, warehouse %s)", count, near.ID, s.warehouse)
			}
			s.checkAll()
		})
	}
}

// walletPayer answers as Stripe does for Alipay: the shopper must finish
// the payment elsewhere. It records the payments it is asked to void.
type walletPayer struct {
	offlinePayer
	mu     sync.Mutex
	voided []string
}

func (*walletPayer) Pay(_ context.Context, r sqldb.PayRequest) (sqldb.PayResult, error) {
	return sqldb.PayResult{Provider: "stripe", Reference: "pi_" + r.OrderID, Status: sqldb.PayAction}, nil
}

func (w *walletPayer) void(_ context.Context, _, provider, reference, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.voided = append(w.voided, provider+":"+reference)
	return nil
}

// TestCheckout_UnpaidOrdersAreCancelledAndVoided leaves an Alipay order
// unpaid past the payment window: the job's sweep cancels it (stock and
// points back), voids its PaymentIntent, and leaves a paid order alone.
func TestCheckout_UnpaidOrdersAreCancelledAndVoided(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("ivy.ho@gmail.com")
			s.buy(cus, "pos", line("BAG", "bags", 1, 500000))
			before, err := s.db.FindLoyaltyAccount(ctx, s.tenantID, cus)
			if err != nil {
				t.Fatal(err)
			}
			wallet := &walletPayer{}
			c := s.cart(cus, "TEE-M", 1)
			if _, err := s.db.EditCart(ctx, s.tenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error { c.Points = 100; return nil }); err != nil {
				t.Fatal(err)
			}
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "alipay"}, wallet)
			if err != nil || o.PaymentStatus != sqldb.PaymentAwaiting {
				t.Fatalf("alipay order: %+v %v", o, err)
			}
			paid, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: s.cart("", "TEE-M", 1).ID,
				Method: "cash_on_delivery"}, s.payer)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := s.db.CancelUnpaidOrders(ctx, s.db.Now(), wallet.void, s.tenantID); err != nil || n != 0 {
				t.Fatalf("inside the window: %d cancelled, %v", n, err)
			}
			s.clock.Add(31 * time.Minute)
			if n, err := s.db.CancelUnpaidOrders(ctx, s.db.Now(), wallet.void, s.tenantID); err != nil || n != 1 {
				t.Fatalf("after the window: %d cancelled, %v", n, err)
			}
			if len(wallet.voided) != 1 || wallet.voided[0] != "stripe:pi_"+id.Format(id.Order, o.ID) {
				t.Fatalf("voided %v", wallet.voided)
			}
			got, err := s.db.FindOrder(ctx, s.tenantID, o.ID)
			if err != nil || got.Status != order.OrderCancelled || got.PaymentStatus != sqldb.PaymentFailed {
				t.Fatalf("unpaid order after the sweep: %+v %v", got, err)
			}
			if still, err := s.db.FindOrder(ctx, s.tenantID, paid.ID); err != nil || still.Status == order.OrderCancelled {
				t.Fatalf("the paid order: %+v %v", still, err)
			}
			after, err := s.db.FindLoyaltyAccount(ctx, s.tenantID, cus)
			if err != nil || after.Balances.Available != before.Balances.Available || after.Balances.Held != 0 {
				t.Fatalf("points after the sweep: %+v, before %+v (%v)", after.Balances, before.Balances, err)
			}
			s.checkAll()
		})
	}
}

// cardPayer takes cards as Stripe does; its refunds fail while down is set.
type cardPayer struct {
	offlinePayer
	down bool
}

func (*cardPayer) Pay(_ context.Context, r sqldb.PayRequest) (sqldb.PayResult, error) {
	return sqldb.PayResult{Provider: "stripe", Reference: "pi_" + r.OrderID, Status: sqldb.PaySucceeded, Captured: r.Amount}, nil
}

func (c *cardPayer) Refund(_ context.Context, r sqldb.RefundRequest) (sqldb.PayResult, error) {
	if c.down {
		return sqldb.PayResult{Provider: r.Provider, Status: sqldb.PayFailed}, fmt.Errorf("stripe refund: %w", payment.ErrUnavailable)
	}
	return sqldb.PayResult{Provider: r.Provider, Reference: "re_" + r.IdempotencyKey, Status: sqldb.PaySucceeded}, nil
}

// TestCheckout_FailedRefundsAreRetried returns a card order while Stripe
// is down: the return is recorded with its refund failed, and the retry
// sweep sends it again once Stripe answers, once.
func TestCheckout_FailedRefundsAreRetried(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			card := &cardPayer{}
			c := s.cart("", "TEE-M", 1)
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "card", PaymentMethod: "pm_card_visa"}, card)
			if err != nil {
				t.Fatal(err)
			}
			s.deliver(o)
			card.down = true
			r, err := s.db.ReturnOrder(ctx, sqldb.ReturnParams{TenantID: s.tenantID, OrderID: o.ID, LocationID: s.warehouse,
				Lines: []sqldb.ReturnItem{{LineNo: 1, Quantity: 1, Restock: true}}}, card)
			if err != nil || len(r.Refunds) != 1 || r.Refunds[0].Status != "failed" {
				t.Fatalf("return while Stripe is down: %+v %v", r, err)
			}
			card.down = false
			s.clock.Add(2 * time.Minute)
			for i, want := range []int{1, 0} {
				if n, err := s.db.RetryRefunds(ctx, s.db.Now(), card.Refund, s.tenantID); err != nil || n != want {
					t.Fatalf("sweep %d: %d refunds sent, %v", i, n, err)
				}
			}
			s.checkAll()
		})
	}
}
