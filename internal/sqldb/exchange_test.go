package sqldb_test

import (
	"context"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// bought completes a web cart of one SKU for a customer, paid at the POS,
// and delivers it.
func (s *shop) bought(cus, sku string) *sqldb.Order {
	s.t.Helper()
	c := s.cart(cus, sku, 1)
	o, _, err := s.db.CompleteCart(context.Background(), sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "paid_at_pos",
		PaymentMethod: "R1-1"}, s.payer)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.deliver(o)
}

// deliver ships every shipment of an order and delivers it.
func (s *shop) deliver(o *sqldb.Order) *sqldb.Order {
	s.t.Helper()
	for _, sh := range o.Shipments {
		for _, to := range []string{order.Picking, order.Packed, order.Shipped, order.Delivered} {
			var err error
			if o, err = s.db.MoveShipment(context.Background(), sqldb.ShipmentMove{TenantID: s.tenantID, ShipmentID: sh.ID, To: to}, s.payer); err != nil {
				s.t.Fatalf("→ %s: %v", to, err)
			}
		}
	}
	return o
}

// exchangeCart opens a cart of sku for cus that brings back line 1 of
// the order, restocked at the warehouse.
func (s *shop) exchangeCart(cus, sku string, from *sqldb.Order) order.Cart {
	s.t.Helper()
	c := s.cart(cus, sku, 1)
	c, err := s.db.EditCart(context.Background(), s.tenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error {
		c.Exchange = &order.Exchange{OrderID: from.ID, LocationID: s.warehouse, Lines: []order.ExchangeLine{{LineNo: 1, Quantity: 1, Restock: true}}}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *shop) onHand(sku string) int64 {
	s.t.Helper()
	levels, err := s.db.FindStockLevels(context.Background(), sqldb.StockLevelFilter{TenantID: s.tenantID, SKU: sku, Limit: 100})
	if err != nil {
		s.t.Fatal(err)
	}
	var n int64
	for _, l := range levels {
		n += l.OnHand
	}
	return n
}

// TestExchange_ForADearerSize swaps an HK$200 tee for the HK$300 size:
// the old tee pays HK$200, the customer pays HK$100, the old tee is back
// on hand, its points are clawed back and the new one earns. Returning the
// new tee later refunds HK$200 to the first order's tender and HK$100 to
// the second's: never more than either captured.
func TestExchange_ForADearerSize(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("mei.wong@gmail.com")
			first := s.bought(cus, "TEE-M")
			stockM := s.onHand("TEE-M")
			c := s.exchangeCart(cus, "TEE-L", first)
			priced, err := s.db.PriceCart(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if tt := priced.Totals; tt.Total != 30000 || tt.ExchangeCredit != 20000 || tt.ExchangeRefund != 0 || tt.Due != 10000 {
				t.Fatalf("exchange totals %+v", tt)
			}
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "paid_at_pos", PaymentMethod: "R1-2"}, s.payer)
			if err != nil {
				t.Fatal(err)
			}
			if o.Exchange == nil || o.Exchange.OrderID != first.ID || len(o.Payments) != 2 || o.Payments[0].Method != "exchange_credit" ||
				o.Payments[0].Captured != 20000 || o.Payments[1].Amount != 10000 {
				t.Fatalf("exchange order %+v payments %+v", o.Exchange, o.Payments)
			}
			if o.Loyalty == nil || o.Loyalty.Points != 30 {
				t.Fatalf("the exchange order earned %+v", o.Loyalty)
			}
			old, err := s.db.FindOrder(ctx, s.tenantID, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if old.Lines[0].Returned != 1 || old.Exchanged != 20000 || old.Refunded != 0 || old.PaymentStatus != sqldb.PaymentPaid {
				t.Fatalf("the first order after the exchange: returned %d, exchanged %d, refunded %d, %s",
					old.Lines[0].Returned, old.Exchanged, old.Refunded, old.PaymentStatus)
			}
			if got := s.onHand("TEE-M"); got != stockM+1 {
				t.Fatalf("TEE-M on hand %d, want %d", got, stockM+1)
			}
			// The same units cannot come back twice.
			if _, err := s.db.PriceCart(ctx, s.exchangeCart(cus, "TEE-L", first)); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("exchanging returned units again: %v", err)
			}
			// Return the new tee once delivered: the credit goes back to the
			// first order's tender.
			o = s.deliver(o)
			r, err := s.db.ReturnOrder(ctx, sqldb.ReturnParams{TenantID: s.tenantID, OrderID: o.ID, LocationID: s.warehouse,
				Lines: []sqldb.ReturnItem{{LineNo: 1, Quantity: 1, Restock: true}}}, s.payer)
			if err != nil {
				t.Fatal(err)
			}
			if r.RefundTotal != 30000 || len(r.Refunds) != 2 {
				t.Fatalf("return of the exchange order: %+v", r)
			}
			old, err = s.db.FindOrder(ctx, s.tenantID, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if old.Refunded != 20000 || old.Exchanged != 0 || old.PaymentStatus != sqldb.PaymentRefunded {
				t.Fatalf("the first order after returning the exchange: refunded %d, exchanged %d, %s", old.Refunded, old.Exchanged, old.PaymentStatus)
			}
			for _, ord := range []*sqldb.Order{old, mustOrder(t, s, o.ID)} {
				for _, p := range ord.Payments {
					if p.Refunded > p.Captured {
						t.Fatalf("payment %+v refunded beyond its capture", p)
					}
				}
			}
			s.checkAll()
		})
	}
}

func mustOrder(t *testing.T, s *shop, orderID string) *sqldb.Order {
	t.Helper()
	o, err := s.db.FindOrder(context.Background(), s.tenantID, orderID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestExchange_ForACheaperSize swaps an HK$300 tee for an HK$200 one: the
// new order costs nothing more and the HK$100 difference is refunded to
// the first order's tender.
func TestExchange_ForACheaperSize(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("sam.ho@gmail.com")
			first := s.bought(cus, "TEE-L")
			c := s.exchangeCart(cus, "TEE-M", first)
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID}, s.payer)
			if err != nil {
				t.Fatal(err)
			}
			if tt := o.Totals; tt.Due != 0 || tt.ExchangeCredit != 20000 || tt.ExchangeRefund != 10000 || o.PaymentStatus != sqldb.PaymentPaid {
				t.Fatalf("exchange order %s totals %+v", o.PaymentStatus, tt)
			}
			old := mustOrder(t, s, first.ID)
			if old.Refunded != 10000 || old.Exchanged != 20000 || old.PaymentStatus != sqldb.PaymentPartRefnd {
				t.Fatalf("the first order: refunded %d, exchanged %d, %s", old.Refunded, old.Exchanged, old.PaymentStatus)
			}
			s.checkAll()
		})
	}
}

// TestExchange_Refused: an order of another customer, units beyond what
// was bought, and an unknown order are field errors under cart.exchange.
func TestExchange_Refused(t *testing.T) {
	s := openShop(t, sqldb.SQLite)
	ctx := context.Background()
	cus, other := s.customer("ann.yu@gmail.com"), s.customer("ben.yu@gmail.com")
	first := s.bought(cus, "TEE-M")
	cases := []struct {
		name  string
		owner string
		ex    order.Exchange
		at    string
	}{
		{"another customer's order", other, order.Exchange{OrderID: first.ID, Lines: []order.ExchangeLine{{LineNo: 1, Quantity: 1}}}, "cart.exchange.order_id"},
		{"more than bought", cus, order.Exchange{OrderID: first.ID, Lines: []order.ExchangeLine{{LineNo: 1, Quantity: 2}}}, "cart.exchange.lines[0].quantity"},
		{"no such line", cus, order.Exchange{OrderID: first.ID, Lines: []order.ExchangeLine{{LineNo: 9, Quantity: 1}}}, "cart.exchange.lines[0].line_no"},
		{"no such order", cus, order.Exchange{OrderID: "0190f0c2a1b27c3d8e9f0a1b2c3d4e5f", Lines: []order.ExchangeLine{{LineNo: 1, Quantity: 1}}}, "cart.exchange.order_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.cart(tc.owner, "TEE-L", 1)
			c.Exchange = &tc.ex
			_, err := s.db.PriceCart(ctx, c)
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || len(e.Fields) == 0 || e.Fields[0].Location != tc.at {
				t.Fatalf("got %v, want a field error at %s", err, tc.at)
			}
		})
	}
}

// TestReturn_OnlyWhatReachedTheCustomer refuses a return and an exchange
// of units still in the warehouse (they are cancelled, not returned), and
// takes them once delivered.
func TestReturn_OnlyWhatReachedTheCustomer(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			s := openShop(t, e)
			ctx := context.Background()
			cus := s.customer("lou.ng@gmail.com")
			c := s.cart(cus, "TEE-M", 1)
			o, _, err := s.db.CompleteCart(ctx, sqldb.CompleteParams{TenantID: s.tenantID, CartID: c.ID, Method: "paid_at_pos", PaymentMethod: "R1-3"}, s.payer)
			if err != nil {
				t.Fatal(err)
			}
			back := sqldb.ReturnParams{TenantID: s.tenantID, OrderID: o.ID, LocationID: s.warehouse, Lines: []sqldb.ReturnItem{{LineNo: 1, Quantity: 1, Restock: true}}}
			if _, err := s.db.ReturnOrder(ctx, back, s.payer); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("returning an undelivered tee: %v", err)
			}
			if _, err := s.db.PriceCart(ctx, s.exchangeCart(cus, "TEE-L", o)); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("exchanging an undelivered tee: %v", err)
			}
			s.deliver(o)
			if r, err := s.db.ReturnOrder(ctx, back, s.payer); err != nil || r.RefundTotal != 20000 {
				t.Fatalf("returning the delivered tee: %+v %v", r, err)
			}
			s.checkAll()
		})
	}
}
