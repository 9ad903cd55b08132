package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

type consentsJSON struct {
	Current []consentJSON `json:"current"`
	History []consentJSON `json:"history"`
}

func consent(channel, purpose, status string) map[string]any {
	return map[string]any{"consents": []map[string]any{{"message_channel": channel, "purpose": purpose, "status": status, "source": "pos"}}}
}

func TestConsents_GrantThenWithdraw(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		c := s.identify(t, k.Secret, http.StatusCreated, ids("email", email("consent")))
		path := "/v1/customers/" + c.ID + "/consents"

		granted := decode[consentsJSON](t, s.must(t, http.StatusCreated, http.MethodPost, path, k.Secret, consent("email", "marketing", "granted"), nil))
		if len(granted.Current) != 1 || granted.Current[0].Status != "granted" || len(granted.History) != 1 {
			t.Fatalf("after grant: %+v", granted)
		}
		s.must(t, http.StatusCreated, http.MethodPost, path, k.Secret, consent("email", "marketing", "withdrawn"), nil)

		got := decode[consentsJSON](t, s.must(t, http.StatusOK, http.MethodGet, path, k.Secret, nil, nil))
		if len(got.Current) != 1 {
			t.Fatalf("current = %+v, want one statement", got.Current)
		}
		cur := got.Current[0]
		if cur.MessageChannel != "email" || cur.Purpose != "marketing" || cur.Status != "withdrawn" || cur.CustomerID != c.ID || cur.Source != "pos" {
			t.Errorf("current = %+v, want email/marketing withdrawn", cur)
		}
		if len(got.History) != 2 || got.History[0].Status != "granted" || got.History[1].Status != "withdrawn" {
			t.Fatalf("history = %+v, want granted then withdrawn", got.History)
		}
		if got.History[0].ID == got.History[1].ID || got.History[1].RecordedAt.Before(got.History[0].RecordedAt) {
			t.Errorf("history out of order: %+v", got.History)
		}
		// The customer view shows the current statement too.
		view := decode[customerJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+c.ID, k.Secret, nil, nil))
		if len(view.Consents) != 1 || view.Consents[0].Status != "withdrawn" {
			t.Errorf("customer consents = %+v", view.Consents)
		}
		// A statement dated before the grant joins the history but is not current.
		old := consent("email", "marketing", "granted")
		old["consents"].([]map[string]any)[0]["occurred_at"] = time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
		late := decode[consentsJSON](t, s.must(t, http.StatusCreated, http.MethodPost, path, k.Secret, old, nil))
		if len(late.History) != 3 || late.History[0].Status != "granted" || !late.History[0].OccurredAt.Before(late.History[1].OccurredAt) {
			t.Errorf("history = %+v, want the back-dated grant first", late.History)
		}
		if len(late.Current) != 1 || late.Current[0].Status != "withdrawn" {
			t.Errorf("current = %+v, want still withdrawn", late.Current)
		}
		// An audit entry per statement.
		audit := decode[page[auditEntryJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+c.ID+"/audit", k.Secret, nil, nil))
		n := 0
		for _, e := range audit.Data {
			if e.Action == "consent_recorded" {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d consent_recorded entries, want 3", n)
		}
	})
}

func TestConsents_Invalid(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		c := s.identify(t, k.Secret, http.StatusCreated, ids("email", email("consent")))
		path := "/v1/customers/" + c.ID + "/consents"
		future := consent("sms", "marketing", "granted")
		future["consents"].([]map[string]any)[0]["occurred_at"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		two := map[string]any{"consents": []map[string]any{
			{"message_channel": "email", "purpose": "marketing", "status": "granted"},
			{"message_channel": "email", "purpose": "spam", "status": "granted"},
		}}
		cases := []struct {
			name     string
			body     any
			location string
		}{
			{"Channel", consent("pigeon", "marketing", "granted"), "body.consents[0].message_channel"},
			{"Purpose", consent("email", "gossip", "granted"), "body.consents[0].purpose"},
			{"Status", consent("email", "marketing", "maybe"), "body.consents[0].status"},
			{"SecondOfTwo", two, "body.consents[1].purpose"},
			{"Future", future, "body.consents[0].occurred_at"},
			{"None", map[string]any{"consents": []any{}}, "body.consents"},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					assertFieldError(t, s.do(t, http.MethodPost, path, k.Secret, tc.body, nil), tc.location)
				})
			}
		})
		got := decode[consentsJSON](t, s.must(t, http.StatusOK, http.MethodGet, path, k.Secret, nil, nil))
		if len(got.History) != 0 {
			t.Errorf("invalid requests recorded %+v", got.History)
		}
	})
}
