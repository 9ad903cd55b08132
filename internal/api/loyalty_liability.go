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

// LiabilityBody is the points liability of the tenant.
type LiabilityBody struct {
	AsOf         time.Time         `json:"as_of"`
	PointName    string            `json:"point_name"`
	Available    int64             `json:"available" doc:"points members can spend now"`
	Pending      int64             `json:"pending" doc:"points waiting for their return window"`
	Owed         int64             `json:"owed" doc:"points clawed back after members spent them, to be settled by later earnings"`
	Values       []LiabilityValue  `json:"values" doc:"the outstanding points' value in each currency the program values points in, minor units"`
	ByTier       []TierLiability   `json:"by_tier"`
	ByExpiry     []MonthPointsBody `json:"by_expiry_month" doc:"available points by the month they expire (UTC); month \"never\" for points that do not"`
	Flows        []MonthFlowsBody  `json:"flows" doc:"points issued, redeemed, expired, adjusted and clawed back per month, newest first"`
	BreakageRate float64           `json:"breakage_rate" doc:"expired ÷ (expired + redeemed) so far: the share of points that leave unused"`
	Breakage     int64             `json:"breakage" doc:"outstanding points expected to expire unused, at that rate"`
}

// LiabilityValue is a value in one currency.
type LiabilityValue struct {
	Currency  string `json:"currency"`
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
	Breakage  int64  `json:"breakage"`
}

// TierLiability is the points of one tier's members.
type TierLiability struct {
	TierID    string `json:"tier_id"`
	Code      string `json:"code"`
	Members   int64  `json:"members"`
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
}

// MonthPointsBody is points in one month.
type MonthPointsBody struct {
	Month  string `json:"month" example:"2027-11"`
	Points int64  `json:"points"`
}

// MonthFlowsBody is a month's flows of points.
type MonthFlowsBody struct {
	Month      string `json:"month" example:"2026-11"`
	Issued     int64  `json:"issued"`
	Redeemed   int64  `json:"redeemed"`
	Expired    int64  `json:"expired"`
	Adjusted   int64  `json:"adjusted"`
	ClawedBack int64  `json:"clawed_back"`
}

type liabilityInput struct {
	Months int `query:"months" minimum:"1" maximum:"120" default:"12" doc:"how many months of flows"`
}

type liabilityOutput struct{ Body LiabilityBody }

type liabilityCSVOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *server) loyaltyLiabilityRoutes() {
	tags := []string{"Loyalty reporting"}
	huma.Register(s.api, huma.Operation{OperationID: "loyalty-liability", Method: http.MethodGet, Path: "/v1/loyalty/liability",
		Summary: "Points liability", Tags: tags,
		Description: "Outstanding available and pending points and their value, by tier and by expiry month; points issued, redeemed and expired per month; a breakage estimate."}, s.liability)
	huma.Register(s.api, huma.Operation{OperationID: "loyalty-liability-csv", Method: http.MethodGet, Path: "/v1/loyalty/liability.csv",
		Summary: "Points liability as CSV", Tags: tags,
		Description: "The same report as rows: section, key, points, and the value in each currency."}, s.liabilityCSV)
}

func (s *server) findLiability(ctx context.Context, months int) (*sqldb.Liability, error) {
	p, err := principal(ctx, auth.ScopeLoyaltyRead)
	if err != nil {
		return nil, err
	}
	if months <= 0 {
		months = 12
	}
	now := s.db.Now()
	since := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1-months, 0)
	return s.db.FindLoyaltyLiability(ctx, p.TenantID, since)
}

func (s *server) liability(ctx context.Context, in *liabilityInput) (*liabilityOutput, error) {
	l, err := s.findLiability(ctx, in.Months)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := LiabilityBody{AsOf: l.AsOf, PointName: l.PointName, Available: l.Available, Pending: l.Pending, Owed: l.Owed,
		BreakageRate: l.BreakageRate, Breakage: l.Breakage, Values: []LiabilityValue{}, ByTier: []TierLiability{},
		ByExpiry: []MonthPointsBody{}, Flows: []MonthFlowsBody{}}
	for _, v := range l.Values {
		b.Values = append(b.Values, LiabilityValue(v))
	}
	for _, t := range l.ByTier {
		b.ByTier = append(b.ByTier, TierLiability{TierID: id.Format(id.Tier, t.TierID), Code: t.Code, Members: t.Members,
			Available: t.Available, Pending: t.Pending})
	}
	for _, m := range l.ByExpiry {
		b.ByExpiry = append(b.ByExpiry, MonthPointsBody{Month: monthOrNever(m.Month), Points: m.Points})
	}
	for _, f := range l.Flows {
		b.Flows = append(b.Flows, MonthFlowsBody(f))
	}
	return &liabilityOutput{Body: b}, nil
}

func monthOrNever(m string) string {
	if m == "" {
		return "never"
	}
	return m
}

func (s *server) liabilityCSV(ctx context.Context, in *liabilityInput) (*liabilityCSVOutput, error) {
	l, err := s.findLiability(ctx, in.Months)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"section", "key", "points"}
	for _, v := range l.Values {
		head = append(head, "value_"+v.Currency)
	}
	_ = w.Write(head)
	row := func(section, key string, points int64) {
		r := []string{section, key, strconv.FormatInt(points, 10)}
		for _, v := range l.Values {
			r = append(r, strconv.FormatInt(l.Value(points, v.Currency), 10))
		}
		_ = w.Write(r)
	}
	row("outstanding", "available", l.Available)
	row("outstanding", "pending", l.Pending)
	row("outstanding", "breakage_estimate", l.Breakage)
	for _, t := range l.ByTier {
		row("tier_available", t.Code, t.Available)
		row("tier_pending", t.Code, t.Pending)
	}
	for _, m := range l.ByExpiry {
		row("expiring", monthOrNever(m.Month), m.Points)
	}
	for _, f := range l.Flows {
		row("issued", f.Month, f.Issued)
		row("redeemed", f.Month, f.Redeemed)
		row("expired", f.Month, f.Expired)
		row("adjusted", f.Month, f.Adjusted)
		row("clawed_back", f.Month, f.ClawedBack)
	}
	w.Flush()
	return &liabilityCSVOutput{ContentType: "text/csv; charset=utf-8",
		ContentDisposition: `attachment; filename="loyalty-liability.csv"`, Body: buf.Bytes()}, nil
}
