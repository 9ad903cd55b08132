package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/order"
	"github.com/omo-platform/omo/internal/sqldb"
)

// CartBody is a cart with its totals priced for its buyer now.
type CartBody struct {
	ID           string              `json:"id" example:"crt_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Status       string              `json:"status" enum:"open,completed"`
	Version      int64               `json:"version" doc:"grows with every edit"`
	CustomerID   string              `json:"customer_id,omitempty"`
	Email        string              `json:"email,omitempty"`
	SalesChannel string              `json:"sales_channel"`
	Currency     string              `json:"currency"`
	LocationID   string              `json:"location_id,omitempty" doc:"the store of a POS or associate cart"`
	AssociateID  string              `json:"associate_id,omitempty" doc:"the staff member the order will credit"`
	Lines        []order.Line        `json:"lines"`
	Coupons      []string            `json:"coupons"`
	Points       int64               `json:"points" doc:"points applied as a tender"`
	Exchange     *order.Exchange     `json:"exchange,omitempty" doc:"items of an earlier order coming back for this cart's: their worth pays first"`
	Delivery     *order.Delivery     `json:"delivery,omitempty"`
	ShareToken   string              `json:"share_token,omitempty" doc:"the token of the cart's link; GET /v1/shared_carts/{token}"`
	Hold         *CartHoldBody       `json:"hold,omitempty"`
	OrderID      string              `json:"order_id,omitempty"`
	Totals       *order.Totals       `json:"totals,omitempty" doc:"absent when the cart cannot be priced; problems says why"`
	Problems     []apperr.FieldError `json:"problems,omitempty" doc:"what stops the cart from being priced or completed"`
	CreatedAt    time.Time           `json:"created_at"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

// CartHoldBody is stock a cart holds until a time.
type CartHoldBody struct {
	Until time.Time    `json:"until"`
	Held  []order.Held `json:"held"`
}

func (s *server) cartBody(ctx context.Context, c order.Cart, priced *sqldb.PricedCart) CartBody {
	b := CartBody{ID: id.Format(id.Cart, c.ID), Status: c.Status, Version: c.Version, CustomerID: id.Format(id.Customer, c.CustomerID),
		Email: c.Email, SalesChannel: c.SalesChannel, Currency: c.Currency, LocationID: id.Format(id.Location, c.LocationID),
		AssociateID: c.AssociateID, Lines: c.Lines, Coupons: c.Coupons, Points: c.Points, Delivery: c.Delivery, ShareToken: c.ShareToken,
		OrderID: id.Format(id.Order, c.OrderID), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if e := c.Exchange; e != nil {
		b.Exchange = &order.Exchange{OrderID: id.Format(id.Order, e.OrderID), Lines: e.Lines, LocationID: id.Format(id.Location, e.LocationID)}
	}
	if b.Coupons == nil {
		b.Coupons = []string{}
	}
	if c.HoldUntil != nil {
		b.Hold = &CartHoldBody{Until: *c.HoldUntil, Held: c.Held}
	}
	if c.Status != order.CartOpen {
		return b
	}
	if priced == nil {
		var err error
		if priced, err = s.db.PriceCart(ctx, c); err != nil {
			if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
				b.Problems = e.Fields
				return b
			}
			b.Problems = []apperr.FieldError{{Location: "cart", Message: apperr.Summary(err)}}
			return b
		}
	}
	b.Totals = &priced.Totals
	return b
}

type cartOutput struct {
	Status int
	Body   CartBody
}

type cartIDInput struct {
	ID string `path:"id" doc:"cart id, crt_…"`
}

type createCartInput struct {
	Body struct {
		CustomerID   string `json:"customer_id,omitempty" doc:"cus_…; omit for a guest"`
		Email        string `json:"email,omitempty" maxLength:"320"`
		SalesChannel string `json:"sales_channel" minLength:"1" maxLength:"64" doc:"sales channel code"`
		Currency     string `json:"currency,omitempty" doc:"ISO 4217; defaults to the location's"`
		LocationID   string `json:"location_id,omitempty" doc:"loc_…: the store of a POS or associate cart"`
		AssociateID  string `json:"associate_id,omitempty" maxLength:"64" doc:"the staff member building the cart, credited with the order"`
		Lines        []struct {
			SKU        string `json:"sku"`
			Quantity   int64  `json:"quantity"`
			Fulfilment string `json:"fulfilment,omitempty" enum:"take_now,"`
		} `json:"lines,omitempty" maxItems:"100"`
	}
}

type addLineInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body struct {
		SKU        string `json:"sku"`
		Quantity   int64  `json:"quantity" default:"1"`
		Fulfilment string `json:"fulfilment,omitempty" doc:"take_now: handed over at once (a mixed basket ships the rest)"`
	}
}

type lineInput struct {
	ID     string `path:"id" doc:"cart id, crt_…"`
	LineID string `path:"line_id"`
	Body   struct {
		Quantity int64 `json:"quantity" minimum:"0" doc:"0 removes the line"`
	}
}

type lineDeleteInput struct {
	ID     string `path:"id" doc:"cart id, crt_…"`
	LineID string `path:"line_id"`
}

type couponInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body struct {
		Code string `json:"code" minLength:"1" maxLength:"64"`
	}
}

type couponDeleteInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Code string `path:"code"`
}

type pointsInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body struct {
		Points int64 `json:"points" minimum:"0" doc:"points to pay with; 0 takes them off"`
	}
}

type exchangeInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body order.Exchange
}

type deliveryInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body order.Delivery
}

type patchCartInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body struct {
		CustomerID  *string `json:"customer_id,omitempty" doc:"cus_…: attach the cart to a customer (e.g. after login)"`
		Email       *string `json:"email,omitempty"`
		AssociateID *string `json:"associate_id,omitempty"`
	}
}

type holdCartInput struct {
	ID   string `path:"id" doc:"cart id, crt_…"`
	Body struct {
		Minutes int `json:"minutes,omitempty" minimum:"1" maximum:"4320" doc:"how long to hold; defaults to the brand's cart_hold_minutes (an associate may hold a size for a VIP for 1440)"`
	}
}

type sharedCartInput struct {
	Token string `path:"token"`
}

func (s *server) cartRoutes() {
	tags := []string{"Carts"}
	op := func(opID, method, path, summary, desc string) huma.Operation {
		return huma.Operation{OperationID: opID, Method: method, Path: path, Summary: summary, Description: desc, Tags: tags}
	}
	create := op("create-cart", http.MethodPost, "/v1/carts", "Open a cart", "For a customer or a guest, on a sales channel; an associate names "+
		"the store and themselves to be credited with the order.")
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, s.createCart)
	huma.Register(s.api, op("get-cart", http.MethodGet, "/v1/carts/{id}", "Get a cart with its totals", "Prices are the buyer's now (member-tier lists follow "+
		"the live tier)."), s.getCart)
	huma.Register(s.api, op("add-cart-line", http.MethodPost, "/v1/carts/{id}/lines", "Add a line", "Adding a SKU already in the cart adds to its line."), s.addCartLine)
	huma.Register(s.api, op("update-cart-line", http.MethodPatch, "/v1/carts/{id}/lines/{line_id}", "Change a line's quantity", ""), s.updateCartLine)
	huma.Register(s.api, op("remove-cart-line", http.MethodDelete, "/v1/carts/{id}/lines/{line_id}", "Remove a line", ""), s.removeCartLine)
	huma.Register(s.api, op("apply-cart-coupon", http.MethodPost, "/v1/carts/{id}/coupons", "Apply a coupon", "The coupon's reward must discount "+
		"(fixed or percent off, free shipping, a free item)."), s.applyCoupon)
	huma.Register(s.api, op("remove-cart-coupon", http.MethodDelete, "/v1/carts/{id}/coupons/{code}", "Remove a coupon", ""), s.removeCoupon)
	huma.Register(s.api, op("apply-cart-points", http.MethodPut, "/v1/carts/{id}/points", "Pay with points", "Points are a tender worth the program's point "+
		"value; they are held and captured at checkout."), s.applyPoints)
	huma.Register(s.api, op("set-cart-exchange", http.MethodPut, "/v1/carts/{id}/exchange", "Exchange items of an earlier order",
		"Units of an order of the cart's customer come back for the cart's items: what they cost (after discounts, with tax) pays "+
			"first, the customer pays any difference, and what the cart does not use is refunded to the order's tenders. The return "+
			"happens when the cart completes, in the same transaction (points earned on the items are clawed back, restocked units go "+
			"back on hand). location_id defaults to the cart's store."), s.setExchange)
	huma.Register(s.api, op("remove-cart-exchange", http.MethodDelete, "/v1/carts/{id}/exchange", "Drop the exchange", ""), s.removeExchange)
	huma.Register(s.api, op("set-cart-delivery", http.MethodPut, "/v1/carts/{id}/delivery", "Choose a delivery", "Ship to an address, click & collect at a "+
		"store, ship to a store, or take now at the counter."), s.setDelivery)
	huma.Register(s.api, op("update-cart", http.MethodPatch, "/v1/carts/{id}", "Attach a customer, email or associate", ""), s.patchCart)
	huma.Register(s.api, op("hold-cart", http.MethodPost, "/v1/carts/{id}/hold", "Hold the cart's stock", "Reserves the items where routing would take them "+
		"from, until the hold expires (released automatically)."), s.holdCart)
	huma.Register(s.api, op("release-cart-hold", http.MethodDelete, "/v1/carts/{id}/hold", "Release the cart's stock hold", ""), s.releaseCartHold)
	huma.Register(s.api, op("share-cart", http.MethodPost, "/v1/carts/{id}/share", "Share a cart as a link", "An associate shares the cart they built; the "+
		"order it becomes credits them."), s.shareCart)
	huma.Register(s.api, op("get-shared-cart", http.MethodGet, "/v1/shared_carts/{token}", "Open a shared cart", ""), s.getSharedCart)
}

func (s *server) createCart(ctx context.Context, in *createCartInput) (*cartOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	nc := sqldb.NewCart{TenantID: p.TenantID, Email: b.Email, SalesChannel: b.SalesChannel, Currency: b.Currency, AssociateID: b.AssociateID}
	if nc.CustomerID, err = optionalID(id.Customer, b.CustomerID, "body.customer_id"); err != nil {
		return nil, s.problem(ctx, err)
	}
	if nc.LocationID, err = optionalID(id.Location, b.LocationID, "body.location_id"); err != nil {
		return nil, s.problem(ctx, err)
	}
	var draft order.Cart
	for i, l := range b.Lines {
		if _, err := draft.AddLine(l.SKU, l.Quantity, l.Fulfilment, id.New()); err != nil {
			return nil, s.problem(ctx, prefixed(err, "body", "body.lines["+strconv.Itoa(i)+"]"))
		}
	}
	c, err := s.db.CreateCart(ctx, nc)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if len(draft.Lines) > 0 {
		if c, err = s.db.EditCart(ctx, p.TenantID, c.ID, func(_ *sqldb.Tx, c *order.Cart) error { c.Lines = draft.Lines; return nil }); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	return &cartOutput{Status: http.StatusCreated, Body: s.cartBody(ctx, c, nil)}, nil
}

func optionalID(prefix, public, field string) (string, error) {
	if public == "" {
		return "", nil
	}
	stored, err := id.Parse(prefix, public)
	if err != nil {
		return "", apperr.Field(field, "not a "+prefix+"_… id", public)
	}
	return stored, nil
}

func prefixed(err error, from, to string) error {
	if e, ok := apperr.As(err); ok {
		for i := range e.Fields {
			e.Fields[i].Location = strings.Replace(e.Fields[i].Location, from, to, 1)
		}
	}
	return err
}

func (s *server) getCart(ctx context.Context, in *cartIDInput) (*cartOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersRead, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.FindCart(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &cartOutput{Status: http.StatusOK, Body: s.cartBody(ctx, c, nil)}, nil
}

// changeCart applies edit to a copy of the cart and prices it, so that an
// edit that would make the cart unpriceable (an unknown SKU, a coupon that
// cannot apply, more points than the total) is refused with its reasons and
// saves nothing; then it applies the edit to the stored cart.
func (s *server) changeCart(ctx context.Context, public string, edit func(c *order.Cart) error) (*cartOutput, error) {
	return s.changeCartPart(ctx, public, "cart.", edit)
}

// changeCartPart is changeCart for an edit whose body is the part of the
// cart named by part: pricing problems there are located in the body.
func (s *server) changeCartPart(ctx context.Context, public, part string, edit func(c *order.Cart) error) (*cartOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Cart, public)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.FindCart(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if c.Status != order.CartOpen {
		return nil, s.problem(ctx, apperr.New(apperr.Conflict, "the cart is %s; start a new cart", c.Status))
	}
	draft := c
	draft.Lines, draft.Coupons = slices.Clone(c.Lines), slices.Clone(c.Coupons)
	if err := edit(&draft); err != nil {
		return nil, s.problem(ctx, err)
	}
	priced, err := s.db.PriceCart(ctx, draft)
	if err != nil {
		return nil, s.problem(ctx, prefixed(err, part, "body."))
	}
	saved, err := s.db.EditCart(ctx, p.TenantID, cid, func(_ *sqldb.Tx, c *order.Cart) error { return edit(c) })
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if saved.Version != c.Version+1 {
		priced = nil // someone else edited meanwhile: price what was saved
	}
	return &cartOutput{Status: http.StatusOK, Body: s.cartBody(ctx, saved, priced)}, nil
}

func (s *server) addCartLine(ctx context.Context, in *addLineInput) (*cartOutput, error) {
	lineID := id.New()
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error {
		_, err := c.AddLine(in.Body.SKU, in.Body.Quantity, in.Body.Fulfilment, lineID)
		return err
	})
}

func (s *server) updateCartLine(ctx context.Context, in *lineInput) (*cartOutput, error) {
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error { return c.SetQuantity(in.LineID, in.Body.Quantity) })
}

func (s *server) removeCartLine(ctx context.Context, in *lineDeleteInput) (*cartOutput, error) {
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error { return c.SetQuantity(in.LineID, 0) })
}

func (s *server) applyCoupon(ctx context.Context, in *couponInput) (*cartOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if _, err := s.db.FindCart(ctx, p.TenantID, cid); err != nil {
		return nil, s.problem(ctx, err)
	}
	cp, err := s.db.FindCouponByCode(ctx, p.TenantID, in.Body.Code)
	if err != nil {
		return nil, s.problem(ctx, apperr.Field("body.code", "no such coupon", in.Body.Code))
	}
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error { return c.AddCoupon(cp.Code) })
}

func (s *server) removeCoupon(ctx context.Context, in *couponDeleteInput) (*cartOutput, error) {
	code := in.Code
	if p, err := principal(ctx, auth.ScopeOrdersWrite); err == nil {
		if cp, err := s.db.FindCouponByCode(ctx, p.TenantID, in.Code); err == nil {
			code = cp.Code
		}
	}
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error { return c.RemoveCoupon(code) })
}

func (s *server) applyPoints(ctx context.Context, in *pointsInput) (*cartOutput, error) {
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error {
		if in.Body.Points > 0 && c.CustomerID == "" {
			return apperr.Field("body.points", "points need a customer on the cart (PATCH customer_id first)", in.Body.Points)
		}
		c.Points = in.Body.Points
		return nil
	})
}

func (s *server) setExchange(ctx context.Context, in *exchangeInput) (*cartOutput, error) {
	e := in.Body
	if err := order.CheckExchange(e, "body"); err != nil {
		return nil, s.problem(ctx, err)
	}
	var err error
	if e.OrderID, err = id.Parse(id.Order, e.OrderID); err != nil {
		return nil, s.problem(ctx, apperr.Field("body.order_id", "not an ord_… id", in.Body.OrderID))
	}
	if e.LocationID != "" {
		if e.LocationID, err = id.Parse(id.Location, e.LocationID); err != nil {
			return nil, s.problem(ctx, apperr.Field("body.location_id", "not a loc_… id", in.Body.LocationID))
		}
	}
	return s.changeCartPart(ctx, in.ID, "cart.exchange.", func(c *order.Cart) error {
		x := e
		if x.LocationID == "" {
			x.LocationID = c.LocationID
		}
		c.Exchange = &x
		return nil
	})
}

func (s *server) removeExchange(ctx context.Context, in *cartIDInput) (*cartOutput, error) {
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error {
		if c.Exchange == nil {
			return apperr.New(apperr.NotFound, "the cart has no exchange")
		}
		c.Exchange = nil
		return nil
	})
}

func (s *server) setDelivery(ctx context.Context, in *deliveryInput) (*cartOutput, error) {
	d := in.Body
	if d.LocationID != "" {
		stored, err := id.Parse(id.Location, d.LocationID)
		if err != nil {
			return nil, s.problem(ctx, apperr.Field("body.location_id", "not a loc_… id", d.LocationID))
		}
		d.LocationID = stored
	}
	if err := order.CheckDelivery(d, "body"); err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error { c.Delivery = &d; return nil })
}

func (s *server) patchCart(ctx context.Context, in *patchCartInput) (*cartOutput, error) {
	b := in.Body
	customerID := ""
	if b.CustomerID != nil {
		var err error
		if customerID, err = optionalID(id.Customer, *b.CustomerID, "body.customer_id"); err != nil {
			return nil, s.problem(ctx, err)
		}
		if p, err := principal(ctx, auth.ScopeOrdersWrite); err == nil && customerID != "" {
			prof, err := s.db.FindCustomerByID(ctx, p.TenantID, customerID)
			if err != nil {
				return nil, s.problem(ctx, apperr.Field("body.customer_id", "no such customer", *b.CustomerID))
			}
			customerID = prof.ID
		}
	}
	return s.changeCart(ctx, in.ID, func(c *order.Cart) error {
		if b.CustomerID != nil {
			c.CustomerID = customerID
		}
		if b.Email != nil {
			c.Email = strings.TrimSpace(*b.Email)
		}
		if b.AssociateID != nil {
			c.AssociateID = *b.AssociateID
		}
		return nil
	})
}

func (s *server) holdCart(ctx context.Context, in *holdCartInput) (*cartOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	minutes := in.Body.Minutes
	if minutes == 0 {
		st, err := s.db.CommerceSettings(ctx, p.TenantID)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		minutes = max(st.CartHoldMinutes, 1)
	}
	c, err := s.db.HoldCart(ctx, p.TenantID, cid, time.Duration(minutes)*time.Minute)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &cartOutput{Status: http.StatusOK, Body: s.cartBody(ctx, c, nil)}, nil
}

func (s *server) releaseCartHold(ctx context.Context, in *cartIDInput) (*cartOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.ReleaseCartHold(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &cartOutput{Status: http.StatusOK, Body: s.cartBody(ctx, c, nil)}, nil
}

func (s *server) shareCart(ctx context.Context, in *cartIDInput) (*cartOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeOrdersWrite, id.Cart, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.ShareCart(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &cartOutput{Status: http.StatusOK, Body: s.cartBody(ctx, c, nil)}, nil
}

func (s *server) getSharedCart(ctx context.Context, in *sharedCartInput) (*cartOutput, error) {
	p, err := principal(ctx, auth.ScopeOrdersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.FindSharedCart(ctx, p.TenantID, in.Token)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &cartOutput{Status: http.StatusOK, Body: s.cartBody(ctx, c, nil)}, nil
}
