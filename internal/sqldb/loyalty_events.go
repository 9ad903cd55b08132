package sqldb

import (
	"context"
	"encoding/json"

	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// accrueEvents earns the points that rules with an event trigger give for
// the batch's track events (sign-up, review written, app installed, …), in
// the batch's own transaction. Each event earns once: its entry's natural
// key is the event's id, and a resent messageId is a duplicate before this.
func accrueEvents(ctx context.Context, tx *Tx, tenantID string, items []eventItem) error {
	cfg, err := tx.db.loyaltyConfigFor(ctx, tx, tenantID)
	if err != nil || cfg == nil || len(cfg.needs.events) == 0 {
		return err
	}
	for i := range items {
		it := &items[i]
		if !it.live() || it.e.Type != "track" || it.res.CustomerID == "" || !cfg.needs.events[it.e.Name] {
			continue
		}
		if err := accrueEvent(ctx, tx, cfg, tenantID, it.res.ID, it.res.CustomerID, it.e); err != nil {
			return err
		}
	}
	return nil
}

func accrueEvent(ctx context.Context, tx *Tx, cfg *loyaltyConfig, tenantID, eventID, customerID string, e *event.Event) error {
	m, err := ensureMember(ctx, tx, cfg, tenantID, customerID, e.Timestamp)
	if err != nil {
		return err
	}
	st, err := memberState(ctx, tx, cfg, tenantID, m, e.Timestamp, nil)
	if err != nil {
		return err
	}
	props := map[string]any{}
	_ = json.Unmarshal(e.Properties, &props) // stored events are JSON objects
	earned := loyalty.EvaluateEvent(cfg.Rules, st, loyalty.Event{Name: e.Name, Properties: props, At: e.Timestamp})
	if earned.Points == 0 {
		return nil
	}
	entryID := id.New()
	postings := append(sourcePostings(earned.Awards, -1), loyalty.Posting{Account: member(loyalty.AccountAvailable, m.CustomerID), Points: earned.Points})
	if _, err := postEntry(ctx, tx, loyalty.Entry{TenantID: tenantID, ID: entryID, Kind: loyalty.EntryEarn, CustomerID: m.CustomerID,
		NaturalKey: "event:" + eventID, Reason: "event " + e.Name, Postings: postings, Awards: earned.Awards, OccurredAt: e.Timestamp}); err != nil {
		return err
	}
	if err := insertLot(ctx, tx, tenantID, lotRow{Lot: loyalty.Lot{ID: id.New(), Remaining: earned.Points,
		ExpiresAt: cfg.Program.Expiry.ExpiresAt(e.Timestamp), EarnedAt: e.Timestamp}, CustomerID: m.CustomerID,
		OriginCustomerID: m.CustomerID, EntryID: entryID, Status: "available", Points: earned.Points, AvailableAt: e.Timestamp}); err != nil {
		return err
	}
	if err := recordAwards(ctx, tx, cfg, tenantID, entryID, m.CustomerID, e.Timestamp, earned.Awards); err != nil {
		return err
	}
	if err := addQualifying(ctx, tx, tenantID, m.CustomerID, e.Timestamp, 0, earned.StatusPoints); err != nil {
		return err
	}
	m.LifetimeEarned += earned.Points
	if err := retier(ctx, tx, cfg, tenantID, &m, e.Timestamp, true, "event "+e.Name); err != nil {
		return err
	}
	return saveMember(ctx, tx, tenantID, m)
}
