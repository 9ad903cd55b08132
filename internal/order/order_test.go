package order

import (
	"math/rand/v2"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

func line(id, sku string, qty, unit int64) PricedLine {
	return PricedLine{Line: Line{ID: id, SKU: sku, Quantity: qty}, Name: sku, UnitPrice: unit, Category: "apparel"}
}

func TestCompute(t *testing.T) {
	sg := RateTable{Rates: []TaxRate{{Country: "SG", RateBP: 900}, {Country: "SG", TaxCode: "exempt", RateBP: 0}}}
	settings := Settings{
		Shipping:     []ShippingRate{{Method: ShipToAddress, Currency: "SGD", Amount: 800}, {Method: ShipToAddress, Country: "MY", Currency: "SGD", Amount: 2500}},
		FreeShipping: []Threshold{{Currency: "SGD", Amount: 10000}},
		TierOffers:   []TierOffer{{Name: "Gold 10%", Tier: "GOLD", PercentBP: 1000, Categories: []string{"apparel"}}},
		Tax:          sg,
	}
	ship := func(country string) *Delivery {
		return &Delivery{Method: ShipToAddress, Address: &Address{Country: country}}
	}
	cases := []struct {
		name                            string
		b                               Basket
		total, tax, discount, ship, due int64
		wantErr                         apperr.Kind
	}{
		{name: "exclusive tax added per line, shipping taxed",
			b:     Basket{Currency: "SGD", TaxCountry: "SG", Delivery: ship("SG"), Lines: []PricedLine{line("a", "A", 2, 1999)}},
			total: 3998 + 360 + 800 + 72, tax: 360 + 72, ship: 800, due: 3998 + 360 + 800 + 72},
		{name: "inclusive tax is inside the price",
			b:     Basket{Currency: "SGD", TaxCountry: "SG", Lines: []PricedLine{{Line: Line{ID: "a", SKU: "A", Quantity: 1}, UnitPrice: 10900, TaxInclusive: true}}},
			total: 10900, tax: 900, due: 10900},
		{name: "free shipping above the threshold, after discounts",
			b:     Basket{Currency: "SGD", TaxCountry: "HK", Delivery: ship("SG"), Lines: []PricedLine{line("a", "A", 1, 10000)}},
			total: 10000, ship: 800, due: 10000},
		{name: "tier offer takes the basket below free shipping",
			b:     Basket{Currency: "SGD", TaxCountry: "HK", Tier: "GOLD", Delivery: ship("SG"), Lines: []PricedLine{line("a", "A", 1, 10000)}},
			total: 9000 + 800, discount: 1000, ship: 800, due: 9800},
		{name: "country rate wins over any-country rate",
			b:     Basket{Currency: "SGD", TaxCountry: "MY", Delivery: ship("MY"), Lines: []PricedLine{line("a", "A", 1, 500)}},
			total: 3000, ship: 2500, due: 3000},
		{name: "fixed coupon spread by net, gift card untouched",
			b: Basket{Currency: "SGD", TaxCountry: "HK", Lines: []PricedLine{line("a", "A", 1, 3000), line("b", "B", 1, 1000),
				{Line: Line{ID: "g", SKU: "GC", Quantity: 1}, UnitPrice: 5000, GiftCard: true}},
				Coupons: []CouponOffer{{Code: "C1", Kind: CouponFixed, Amount: 1000, Currency: "SGD"}}},
			total: 8000, discount: 1000, due: 8000},
		{name: "fixed coupon never below zero",
			b: Basket{Currency: "SGD", TaxCountry: "HK", Lines: []PricedLine{line("a", "A", 1, 300)},
				Coupons: []CouponOffer{{Code: "C1", Kind: CouponFixed, Amount: 1000, Currency: "SGD"}}},
			total: 0, discount: 300, due: 0},
		{name: "points pay part", b: Basket{Currency: "SGD", TaxCountry: "HK", PointsValue: 500, Lines: []PricedLine{line("a", "A", 1, 2000)}},
			total: 2000, due: 1500},
		{name: "points beyond the total refused", b: Basket{Currency: "SGD", PointsValue: 5000, Lines: []PricedLine{line("a", "A", 1, 2000)}},
			wantErr: apperr.Invalid},
		{name: "gift coupon needs its SKU", b: Basket{Currency: "SGD", Lines: []PricedLine{line("a", "A", 1, 2000)},
			Coupons: []CouponOffer{{Code: "G", Kind: CouponGift, SKU: "TOTE"}}}, wantErr: apperr.Invalid},
		{name: "gift coupon frees one unit", b: Basket{Currency: "SGD", Lines: []PricedLine{line("a", "TOTE", 2, 1500)},
			Coupons: []CouponOffer{{Code: "G", Kind: CouponGift, SKU: "TOTE"}}}, total: 1500, discount: 1500, due: 1500},
		{name: "coupon in another currency refused", b: Basket{Currency: "SGD", Lines: []PricedLine{line("a", "A", 1, 2000)},
			Coupons: []CouponOffer{{Code: "H", Kind: CouponFixed, Amount: 100, Currency: "HKD"}}}, wantErr: apperr.Invalid},
		{name: "free shipping coupon", b: Basket{Currency: "SGD", TaxCountry: "HK", Delivery: ship("SG"), Lines: []PricedLine{line("a", "A", 1, 2000)},
			Coupons: []CouponOffer{{Code: "F", Kind: CouponFreeShipping}}}, total: 2000, ship: 800, due: 2000},
		{name: "percent coupon after tier offer", b: Basket{Currency: "SGD", Tier: "GOLD", Lines: []PricedLine{line("a", "A", 1, 10000)},
			Coupons: []CouponOffer{{Code: "P", Kind: CouponPercent, PercentBP: 1000}}}, total: 8100, discount: 1900, due: 8100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Compute(c.b, settings, settings.Tax)
			if c.wantErr != "" {
				if apperr.KindOf(err) != c.wantErr {
					t.Fatalf("err = %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != c.total || got.Tax != c.tax || got.Discount != c.discount || got.Shipping != c.ship || got.Due != c.due {
				t.Fatalf("total %d tax %d discount %d shipping %d due %d; want %d %d %d %d %d (%+v)", got.Total, got.Tax, got.Discount,
					got.Shipping, got.Due, c.total, c.tax, c.discount, c.ship, c.due, got)
			}
			var sum int64
			for _, l := range got.Lines {
				sum += l.Total
				if l.Net < 0 || l.Net != l.Gross-l.Discount {
					t.Fatalf("line %+v: net must be gross - discount and never negative", l)
				}
			}
			if sum+got.Shipping-got.ShippingDiscount+exclusiveShipTax(got) != got.Total {
				t.Fatalf("lines add to %d, total %d", sum, got.Total)
			}
		})
	}
}

func exclusiveShipTax(t Totals) int64 {
	if t.TaxIncluded {
		return 0
	}
	return t.ShippingTax
}

func TestTransitions(t *testing.T) {
	ok := []struct{ method, from, to string }{
		{ShipToAddress, Allocated, Picking}, {ShipToAddress, Picking, Packed}, {ShipToAddress, Packed, Shipped},
		{ShipToAddress, Shipped, Delivered}, {ShipToAddress, Allocated, Cancelled}, {ClickCollect, Packed, ReadyForPickup},
		{ClickCollect, ReadyForPickup, PickedUp}, {ShipToStore, Shipped, ReadyForPickup}, {ShipToStore, ReadyForPickup, PickedUp},
	}
	for _, c := range ok {
		if err := Transition(c.method, c.from, c.to); err != nil {
			t.Errorf("%s %s→%s refused: %v", c.method, c.from, c.to, err)
		}
	}
	bad := []struct{ method, from, to string }{
		{ShipToAddress, Allocated, Shipped}, {ShipToAddress, Shipped, Cancelled}, {ShipToAddress, Delivered, Shipped},
		{ShipToAddress, Packed, ReadyForPickup}, {ClickCollect, Packed, Shipped}, {ClickCollect, PickedUp, Cancelled},
		{ShipToStore, Packed, ReadyForPickup}, {TakeNow, PickedUp, Cancelled}, {ShipToAddress, Cancelled, Allocated},
		{ShipToAddress, Allocated, "lost"},
	}
	for _, c := range bad {
		if err := Transition(c.method, c.from, c.to); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("%s %s→%s: err = %v, want a conflict", c.method, c.from, c.to, err)
		}
	}
}

func TestStatus(t *testing.T) {
	cases := []struct {
		paid   bool
		states []string
		want   string
	}{
		{false, []string{Allocated}, OrderAwaitingPayment},
		{true, []string{Allocated, Packed}, OrderOpen},
		{true, []string{Delivered, Packed}, OrderPartFulfilled},
		{true, []string{Delivered, Cancelled}, OrderFulfilled},
		{true, []string{Cancelled, Cancelled}, OrderCancelled},
		{false, []string{Cancelled}, OrderCancelled},
		{true, []string{PickedUp}, OrderFulfilled},
	}
	for _, c := range cases {
		if got := Status(c.paid, c.states); got != c.want {
			t.Errorf("Status(%v, %v) = %s, want %s", c.paid, c.states, got, c.want)
		}
	}
}

// TestRefundsNeverExceedCaptures returns random orders in random pieces and
// refunds each piece over random tenders: no tender ever gives back more
// than it captured, the points given back never exceed the points spent,
// and returning everything gives back exactly what was paid.
func TestRefundsNeverExceedCaptures(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := 0; round < 2000; round++ {
		var lines []OrderLine
		var paid int64
		for i := 0; i < 1+r.IntN(5); i++ {
			l := OrderLine{LineNo: i + 1, SKU: "S", Quantity: 1 + r.Int64N(5), Total: r.Int64N(100_000)}
			lines, paid = append(lines, l), paid+l.Total
		}
		shares := make([]int64, 1+r.IntN(3))
		for i := range shares {
			shares[i] = r.Int64N(10) + 1
		}
		var tenders []Tender
		for i, part := range Allocate(paid, shares) {
			tenders = append(tenders, Tender{Kind: []string{"card", "points", "cash"}[i], Captured: part, Points: part * 10})
		}
		var refunded, pointsBack int64
		for {
			var ret []ReturnLine
			for _, l := range lines {
				if left := l.Quantity - l.Returned; left > 0 && r.IntN(2) == 0 {
					ret = append(ret, ReturnLine{LineNo: l.LineNo, Quantity: 1 + r.Int64N(left)})
				}
			}
			if len(ret) == 0 {
				if allReturned(lines) {
					break
				}
				continue
			}
			worth, err := CheckReturn(lines, ret)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := SplitRefund(tenders, worth)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for i, p := range parts {
				if tenders[i].Kind == "points" {
					pointsBack += PointsFor(tenders[i], p)
				}
				tenders[i].Refunded += p
				if tenders[i].Refunded > tenders[i].Captured || p < 0 {
					t.Fatalf("round %d: tender %+v refunded beyond its capture", round, tenders[i])
				}
			}
			refunded += worth
			for _, x := range ret {
				for k := range lines {
					if lines[k].LineNo == x.LineNo {
						lines[k].Returned += x.Quantity
					}
				}
			}
		}
		if refunded != paid {
			t.Fatalf("round %d: returning everything refunded %d of %d", round, refunded, paid)
		}
		for _, tn := range tenders {
			if tn.Kind == "points" && pointsBack != tn.Points {
				t.Fatalf("round %d: %d points back of %d spent", round, pointsBack, tn.Points)
			}
		}
		if _, err := CheckReturn(lines, []ReturnLine{{LineNo: 1, Quantity: 1}}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("returning beyond what was bought: %v", err)
		}
		if _, err := SplitRefund(tenders, 1); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("refund beyond captures: %v", err)
		}
	}
}

func allReturned(lines []OrderLine) bool {
	for _, l := range lines {
		if l.Returned < l.Quantity {
			return false
		}
	}
	return true
}

func TestCartEdits(t *testing.T) {
	c := &Cart{}
	if _, err := c.AddLine("A", 1, "", "l1"); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.AddLine("A", 2, "", "l2"); l.ID != "l1" || l.Quantity != 3 {
		t.Fatalf("same SKU merges: %+v", l)
	}
	if l, _ := c.AddLine("A", 1, TakeNow, "l3"); l.ID != "l3" {
		t.Fatalf("take-now line is its own: %+v", l)
	}
	if _, err := c.AddLine("", 0, "later", "x"); err == nil || len(err.(*apperr.Error).Fields) != 3 {
		t.Fatalf("bad line: %v", err)
	}
	if err := c.SetQuantity("l1", 0); err != nil || len(c.Lines) != 1 {
		t.Fatalf("remove: %v %+v", err, c.Lines)
	}
	if err := c.SetQuantity("nope", 1); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown line: %v", err)
	}
	if err := CheckDelivery(Delivery{Method: ShipToAddress, Address: &Address{Country: "hk"}}, "body"); err == nil {
		t.Fatal("lower-case country accepted")
	}
	if err := CheckDelivery(Delivery{Method: ClickCollect}, "body"); err == nil {
		t.Fatal("click & collect without a store accepted")
	}
}
