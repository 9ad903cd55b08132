package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// eventPrefix is the type prefix of event ids (evt_…).
const eventPrefix = "evt"

// EventBody is a behavioural event as recorded.
type EventBody struct {
	ID                string          `json:"id" example:"evt_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	MessageID         string          `json:"message_id" doc:"the sender's messageId; an event is recorded once per message id"`
	Type              string          `json:"type" enum:"identify,track,page,screen,group,alias"`
	Name              string          `json:"name,omitempty" doc:"track: the event; page and screen: the name; group: the group id"`
	CustomerID        string          `json:"customer_id" doc:"the customer it was recorded on (may have been merged since)"`
	UserID            string          `json:"user_id,omitempty"`
	AnonymousID       string          `json:"anonymous_id,omitempty"`
	OccurredAt        time.Time       `json:"occurred_at" doc:"Segment's timestamp, corrected for the device clock"`
	OriginalTimestamp *time.Time      `json:"original_timestamp,omitempty" doc:"the timestamp as the device sent it"`
	SentAt            *time.Time      `json:"sent_at,omitempty"`
	ReceivedAt        time.Time       `json:"received_at"`
	Commerce          string          `json:"ecommerce_action,omitempty" doc:"Segment e-commerce event, e.g. product_viewed, order_completed"`
	TransactionID     string          `json:"transaction_id,omitempty" doc:"the purchase or return an order event recorded"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           json.RawMessage `json:"context"`
}

func eventBody(e event.Event) EventBody {
	return EventBody{ID: id.Format(eventPrefix, e.ID), MessageID: e.MessageID, Type: e.Type, Name: e.Name,
		CustomerID: id.Format(id.Customer, e.CustomerID), UserID: e.UserID, AnonymousID: e.AnonymousID, OccurredAt: e.Timestamp,
		OriginalTimestamp: e.OriginalTimestamp, SentAt: e.SentAt, ReceivedAt: e.ReceivedAt, Commerce: e.Commerce,
		TransactionID: id.Format(id.Transaction, e.TransactionID), Properties: e.Properties, Traits: e.Traits, Context: e.Context}
}

type customerEventsInput struct {
	ID    string `path:"id" doc:"customer id, cus_…"`
	Name  string `query:"name" maxLength:"200" doc:"only events of this name (track event, page or screen name)"`
	Type  string `query:"type" enum:"identify,track,page,screen,group,alias" doc:"only events of this type"`
	Since string `query:"since" doc:"only events that occurred at or after this time (RFC 3339)"`
	Until string `query:"until" doc:"only events that occurred before this time (RFC 3339)"`
	PageParams
}

type customerEventsOutput struct{ Body Page[EventBody] }

func (s *server) eventRoutes() {
	huma.Register(s.api, huma.Operation{OperationID: "customer-events", Method: http.MethodGet, Path: "/v1/customers/{id}/events",
		Summary: "A customer's behavioural events", Tags: []string{"Customers"},
		Description: "Events sent through the tracking API (/v1/track, /v1/batch…), newest first, including those of customers merged " +
			"into this one: an anonymous visitor's events appear on the customer they logged in as."}, s.customerEvents)
}

func (s *server) customerEvents(ctx context.Context, in *customerEventsInput) (*customerEventsOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeEventsRead, in.ID)
	if err != nil {
		return nil, err
	}
	f := sqldb.EventFilter{TenantID: p.TenantID, CustomerID: cid, Name: in.Name, Type: in.Type, Limit: in.limit() + 1}
	if f.Before, err = timeCursor(in.PageParams); err != nil {
		return nil, s.problem(ctx, err)
	}
	if f.Since, err = queryTime("query.since", in.Since); err != nil {
		return nil, s.problem(ctx, err)
	}
	if f.Until, err = queryTime("query.until", in.Until); err != nil {
		return nil, s.problem(ctx, err)
	}
	evs, err := s.db.FindEvents(ctx, f)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customerEventsOutput{Body: paginate(evs, in.limit(), func(e event.Event) string { return timeKey(e.Timestamp, e.ID) }, eventBody)}, nil
}

func queryTime(loc, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, apperr.Field(loc, "an RFC 3339 time such as 2026-11-20T15:04:05Z", v)
	}
	return t, nil
}
