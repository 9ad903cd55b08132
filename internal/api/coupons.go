package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// batchPrefix is the public prefix of coupon batch ids.
const batchPrefix = "cpb"

type couponCodeInput struct {
	Code string `path:"code" maxLength:"100" doc:"the code as typed or scanned: case, spaces and hyphens do not matter"`
}

type couponOutput struct{ Body CouponBody }

// CouponUseRequest is a coupon presented at a till or checkout.
type CouponUseRequest struct {
	Location     string `json:"location,omitempty" maxLength:"100" doc:"location code"`
	SalesChannel string `json:"sales_channel" minLength:"1" maxLength:"100" doc:"sales channel code"`
	Reference    string `json:"reference,omitempty" maxLength:"200" doc:"order or receipt reference: the same reference again returns the first use"`
	CustomerID   string `json:"customer_id,omitempty" doc:"cus_…: who presents it, for coupons issued to a member or limited per customer"`
}

type couponUseInput struct {
	Code string `path:"code" maxLength:"100" doc:"the code as typed or scanned"`
	Body CouponUseRequest
}

type couponUseOutput struct {
	Status int
	Body   struct {
		Coupon    CouponBody `json:"coupon"`
		Use       int64      `json:"use" doc:"which use of the coupon this was, from 1"`
		Reference string     `json:"reference"`
		UsedAt    time.Time  `json:"used_at"`
	}
}

type couponImageInput struct {
	Code string `path:"code" maxLength:"100" doc:"the code as typed or scanned"`
	Size int    `query:"size" minimum:"64" maximum:"2048" default:"256" doc:"QR: width and height in pixels; barcode: width"`
}

type imageOutput struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

func pngResponses(desc string) map[string]*huma.Response {
	return map[string]*huma.Response{"200": {Description: desc,
		Content: map[string]*huma.MediaType{"image/png": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}
}

func (s *server) couponRoutes() {
	tags := []string{"Coupons"}
	huma.Register(s.api, huma.Operation{OperationID: "redeem-coupon", Method: http.MethodPost, Path: "/v1/coupons/{code}/redeem",
		Summary: "Use a coupon at a till or checkout", Tags: tags,
		Description: "Checks validity, places and uses, and counts one use. A single-use code presented by many tills at once succeeds exactly once; " +
			"the others get 409. Needs coupons:redeem (or loyalty:write). Unknown codes count as guesses: too many from one key get 429 with Retry-After."},
		s.redeemCoupon)
	huma.Register(s.api, huma.Operation{OperationID: "get-coupon", Method: http.MethodGet, Path: "/v1/coupons/{code}",
		Summary: "A coupon's state", Tags: tags}, s.getCoupon)
	huma.Register(s.api, huma.Operation{OperationID: "coupon-qr", Method: http.MethodGet, Path: "/v1/coupons/{code}/qr.png",
		Summary: "A coupon as a QR code", Tags: tags, Responses: pngResponses("a size×size PNG")}, s.couponQR)
	huma.Register(s.api, huma.Operation{OperationID: "coupon-barcode", Method: http.MethodGet, Path: "/v1/coupons/{code}/barcode.png",
		Summary: "A coupon as a Code 128 barcode", Tags: tags, Responses: pngResponses("a size×(size/3) PNG")}, s.couponBarcode)
	s.couponBatchRoutes()
}

// couponPrincipal admits keys that redeem coupons or read loyalty data.
func couponPrincipal(ctx context.Context, write bool) (auth.Principal, error) {
	p, err := principal(ctx, auth.ScopeCouponsRedeem)
	if err == nil || !apperr.Is(err, apperr.Forbidden) {
		return p, err
	}
	if write {
		return principal(ctx, auth.ScopeLoyaltyWrite)
	}
	return principal(ctx, auth.ScopeLoyaltyRead)
}

// guess runs a lookup by code under the guess limiter: a key that has
// guessed wrong too often gets 429, and an unknown code counts against it.
func (s *server) guess(ctx context.Context, p auth.Principal, f func() error) error {
	now := time.Now()
	if ok, wait := s.guesses.Allow(p.KeyID, now); !ok {
		h := http.Header{}
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return huma.ErrorWithHeaders(huma.Error429TooManyRequests("too many unknown coupon codes from this API key; retry after the Retry-After seconds"), h)
	}
	err := f()
	if apperr.Is(err, apperr.NotFound) {
		s.guesses.Fail(p.KeyID, now)
	}
	if err != nil {
		return s.problem(ctx, err)
	}
	return nil
}

func (s *server) redeemCoupon(ctx context.Context, in *couponUseInput) (*couponUseOutput, error) {
	p, err := couponPrincipal(ctx, true)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	params := sqldb.CouponUseParams{TenantID: p.TenantID, Code: in.Code, Reference: in.Body.Reference, LocationCode: in.Body.Location,
		SalesChannelCode: in.Body.SalesChannel, Actor: actor(ctx, p)}
	if in.Body.CustomerID != "" {
		if params.CustomerID, err = id.Parse(id.Customer, in.Body.CustomerID); err != nil {
			return nil, s.problem(ctx, apperr.Field("body.customer_id", err.Error(), in.Body.CustomerID))
		}
	}
	var use *sqldb.CouponUse
	if err := s.guess(ctx, p, func() error {
		var err error
		use, err = s.db.RedeemCoupon(ctx, params)
		return err
	}); err != nil {
		return nil, err
	}
	out := &couponUseOutput{Status: http.StatusCreated}
	if !use.Created {
		out.Status = http.StatusOK
	}
	out.Body.Coupon, out.Body.Use, out.Body.Reference, out.Body.UsedAt = couponBody(use.Coupon, s.db.Now()), use.UseNo, use.Reference, use.UsedAt
	return out, nil
}

func (s *server) findCoupon(ctx context.Context, code string) (sqldb.Coupon, error) {
	p, err := couponPrincipal(ctx, false)
	if err != nil {
		return sqldb.Coupon{}, s.problem(ctx, err)
	}
	var c sqldb.Coupon
	err = s.guess(ctx, p, func() error {
		var err error
		c, err = s.db.FindCouponByCode(ctx, p.TenantID, code)
		return err
	})
	return c, err
}

func (s *server) getCoupon(ctx context.Context, in *couponCodeInput) (*couponOutput, error) {
	c, err := s.findCoupon(ctx, in.Code)
	if err != nil {
		return nil, err
	}
	return &couponOutput{Body: couponBody(c, s.db.Now())}, nil
}

func (s *server) couponQR(ctx context.Context, in *couponImageInput) (*imageOutput, error) {
	return s.couponImage(ctx, in, func(code string) ([]byte, error) { return coupon.QRPNG(code, in.Size) })
}

func (s *server) couponBarcode(ctx context.Context, in *couponImageInput) (*imageOutput, error) {
	return s.couponImage(ctx, in, func(code string) ([]byte, error) { return coupon.BarcodePNG(code, in.Size, max(in.Size/3, 32)) })
}

func (s *server) couponImage(ctx context.Context, in *couponImageInput, draw func(string) ([]byte, error)) (*imageOutput, error) {
	if in.Size == 0 {
		in.Size = 256
	}
	c, err := s.findCoupon(ctx, in.Code)
	if err != nil {
		return nil, err
	}
	img, err := draw(c.Code)
	if err != nil {
		return nil, s.problem(ctx, apperr.Field("query.size", err.Error(), in.Size))
	}
	return &imageOutput{ContentType: "image/png", CacheControl: "private, max-age=300", Body: img}, nil
}
