package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

func TestIdentify_TwoSalesChannelsOneCustomer(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		addr, tel := email("mei"), phone()

		web := s.identify(t, k.Secret, http.StatusCreated, map[string]any{
			"identifiers": map[string]any{"email": addr, "external": []map[string]string{{"type": "web", "value": "u-1"}}},
			"traits":      map[string]any{"first_name": "Mei"},
			"source":      "web",
		})
		if !web.Created || !strings.HasPrefix(web.ID, "cus_") {
			t.Fatalf("first identify: created=%v id=%q", web.Created, web.ID)
		}
		// The till types the address in capitals and adds a national phone number.
		national := strings.TrimPrefix(tel, "+852")
		pos := s.identify(t, k.Secret, http.StatusOK, map[string]any{
			"identifiers": map[string]any{"email": "  " + strings.ToUpper(addr) + " ", "phone": national[:4] + " " + national[4:]},
			"source":      "pos",
		})
		if pos.ID != web.ID || pos.Created || len(pos.Merged) != 0 {
			t.Fatalf("second identify: id=%s created=%v merged=%v, want %s not created", pos.ID, pos.Created, pos.Merged, web.ID)
		}
		if !slices.Equal(pos.Identifiers.Emails, []string{addr}) || !slices.Equal(pos.Identifiers.Phones, []string{tel}) ||
			len(pos.Identifiers.External) != 1 {
			t.Errorf("identifiers = %+v, want %s, %s and one external id", pos.Identifiers, addr, tel)
		}
		if pos.Traits["first_name"] != "Mei" {
			t.Errorf("traits = %v", pos.Traits)
		}
		all := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(all.Data) != 1 {
			t.Errorf("tenant has %d customers, want 1", len(all.Data))
		}
		for _, q := range []string{"email=" + url.QueryEscape(addr), "phone=" + url.QueryEscape(tel), "external_type=web&external_value=u-1"} {
			got := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?"+q, k.Secret, nil, nil))
			if len(got.Data) != 1 || got.Data[0].ID != web.ID {
				t.Errorf("search %s found %+v", q, got.Data)
			}
		}
	})
}

func TestIdentify_Validation(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		cases := []struct {
			name     string
			body     any
			location string
		}{
			{"MalformedEmail", ids("email", "mei.at.omo-shop.hk"), "body.identifiers.email"},
			{"EmailWithoutDomain", ids("email", "mei@localhost"), "body.identifiers.email"},
			{"MalformedPhone", ids("phone", "call me"), "body.identifiers.phone"},
			{"MalformedEmailWithGoodPhone", ids("email", "mei@", "phone", phone()), "body.identifiers.email"},
			{"OnlyJunkEmail", ids("email", "test@test.com"), "body.identifiers.email"},
			{"OnlyJunkPhone", ids("phone", "99999999"), "body.identifiers.phone"},
			{"AllJunk", ids("email", "noemail@omo-shop.hk", "phone", "12345678", "card_number", "n/a"), "body.identifiers.email"},
			{"NoIdentifiers", map[string]any{"identifiers": map[string]any{}}, "body.identifiers"},
			{"BadExternalType", map[string]any{"identifiers": map[string]any{"external": []map[string]string{{"type": "POS ID!", "value": "1"}}}},
				"body.identifiers.external[0].type"},
			{"BadBirthday", map[string]any{"identifiers": map[string]any{"email": email("bday")}, "traits": map[string]any{"birthday": "31/12/1990"}},
				"body.traits.birthday"},
			{"BadConsentChannel", map[string]any{"identifiers": map[string]any{"email": email("c")},
				"consents": []map[string]any{{"message_channel": "pigeon", "purpose": "marketing", "status": "granted"}}},
				"body.consents[0].message_channel"},
			{"NulInTrait", map[string]any{"identifiers": map[string]any{"email": email("nul")}, "traits": map[string]any{"first_name": "M\x00ei"}},
				"body.traits.first_name"},
		}
		t.Run("cases", func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					assertFieldError(t, s.do(t, http.MethodPost, "/v1/customers", k.Secret, tc.body, nil), tc.location)
				})
			}
		})
		all := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(all.Data) != 0 {
			t.Errorf("rejected identify calls created %d customers: %+v", len(all.Data), all.Data)
		}
	})
}

func TestIdentify_JunkIdentifierIgnored(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		tel := phone()
		c := s.identify(t, k.Secret, http.StatusCreated, ids("email", "test@test.com", "phone", tel))
		if len(c.Ignored) != 1 || c.Ignored[0].Reason != "junk" || c.Ignored[0].Field != "body.identifiers.email" ||
			c.Ignored[0].Value != "test@test.com" || c.Ignored[0].Detail == "" {
			t.Errorf("ignored_identifiers = %+v, want the email as junk", c.Ignored)
		}
		if len(c.Identifiers.Emails) != 0 || !slices.Equal(c.Identifiers.Phones, []string{tel}) {
			t.Errorf("identifiers = %+v, want only %s", c.Identifiers, tel)
		}
		// The same junk with another phone is another person: junk never matches.
		other := s.identify(t, k.Secret, http.StatusCreated, ids("email", "test@test.com", "phone", phone()))
		if other.ID == c.ID {
			t.Errorf("a junk email matched customer %s", c.ID)
		}
		// A clean answer still lists ignored_identifiers, as an empty array.
		clean := s.must(t, http.StatusOK, http.MethodPost, "/v1/customers", k.Secret, ids("phone", tel), nil)
		if v, ok := clean.JSON["ignored_identifiers"].([]any); !ok || len(v) != 0 {
			t.Errorf("ignored_identifiers = %#v, want []", clean.JSON["ignored_identifiers"])
		}
	})
}

func TestIdentify_ThreeWayMergeAndUnmerge(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		addr, tel, card := email("merge"), phone(), "CARD-"+strings.TrimPrefix(phone(), "+")

		byEmail := s.identify(t, k.Secret, http.StatusCreated, map[string]any{"identifiers": map[string]any{"email": addr}, "traits": map[string]any{"first_name": "Ann"}})
		byPhone := s.identify(t, k.Secret, http.StatusCreated, map[string]any{"identifiers": map[string]any{"phone": tel}, "traits": map[string]any{"last_name": "Lee"}})
		byCard := s.identify(t, k.Secret, http.StatusCreated, ids("card_number", card))

		all := s.identify(t, k.Secret, http.StatusOK, ids("email", addr, "phone", tel, "card_number", card))
		if all.ID != byEmail.ID || all.Created {
			t.Fatalf("merge resolved to %s (created %v), want the oldest %s", all.ID, all.Created, byEmail.ID)
		}
		if !slices.Equal(all.Merged, []string{byPhone.ID, byCard.ID}) {
			t.Errorf("merged = %v, want [%s %s]", all.Merged, byPhone.ID, byCard.ID)
		}
		if len(all.Identifiers.Emails) != 1 || len(all.Identifiers.Phones) != 1 || len(all.Identifiers.CardNumbers) != 1 {
			t.Errorf("survivor identifiers = %+v", all.Identifiers)
		}
		if all.Traits["first_name"] != "Ann" || all.Traits["last_name"] != "Lee" {
			t.Errorf("survivor traits = %v, want both names", all.Traits)
		}

		get := func(cid string) customerJSON {
			return decode[customerJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+cid, k.Secret, nil, nil))
		}
		for _, m := range []string{byPhone.ID, byCard.ID} {
			got := get(m)
			if got.ID != byEmail.ID || got.RequestedID != m || got.MergedInto != byEmail.ID {
				t.Errorf("GET %s: id=%s requested_id=%q merged_into=%q, want %s, %s, %s", m, got.ID, got.RequestedID, got.MergedInto, byEmail.ID, m, byEmail.ID)
			}
		}
		if r := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+byEmail.ID, k.Secret, nil, nil); r.JSON["requested_id"] != nil || r.JSON["merged_into"] != nil {
			t.Errorf("GET on the survivor shows requested_id/merged_into: %s", r)
		}
		list := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(list.Data) != 1 {
			t.Errorf("list shows %d customers after the merge, want 1", len(list.Data))
		}
		merges := decode[struct {
			Data []struct {
				ID, GroupID, SurvivorID, MergedID string
				UndoneAt                          *string `json:"undone_at"`
			} `json:"data"`
		}](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+byCard.ID+"/merges", k.Secret, nil, nil))
		if len(merges.Data) != 2 {
			t.Fatalf("merges = %+v, want 2", merges.Data)
		}

		un := s.must(t, http.StatusOK, http.MethodPost, "/v1/customers/"+byEmail.ID+"/unmerge", k.Secret, nil, nil)
		res := decode[struct {
			Customer customerJSON   `json:"customer"`
			Restored []customerJSON `json:"restored"`
		}](t, un)
		if res.Customer.ID != byEmail.ID || len(res.Restored) != 2 {
			t.Fatalf("unmerge: %s", un)
		}
		restored := []string{res.Restored[0].ID, res.Restored[1].ID}
		slices.Sort(restored)
		if want := []string{byPhone.ID, byCard.ID}; !slices.Equal(restored, sorted(want)) {
			t.Errorf("restored %v, want %v", restored, want)
		}
		if got := get(byPhone.ID); got.ID != byPhone.ID || got.MergedInto != "" || !slices.Equal(got.Identifiers.Phones, []string{tel}) ||
			got.Traits["last_name"] != "Lee" {
			t.Errorf("after unmerge GET %s = %+v", byPhone.ID, got)
		}
		if got := get(byCard.ID); got.ID != byCard.ID || !slices.Equal(got.Identifiers.CardNumbers, []string{card}) {
			t.Errorf("after unmerge GET %s = %+v", byCard.ID, got)
		}
		if got := get(byEmail.ID); !slices.Equal(got.Identifiers.Emails, []string{addr}) || len(got.Identifiers.Phones) != 0 ||
			len(got.Identifiers.CardNumbers) != 0 || got.Traits["last_name"] != nil {
			t.Errorf("after unmerge the survivor = %+v %v", got.Identifiers, got.Traits)
		}
		list = decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", k.Secret, nil, nil))
		if len(list.Data) != 3 {
			t.Errorf("list shows %d customers after the unmerge, want 3", len(list.Data))
		}
		// Nothing left to undo.
		assertProblem(t, s.do(t, http.MethodPost, "/v1/customers/"+byEmail.ID+"/unmerge", k.Secret, nil, nil), http.StatusConflict)
	})
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

func TestIdentify_AfterErasure(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		k := s.newTenant(t)
		addr := email("erase")
		c := s.identify(t, k.Secret, http.StatusCreated, map[string]any{"identifiers": map[string]any{"email": addr}, "traits": map[string]any{"first_name": "Eve"}})

		erased := decode[customerJSON](t, s.must(t, http.StatusOK, http.MethodDelete, "/v1/customers/"+c.ID, k.Secret, nil, nil))
		if erased.ID != c.ID || erased.ErasedAt == nil || len(erased.Identifiers.Emails) != 0 || erased.Traits["first_name"] != nil {
			t.Errorf("erase answered %+v", erased)
		}
		// Erasing twice is not an error.
		s.must(t, http.StatusOK, http.MethodDelete, "/v1/customers/"+c.ID, k.Secret, nil, nil)
		if got := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?email="+url.QueryEscape(addr), k.Secret, nil, nil)); len(got.Data) != 0 {
			t.Errorf("search still finds the erased email: %+v", got.Data)
		}
		// An erased customer takes no more writes.
		assertProblem(t, s.do(t, http.MethodPatch, "/v1/customers/"+c.ID, k.Secret, map[string]any{"traits": map[string]any{"first_name": "Eve"}}, nil), http.StatusConflict)
		assertProblem(t, s.do(t, http.MethodPost, "/v1/customers/"+c.ID+"/consents", k.Secret, consentBody, nil), http.StatusConflict)

		cases := []struct {
			name     string
			consents []map[string]any
		}{
			{"NoConsent", nil},
			{"DeniedConsent", []map[string]any{{"message_channel": "email", "purpose": "marketing", "status": "denied"}}},
			{"GrantGivenBeforeErasure", []map[string]any{{"message_channel": "email", "purpose": "marketing", "status": "granted",
				"occurred_at": c.CreatedAt.Add(-1e9).Format("2006-01-02T15:04:05.999999999Z07:00")}}},
		}
		for _, tc := range cases {
			body := map[string]any{"identifiers": map[string]any{"email": strings.ToUpper(addr)}}
			if tc.consents != nil {
				body["consents"] = tc.consents
			}
			r := s.do(t, http.MethodPost, "/v1/customers", k.Secret, body, nil)
			p := assertProblem(t, r, http.StatusConflict)
			if len(p.Errors) == 0 || p.Errors[0].Location != "body.identifiers.email" {
				t.Errorf("%s: %s: want a field error at body.identifiers.email", tc.name, r)
			}
		}

		again := s.identify(t, k.Secret, http.StatusCreated, map[string]any{
			"identifiers": map[string]any{"email": addr},
			"consents":    []map[string]any{{"message_channel": "email", "purpose": "marketing", "status": "granted", "source": "web_signup"}},
		})
		if again.ID == c.ID || !again.Created || !slices.Equal(again.Identifiers.Emails, []string{addr}) {
			t.Errorf("re-created customer = %+v, want a new customer with %s", again, addr)
		}
		if len(again.Consents) != 1 || again.Consents[0].Status != "granted" {
			t.Errorf("consents = %+v", again.Consents)
		}
		// The tombstone is lifted: later requests need no consent.
		if got := s.identify(t, k.Secret, http.StatusOK, ids("email", addr)); got.ID != again.ID {
			t.Errorf("identify after re-creation resolved to %s, want %s", got.ID, again.ID)
		}
	})
}
