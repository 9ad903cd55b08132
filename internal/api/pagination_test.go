package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func TestPagination_CustomersFollowCursor(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		var created []string
		for range 7 {
			created = append(created, s.identify(t, k.Secret, http.StatusCreated, ids("email", email("page"))).ID)
		}

		var seen []string
		var sizes []int
		path := "/v1/customers?limit=3"
		for pages := 0; ; pages++ {
			if pages > 7 {
				t.Fatalf("more pages than customers: %v", sizes)
			}
			p := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, path, k.Secret, nil, nil))
			sizes = append(sizes, len(p.Data))
			for _, c := range p.Data {
				seen = append(seen, c.ID)
			}
			if p.NextCursor == nil {
				break
			}
			if *p.NextCursor == "" {
				t.Fatal("next_cursor is an empty string, want null or a cursor")
			}
			path = "/v1/customers?limit=3&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		if want := []int{3, 3, 1}; len(sizes) != len(want) || sizes[0] != 3 || sizes[1] != 3 || sizes[2] != 1 {
			t.Errorf("page sizes = %v, want %v", sizes, want)
		}
		if len(seen) != len(created) {
			t.Fatalf("saw %d customers, want %d: %v", len(seen), len(created), seen)
		}
		for i := range created {
			if seen[i] != created[i] {
				t.Errorf("position %d: %s, want %s (creation order)", i, seen[i], created[i])
			}
		}

		// The last page's null is a JSON null, not an absent member.
		last := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?limit=7", k.Secret, nil, nil)
		if v, ok := last.JSON["next_cursor"]; !ok || v != nil {
			t.Errorf("next_cursor on a complete page: %s", last)
		}
		// An exact fit ends with null too, not with a cursor to an empty page.
		if p := decode[page[customerJSON]](t, last); len(p.Data) != 7 {
			t.Errorf("limit=7 gave %d", len(p.Data))
		}
	})
}

func TestPagination_BadParameters(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		c := s.identify(t, k.Secret, http.StatusCreated, ids("email", email("badpage")))
		cases := []struct {
			name, path, location string
		}{
			{"CursorNotBase64", "/v1/customers?cursor=***", "query.cursor"},
			{"CursorEmptyAfterDecode", "/v1/customers?cursor=%3D%3D", "query.cursor"},
			{"LimitZero", "/v1/customers?limit=0", "query.limit"},
			{"LimitTooLarge", "/v1/customers?limit=201", "query.limit"},
			{"LimitNotNumber", "/v1/customers?limit=ten", "query.limit"},
			{"KeysCursor", "/v1/keys?cursor=***", "query.cursor"},
			{"AuditCursor", "/v1/customers/" + c.ID + "/audit?cursor=***", "query.cursor"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				assertFieldError(t, s.do(t, http.MethodGet, tc.path, k.Secret, nil, nil), tc.location)
			})
		}
	})
}

func TestPagination_KeysNewestFirst(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		admin := s.newTenant(t)
		want := []string{admin.PublicKeyID()}
		for range 4 {
			want = append([]string{s.newKey(t, admin.TenantID, "customers:read").PublicKeyID()}, want...)
		}
		var seen []string
		path := "/v1/keys?limit=2"
		for range 5 {
			p := decode[page[struct {
				ID     string `json:"id"`
				Secret string `json:"secret"`
			}]](t, s.must(t, http.StatusOK, http.MethodGet, path, admin.Secret, nil, nil))
			for _, k := range p.Data {
				seen = append(seen, k.ID)
				if k.Secret != "" {
					t.Errorf("list shows the secret of %s", k.ID)
				}
			}
			if p.NextCursor == nil {
				break
			}
			path = "/v1/keys?limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		if len(seen) != len(want) {
			t.Fatalf("keys = %v, want %v", seen, want)
		}
		for i := range want {
			if seen[i] != want[i] {
				t.Errorf("keys = %v, want %v (newest first)", seen, want)
				break
			}
		}
	})
}
