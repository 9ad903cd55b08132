package api_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

type auditEntryJSON struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	Action     string `json:"action"`
	Changes    []struct {
		Field  string `json:"field"`
		Before any    `json:"before"`
		After  any    `json:"after"`
	} `json:"changes"`
	Actor     string    `json:"actor"`
	RequestID string    `json:"request_id"`
	CreatedAt time.Time `json:"created_at"`
}

func TestAudit_RecordsWhoWhenWhat(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)
		writer := s.newKey(t, admin.TenantID, "customers:write", "customers:read")

		created := s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers", admin.Secret,
			map[string]any{"identifiers": map[string]any{"email": email("audit")}, "traits": map[string]any{"first_name": "Mei"}, "source": "web"}, nil)
		c := decode[customerJSON](t, created)
		patch := s.must(t, http.StatusOK, http.MethodPatch, "/v1/customers/"+c.ID, writer.Secret,
			map[string]any{"traits": map[string]any{"first_name": "May", "last_name": "Chan"}}, nil)
		if got := decode[customerJSON](t, patch); got.Traits["first_name"] != "May" {
			t.Fatalf("PATCH did not apply: %s", patch)
		}
		patchRID := patch.Header.Get("X-Request-Id")
		if patchRID == "" {
			t.Fatal("PATCH answer has no X-Request-Id")
		}
		// A PATCH that changes nothing records nothing.
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/customers/"+c.ID, writer.Secret, map[string]any{"traits": map[string]any{"first_name": "May"}}, nil)

		log := decode[page[auditEntryJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+c.ID+"/audit", admin.Secret, nil, nil))
		if len(log.Data) != 2 {
			t.Fatalf("audit has %d entries, want 2: %+v", len(log.Data), log.Data)
		}
		upd, cre := log.Data[0], log.Data[1]
		if upd.Action != "updated" || cre.Action != "created" {
			t.Errorf("actions = %s, %s; want updated, created (newest first)", upd.Action, cre.Action)
		}
		if upd.CreatedAt.Before(cre.CreatedAt) {
			t.Errorf("not newest first: %v before %v", upd.CreatedAt, cre.CreatedAt)
		}
		if want := "key:" + writer.KeyID; upd.Actor != want {
			t.Errorf("update actor = %q, want %q", upd.Actor, want)
		}
		if want := "key:" + admin.KeyID; cre.Actor != want {
			t.Errorf("create actor = %q, want %q", cre.Actor, want)
		}
		if upd.RequestID != patchRID {
			t.Errorf("update request_id = %q, want the PATCH's X-Request-Id %q", upd.RequestID, patchRID)
		}
		if want := created.Header.Get("X-Request-Id"); cre.RequestID != want {
			t.Errorf("create request_id = %q, want %q", cre.RequestID, want)
		}
		if upd.CustomerID != c.ID {
			t.Errorf("customer_id = %q, want %q", upd.CustomerID, c.ID)
		}
		var firstName, lastName bool
		for _, ch := range upd.Changes {
			switch ch.Field {
			case "first_name":
				firstName = ch.Before == "Mei" && ch.After == "May"
			case "last_name":
				lastName = ch.Before == nil && ch.After == "Chan"
			}
		}
		if !firstName || !lastName {
			t.Errorf("update changes = %+v, want first_name Mei->May and last_name null->Chan", upd.Changes)
		}

		// A client-chosen request id is what the log keeps.
		s.must(t, http.StatusOK, http.MethodPatch, "/v1/customers/"+c.ID, writer.Secret,
			map[string]any{"traits": map[string]any{"gender": "female"}}, h{"X-Request-Id": "till-42.7"})
		log = decode[page[auditEntryJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+c.ID+"/audit?limit=1", admin.Secret, nil, nil))
		if len(log.Data) != 1 || log.Data[0].RequestID != "till-42.7" || log.NextCursor == nil {
			t.Fatalf("latest entry = %+v (next %v), want request_id till-42.7 and more pages", log.Data, log.NextCursor)
		}
		// The audit log pages like any list.
		var all []string
		path := "/v1/customers/" + c.ID + "/audit?limit=1"
		for {
			p := decode[page[auditEntryJSON]](t, s.must(t, http.StatusOK, http.MethodGet, path, admin.Secret, nil, nil))
			for _, e := range p.Data {
				all = append(all, e.Action)
			}
			if p.NextCursor == nil || len(all) > 10 {
				break
			}
			path = "/v1/customers/" + c.ID + "/audit?limit=1&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		if len(all) != 3 || all[0] != "updated" || all[1] != "updated" || all[2] != "created" {
			t.Errorf("paged audit actions = %v, want [updated updated created]", all)
		}
	})
}
