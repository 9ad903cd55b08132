package order

import (
	"fmt"
	"slices"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/loyalty"
)

// PricedLine is a cart line with the price that won for its buyer.
type PricedLine struct {
	Line
	Name         string
	Category     string
	GiftCard     bool
	TaxCode      string
	UnitPrice    int64
	CompareAt    int64
	TaxInclusive bool
	PriceRule    string
}

// Coupon kinds a cart understands (the loyalty reward kinds that discount).
const (
	CouponFixed        = "fixed_discount"
	CouponPercent      = "percent_discount"
	CouponFreeShipping = "free_shipping"
	CouponGift         = "gift"
)

// CouponOffer is what an applied coupon gives.
type CouponOffer struct {
	Code      string
	Kind      string
	Amount    int64 // fixed_discount, in Currency
	Currency  string
	PercentBP int64  // percent_discount
	SKU       string // gift: one unit of it is free
}

// Basket is what Compute prices.
type Basket struct {
	Currency    string
	Lines       []PricedLine
	Tier        string // the customer's tier code, "" for none
	Delivery    *Delivery
	TaxCountry  string // where tax applies: the ship-to country or the store's
	Coupons     []CouponOffer
	PointsValue int64 // what the applied points pay, minor units
	Credit      int64 // what the items of an exchange are worth
}

// Applied is one discount or promotion and what it took off.
type Applied struct {
	Source string `json:"source"` // tier_offer, coupon, promotion
	Name   string `json:"name"`
	Amount int64  `json:"amount"`
}

// LineTotal is one line priced. Net is in the price list's terms (with tax
// when the list includes it); Total is what the line costs, tax included.
type LineTotal struct {
	LineID     string    `json:"line_id"`
	SKU        string    `json:"sku"`
	Name       string    `json:"name"`
	Category   string    `json:"category,omitempty"`
	Quantity   int64     `json:"quantity"`
	Fulfilment string    `json:"fulfilment,omitempty"`
	UnitPrice  int64     `json:"unit_price"`
	CompareAt  int64     `json:"compare_at,omitempty"`
	PriceRule  string    `json:"price_rule,omitempty"`
	Gross      int64     `json:"gross"`
	Discount   int64     `json:"discount"`
	Discounts  []Applied `json:"discounts,omitempty"`
	Net        int64     `json:"net"`
	TaxRateBP  int64     `json:"tax_rate_bp"`
	Tax        int64     `json:"tax"`
	Total      int64     `json:"total"`
	GiftCard   bool      `json:"gift_card,omitempty"`
}

// Totals are a basket's sums, all exact minor units.
type Totals struct {
	Currency         string      `json:"currency"`
	Lines            []LineTotal `json:"lines"`
	Subtotal         int64       `json:"subtotal"` // Σ gross
	Discount         int64       `json:"discount"` // Σ line discounts
	Shipping         int64       `json:"shipping"`
	ShippingDiscount int64       `json:"shipping_discount"`
	ShippingTax      int64       `json:"shipping_tax"`
	Tax              int64       `json:"tax"`           // all tax, included or added
	TaxIncluded      bool        `json:"tax_inclusive"` // prices include tax
	Total            int64       `json:"total"`         // what the order costs
	PointsAmount     int64       `json:"points_amount"` // paid with points
	ExchangeCredit   int64       `json:"exchange_credit,omitempty" doc:"paid by the items an exchange brings back"`
	ExchangeRefund   int64       `json:"exchange_refund,omitempty" doc:"what the exchanged items are worth beyond this order: refunded to the earlier order's tenders"`
	Due              int64       `json:"due"` // left to pay by other tenders
	Promotions       []Applied   `json:"promotions,omitempty"`
}

// Compute prices a basket: tier offers, then coupons in the order applied,
// shipping with free-shipping thresholds, then tax per line by the rule.
// Coupons that cannot apply are Invalid errors naming the coupon.
func Compute(b Basket, s Settings, tax TaxRule) (Totals, error) {
	t := Totals{Currency: b.Currency, Lines: make([]LineTotal, len(b.Lines))}
	for i, l := range b.Lines {
		t.Lines[i] = LineTotal{LineID: l.ID, SKU: l.SKU, Name: l.Name, Category: l.Category, Quantity: l.Quantity,
			Fulfilment: l.Fulfilment, UnitPrice: l.UnitPrice, CompareAt: l.CompareAt, PriceRule: l.PriceRule,
			Gross: l.UnitPrice * l.Quantity, GiftCard: l.GiftCard}
		t.Lines[i].Net = t.Lines[i].Gross
		if l.TaxInclusive {
			t.TaxIncluded = true
		}
	}
	applyTierOffers(&t, b, s)
	if err := applyCoupons(&t, b); err != nil {
		return Totals{}, err
	}
	applyShipping(&t, b, s)
	for i, l := range b.Lines {
		lt := &t.Lines[i]
		lt.TaxRateBP = tax.RateBP(b.TaxCountry, l.TaxCode)
		lt.Tax, lt.Total = taxOn(lt.Net, lt.TaxRateBP, l.TaxInclusive)
		t.Subtotal += lt.Gross
		t.Discount += lt.Discount
		t.Tax += lt.Tax
		t.Total += lt.Total
	}
	ship := t.Shipping - t.ShippingDiscount
	var shipTotal int64
	t.ShippingTax, shipTotal = taxOn(ship, tax.RateBP(b.TaxCountry, TaxCodeShipping), t.TaxIncluded)
	t.Tax += t.ShippingTax
	t.Total += shipTotal
	if b.PointsValue > t.Total {
		return Totals{}, apperr.Field("body.points", fmt.Sprintf("the points pay %d but the order costs %d; apply fewer points", b.PointsValue, t.Total), b.PointsValue)
	}
	t.PointsAmount, t.Due = b.PointsValue, t.Total-b.PointsValue
	SpendCredit(&t, b.Credit)
	return t, nil
}

// taxOn returns the tax in net and what the customer pays for it: inside
// the price when inclusive (net × r / (1 + r)), on top otherwise (net × r),
// rounded half up.
func taxOn(net, rateBP int64, inclusive bool) (tax, total int64) {
	if rateBP == 0 || net == 0 {
		return 0, net
	}
	if inclusive {
		return roundDiv(net*rateBP, 10_000+rateBP), net
	}
	tax = roundDiv(net*rateBP, 10_000)
	return tax, net + tax
}

func roundDiv(a, b int64) int64 {
	q, r := loyalty.MulDiv(a, 1, b)
	if 2*r >= b {
		q++
	}
	return q
}

func discountLine(lt *LineTotal, source, name string, amount int64) {
	amount = min(amount, lt.Net)
	if amount <= 0 {
		return
	}
	lt.Net -= amount
	lt.Discount += amount
	lt.Discounts = append(lt.Discounts, Applied{Source: source, Name: name, Amount: amount})
}

func applyTierOffers(t *Totals, b Basket, s Settings) {
	if b.Tier == "" {
		return
	}
	for _, o := range s.TierOffers {
		if o.Tier != b.Tier {
			continue
		}
		for i := range t.Lines {
			lt := &t.Lines[i]
			if lt.GiftCard || (len(o.Categories) > 0 && !slices.Contains(o.Categories, lt.Category)) {
				continue
			}
			off, _ := loyalty.MulDiv(lt.Net, o.PercentBP, 10_000)
			discountLine(lt, "tier_offer", o.Name, off)
		}
	}
}

func applyCoupons(t *Totals, b Basket) error {
	for ci, c := range b.Coupons {
		where := fmt.Sprintf("coupons[%d]", ci)
		switch c.Kind {
		case CouponFixed:
			if c.Currency != b.Currency {
				return apperr.Field(where, fmt.Sprintf("the coupon %s takes %s off, but the cart is in %s", c.Code, c.Currency, b.Currency), c.Code)
			}
			spreadDiscount(t, c.Code, c.Amount)
		case CouponPercent:
			for i := range t.Lines {
				if lt := &t.Lines[i]; !lt.GiftCard {
					off, _ := loyalty.MulDiv(lt.Net, c.PercentBP, 10_000)
					discountLine(lt, "coupon", c.Code, off)
				}
			}
		case CouponFreeShipping:
			// applied with shipping
		case CouponGift:
			i := slices.IndexFunc(t.Lines, func(l LineTotal) bool { return l.SKU == c.SKU })
			if i < 0 {
				return apperr.Field(where, fmt.Sprintf("the coupon %s gives one %s free: add it to the cart", c.Code, c.SKU), c.Code)
			}
			discountLine(&t.Lines[i], "coupon", c.Code, t.Lines[i].UnitPrice)
		default:
			return apperr.Field(where, fmt.Sprintf("the coupon %s gives a %s reward, which a cart cannot take off", c.Code, c.Kind), c.Code)
		}
	}
	return nil
}

// spreadDiscount takes amount off the discountable lines in proportion to
// their net, never more than they cost.
func spreadDiscount(t *Totals, code string, amount int64) {
	var idx []int
	var weights []int64
	var room int64
	for i, l := range t.Lines {
		if !l.GiftCard && l.Net > 0 {
			idx, weights, room = append(idx, i), append(weights, l.Net), room+l.Net
		}
	}
	for k, part := range loyalty.Allocate(min(amount, room), weights) {
		discountLine(&t.Lines[idx[k]], "coupon", code, part)
	}
}

func applyShipping(t *Totals, b Basket, s Settings) {
	if b.Delivery == nil {
		return
	}
	country := ""
	if b.Delivery.Address != nil {
		country = b.Delivery.Address.Country
	}
	t.Shipping = s.ShippingRate(b.Delivery.Method, country, b.Currency)
	if t.Shipping == 0 {
		return
	}
	var merchandise int64
	for _, l := range t.Lines {
		if !l.GiftCard {
			merchandise += l.Net
		}
	}
	if over, ok := s.FreeShippingOver(b.Currency); ok && merchandise >= over {
		t.ShippingDiscount = t.Shipping
		t.Promotions = append(t.Promotions, Applied{Source: "promotion", Name: fmt.Sprintf("free shipping from %d", over), Amount: t.Shipping})
		return
	}
	for _, c := range b.Coupons {
		if c.Kind == CouponFreeShipping {
			t.ShippingDiscount = t.Shipping
			t.Promotions = append(t.Promotions, Applied{Source: "coupon", Name: c.Code, Amount: t.Shipping})
			return
		}
	}
}
