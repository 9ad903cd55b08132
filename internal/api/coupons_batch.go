package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// CouponBatchRequest asks for codes in bulk.
type CouponBatchRequest struct {
	RewardID       string     `json:"reward_id,omitempty" doc:"rwd_…: the reward the codes give (its places apply when used)"`
	Name           string     `json:"name,omitempty" maxLength:"200" doc:"a name, when there is no reward"`
	Count          int64      `json:"count" minimum:"1" maximum:"1000000"`
	Prefix         string     `json:"prefix,omitempty" maxLength:"8" doc:"printed before every code"`
	MaxUses        int64      `json:"max_uses,omitempty" minimum:"0" doc:"uses per code (default 1)"`
	PerMemberLimit int64      `json:"per_member_limit,omitempty" minimum:"0" doc:"uses per customer of one code; 0 for no limit"`
	ValidFrom      *time.Time `json:"valid_from,omitempty" doc:"default now"`
	ValidUntil     *time.Time `json:"valid_until,omitempty" doc:"default never"`
}

// CouponBatchBody is a generated batch.
type CouponBatchBody struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	RewardID  string    `json:"reward_id,omitempty"`
	Prefix    string    `json:"prefix,omitempty"`
	Count     int64     `json:"count" doc:"codes generated"`
	Status    string    `json:"status" enum:"generating,ready"`
	CodesURL  string    `json:"codes_url" doc:"the codes as CSV"`
	CreatedAt time.Time `json:"created_at"`
}

type couponBatchInput struct{ Body CouponBatchRequest }

type couponBatchOutput struct{ Body CouponBatchBody }

type couponBatchIDInput struct {
	ID string `path:"id" doc:"batch id, cpb_…"`
}

type couponCSVOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *server) couponBatchRoutes() {
	tags := []string{"Coupons"}
	huma.Register(s.api, huma.Operation{OperationID: "create-coupon-batch", Method: http.MethodPost, Path: "/v1/coupons/batches",
		Summary: "Generate coupon codes in bulk", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Up to 1,000,000 distinct codes, stored before the response. Download them with GET /v1/coupons/batches/{id}/codes.csv."},
		s.createCouponBatch)
	huma.Register(s.api, huma.Operation{OperationID: "coupon-batch-codes", Method: http.MethodGet, Path: "/v1/coupons/batches/{id}/codes.csv",
		Summary: "A batch's codes as CSV", Tags: tags, Description: "Columns: code, valid_from, valid_until, max_uses."}, s.couponBatchCSV)
}

func (s *server) createCouponBatch(ctx context.Context, in *couponBatchInput) (*couponBatchOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	cb := sqldb.CouponBatch{TenantID: p.TenantID, Name: b.Name, Prefix: b.Prefix, Requested: b.Count, MaxUses: b.MaxUses,
		PerMemberLimit: b.PerMemberLimit, ValidUntil: b.ValidUntil, Actor: actor(ctx, p).Actor}
	if b.ValidFrom != nil {
		cb.ValidFrom = *b.ValidFrom
	}
	if b.RewardID != "" {
		if cb.RewardID, err = id.Parse(id.Reward, b.RewardID); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	cb, err = s.db.CreateCouponBatch(ctx, cb)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pid := id.Format(batchPrefix, cb.ID)
	return &couponBatchOutput{Body: CouponBatchBody{ID: pid, Name: cb.Name, RewardID: id.Format(id.Reward, cb.RewardID), Prefix: cb.Prefix,
		Count: cb.Generated, Status: cb.Status, CodesURL: "/v1/coupons/batches/" + pid + "/codes.csv", CreatedAt: cb.CreatedAt}}, nil
}

func (s *server) couponBatchCSV(ctx context.Context, in *couponBatchIDInput) (*couponCSVOutput, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	bid, err := id.Parse(batchPrefix, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if _, err := s.db.FindCouponBatch(ctx, p.TenantID, bid); err != nil {
		return nil, s.problem(ctx, err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"code", "valid_from", "valid_until", "max_uses"})
	err = s.db.EachBatchCode(ctx, p.TenantID, bid, func(c sqldb.Coupon) error {
		until := ""
		if c.ValidUntil != nil {
			until = c.ValidUntil.Format(time.RFC3339)
		}
		return w.Write([]string{c.Code, c.ValidFrom.Format(time.RFC3339), until, strconv.FormatInt(c.MaxUses, 10)})
	})
	w.Flush()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &couponCSVOutput{ContentType: "text/csv; charset=utf-8",
		ContentDisposition: `attachment; filename="coupons-` + in.ID + `.csv"`, Body: buf.Bytes()}, nil
}
