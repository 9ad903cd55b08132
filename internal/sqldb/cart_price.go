package sqldb

import (
	"context"
	"errors"
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/order"
)

// PricedCart is a cart priced for its buyer now: the price that won per
// line, the coupons as offers, the value of the points applied, and the
// totals.
type PricedCart struct {
	Cart       order.Cart
	Lines      []order.PricedLine
	Coupons    []CartCoupon
	Tier       string
	TaxCountry string
	Totals     order.Totals
}

// CartCoupon is a coupon applied to a cart, with what it gives.
type CartCoupon struct {
	CouponID string
	Offer    order.CouponOffer
}

// PriceCart prices a cart: catalog prices for its buyer (member-tier lists
// follow the live tier), the brand's promotions, its coupons (each must be
// usable now, with a reward that discounts), points as a tender at the
// program's value, and tax by the brand's rule. Every problem is a field
// error naming the line or coupon.
func (db *DB) PriceCart(ctx context.Context, c order.Cart) (*PricedCart, error) {
	s, err := db.CommerceSettings(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	out := &PricedCart{Cart: c}
	prices, err := db.PriceSKUs(ctx, db.Read(), PriceQuery{TenantID: c.TenantID, CustomerID: c.CustomerID, SalesChannel: c.SalesChannel,
		Currency: c.Currency, SKUs: c.SKUs()})
	if err != nil {
		return nil, err
	}
	var fs []apperr.FieldError
	for i, l := range c.Lines {
		p, ok := prices[l.SKU]
		if !ok {
			fs = append(fs, apperr.FieldError{Location: fmt.Sprintf("cart.lines[%d].sku", i), Value: l.SKU,
				Message: fmt.Sprintf("no active variant with a %s price for sales channel %s", c.Currency, c.SalesChannel)})
			continue
		}
		out.Lines = append(out.Lines, order.PricedLine{Line: l, Name: p.Name, Category: p.Category, GiftCard: p.GiftCard, TaxCode: p.TaxCode,
			UnitPrice: p.Amount, CompareAt: p.CompareAt, TaxInclusive: p.TaxInclusive, PriceRule: p.Rule})
	}
	if out.Coupons, err = db.cartCoupons(ctx, c, &fs); err != nil {
		return nil, err
	}
	if fs != nil {
		return nil, apperr.Fields(fs...)
	}
	if out.Tier, err = db.tierCode(ctx, c.TenantID, c.CustomerID); err != nil {
		return nil, err
	}
	if out.TaxCountry, err = db.taxCountry(ctx, c); err != nil {
		return nil, err
	}
	pointsValue, err := db.pointsValue(ctx, c)
	if err != nil {
		return nil, err
	}
	credit, err := exchangeCredit(ctx, db.Read(), c)
	if err != nil {
		return nil, err
	}
	b := order.Basket{Currency: c.Currency, Lines: out.Lines, Tier: out.Tier, Delivery: c.Delivery, TaxCountry: out.TaxCountry,
		PointsValue: pointsValue, Credit: credit}
	for _, cc := range out.Coupons {
		b.Coupons = append(b.Coupons, cc.Offer)
	}
	if out.Totals, err = order.Compute(b, s, db.taxRule(s)); err != nil {
		return nil, err
	}
	return out, nil
}

// taxRule is the tax calculation for a tenant: its rate table. A
// deployment with a tax engine plugs its own order.TaxRule in here.
func (db *DB) taxRule(s order.Settings) order.TaxRule { return s.Tax }

// cartCoupons turns the cart's codes into offers; problems go to fs.
func (db *DB) cartCoupons(ctx context.Context, c order.Cart, fs *[]apperr.FieldError) ([]CartCoupon, error) {
	var out []CartCoupon
	now := db.Now()
	for i, code := range c.Coupons {
		at := fmt.Sprintf("cart.coupons[%d]", i)
		cp, err := findCoupon(ctx, db.Read(), c.TenantID, code, false)
		if apperr.Is(err, apperr.NotFound) {
			*fs = append(*fs, apperr.FieldError{Location: at, Message: "no such coupon", Value: code})
			continue
		} else if err != nil {
			return nil, err
		}
		if st := cp.State(now); st != "active" {
			*fs = append(*fs, apperr.FieldError{Location: at, Message: "the coupon is " + st, Value: code})
			continue
		}
		if cp.CustomerID != "" && cp.CustomerID != c.CustomerID {
			*fs = append(*fs, apperr.FieldError{Location: at, Message: "the coupon was issued to another customer", Value: code})
			continue
		}
		if cp.RewardID == "" {
			*fs = append(*fs, apperr.FieldError{Location: at, Message: "the coupon carries no reward a cart can apply", Value: code})
			continue
		}
		r, err := findReward(ctx, db.Read(), c.TenantID, cp.RewardID, false)
		if err != nil {
			return nil, err
		}
		out = append(out, CartCoupon{CouponID: cp.ID, Offer: order.CouponOffer{Code: cp.Code, Kind: r.Kind, Amount: r.Amount,
			Currency: r.Currency, PercentBP: r.PercentBP, SKU: r.SKU}})
	}
	return out, nil
}

// tierCode returns the live loyalty tier code of a customer ("" for a
// guest, a non-member or a tenant without tiers).
func (db *DB) tierCode(ctx context.Context, tenantID, customerID string) (string, error) {
	if customerID == "" {
		return "", nil
	}
	var code string
	err := db.Read().QueryRow(ctx, `SELECT t.code FROM customers c
		JOIN loyalty_members m ON m.tenant_id = c.tenant_id AND m.customer_id = c.survivor_id
		JOIN loyalty_tiers t ON t.tenant_id = m.tenant_id AND t.id = m.tier_id
		WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, customerID).Scan(&code)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	return code, err
}

// taxCountry is where the goods are taxed: the ship-to country, else the
// country of the store they are collected or bought at.
func (db *DB) taxCountry(ctx context.Context, c order.Cart) (string, error) {
	store := c.LocationID
	if d := c.Delivery; d != nil {
		if d.Address != nil && d.Method == order.ShipToAddress {
			return d.Address.Country, nil
		}
		if d.LocationID != "" {
			store = d.LocationID
		}
	}
	if store == "" {
		return "", nil
	}
	loc, err := findLocation(ctx, db.Read(), c.TenantID, "id", store)
	if err != nil {
		return "", apperr.Field("cart.delivery.location_id", "no such location", store)
	}
	return loc.Address.Country, nil
}

// pointsValue is what the points applied to a cart pay, at the program's
// value of a point in the cart's currency.
func (db *DB) pointsValue(ctx context.Context, c order.Cart) (int64, error) {
	if c.Points == 0 {
		return 0, nil
	}
	cfg, err := db.loyaltyConfigFor(ctx, db.Read(), c.TenantID)
	if err != nil {
		return 0, err
	}
	if cfg == nil {
		return 0, noProgram()
	}
	h, err := priceHold(&cfg.Program, HoldParams{Points: c.Points, Currency: c.Currency})
	if err != nil {
		return 0, apperr.Field("cart.points", "the loyalty program gives points no value in "+c.Currency, c.Points)
	}
	return h.Amount, nil
}
