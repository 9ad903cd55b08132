package customer

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

func TestIdentifier_External(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		id        Identifier
		wantExt   string
		wantIsExt bool
		wantClass string
	}{
		{"email", Identifier{Type: TypeEmail, Value: "a@b.hk"}, "", false, "email"},
		{"phone", Identifier{Type: TypePhone, Value: "+85291234567"}, "", false, "phone"},
		{"card", Identifier{Type: TypeCardNumber, Value: "88001"}, "", false, "card_number"},
		{"external pos", External("pos", "C-1029"), "pos", true, "external"},
		{"external line", External("line_user_id", "U1"), "line_user_id", true, "external"},
		{"bare prefix is not external", Identifier{Type: "ext:", Value: "x"}, "", false, "ext:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ext, ok := tt.id.IsExternal()
			if ext != tt.wantExt || ok != tt.wantIsExt {
				t.Errorf("%+v.IsExternal() = %q, %v; want %q, %v", tt.id, ext, ok, tt.wantExt, tt.wantIsExt)
			}
			if got := tt.id.LimitClass(); got != tt.wantClass {
				t.Errorf("%+v.LimitClass() = %q, want %q", tt.id, got, tt.wantClass)
			}
		})
	}
}

func TestCustomer_Live(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Customer
		want bool
	}{
		{"survivor is itself", Customer{ID: "c1", SurvivorID: "c1"}, true},
		{"merged away", Customer{ID: "c2", MergedInto: "c1", SurvivorID: "c1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.Live(); got != tt.want {
				t.Errorf("Live() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIdentifierInput_Empty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   IdentifierInput
		want bool
	}{
		{"zero", IdentifierInput{}, true},
		{"empty external slice", IdentifierInput{External: []ExternalID{}}, true},
		{"email", IdentifierInput{Email: "a@b.hk"}, false},
		{"phone", IdentifierInput{Phone: "9123 4567"}, false},
		{"card", IdentifierInput{CardNumber: "1"}, false},
		{"external", IdentifierInput{External: []ExternalID{{Type: "pos", Value: "1"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.Empty(); got != tt.want {
				t.Errorf("%+v.Empty() = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeIdentifiers_Valid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          IdentifierInput
		country     string
		wantClaims  []Claim
		wantIgnored []Ignored
	}{
		{
			name: "nothing",
			in:   IdentifierInput{},
		},
		{
			name:    "all types normalised",
			country: "HK",
			in: IdentifierInput{
				Email:      " Ann.Lee@Gmail.com ",
				Phone:      "9123 4567",
				CardNumber: " 8801234567 ",
				External:   []ExternalID{{Type: "POS", Value: " C-1029 "}, {Type: "line_user_id", Value: "U4af4980629"}},
			},
			wantClaims: []Claim{
				{Identifier{TypeEmail, "ann.lee@gmail.com"}, "body.identifiers.email"},
				{Identifier{TypePhone, "+85291234567"}, "body.identifiers.phone"},
				{Identifier{TypeCardNumber, "8801234567"}, "body.identifiers.card_number"},
				{External("pos", "C-1029"), "body.identifiers.external[0].value"},
				{External("line_user_id", "U4af4980629"), "body.identifiers.external[1].value"},
			},
		},
		{
			name:       "phone read in the default country",
			country:    "SG",
			in:         IdentifierInput{Phone: "9123 4567"},
			wantClaims: []Claim{{Identifier{TypePhone, "+6591234567"}, "body.identifiers.phone"}},
		},
		{
			name:    "junk reported as ignored, the rest kept",
			country: "HK",
			in: IdentifierInput{
				Email:      "test@test.com",
				Phone:      "88888888",
				CardNumber: "0000",
				External:   []ExternalID{{Type: "pos", Value: "n/a"}, {Type: "web", Value: "W-7"}},
			},
			wantClaims: []Claim{{External("web", "W-7"), "body.identifiers.external[1].value"}},
			wantIgnored: []Ignored{
				{Field: "body.identifiers.email", Value: "test@test.com", Reason: "junk"},
				{Field: "body.identifiers.phone", Value: "88888888", Reason: "junk"},
				{Field: "body.identifiers.card_number", Value: "0000", Reason: "junk"},
				{Field: "body.identifiers.external[0].value", Value: "n/a", Reason: "junk"},
			},
		},
		{
			name:    "duplicate external ids removed, first kept",
			country: "HK",
			in: IdentifierInput{External: []ExternalID{
				{Type: "pos", Value: "C-1"},
				{Type: "POS", Value: " C-1"},
				{Type: "web", Value: "C-1"},
				{Type: "pos", Value: "C-1 "},
			}},
			wantClaims: []Claim{
				{External("pos", "C-1"), "body.identifiers.external[0].value"},
				{External("web", "C-1"), "body.identifiers.external[2].value"},
			},
		},
		{
			name:    "same value in card and external are distinct identifiers",
			country: "HK",
			in:      IdentifierInput{CardNumber: "C-1", External: []ExternalID{{Type: "pos", Value: "C-1"}}},
			wantClaims: []Claim{
				{Identifier{TypeCardNumber, "C-1"}, "body.identifiers.card_number"},
				{External("pos", "C-1"), "body.identifiers.external[0].value"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims, ignored, err := NormalizeIdentifiers(tt.in, tt.country)
			if err != nil {
				t.Fatalf("NormalizeIdentifiers error = %v, want nil", err)
			}
			if len(claims) != 0 || len(tt.wantClaims) != 0 {
				if !reflect.DeepEqual(claims, tt.wantClaims) {
					t.Errorf("claims =\n%+v\nwant\n%+v", claims, tt.wantClaims)
				}
			}
			if len(ignored) != len(tt.wantIgnored) {
				t.Fatalf("ignored = %+v, want %+v", ignored, tt.wantIgnored)
			}
			for i, ig := range ignored {
				want := tt.wantIgnored[i]
				if ig.Field != want.Field || ig.Value != want.Value || ig.Reason != want.Reason || ig.Detail == "" {
					t.Errorf("ignored[%d] = %+v, want %+v with a detail", i, ig, want)
				}
			}
		})
	}
}

func TestNormalizeIdentifiers_Malformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         IdentifierInput
		wantFields []apperr.FieldError // Message is only checked to be non-empty
	}{
		{
			name:       "bad email",
			in:         IdentifierInput{Email: "ann.gmail.com", Phone: "9123 4567"},
			wantFields: []apperr.FieldError{{Location: "body.identifiers.email", Value: "ann.gmail.com"}},
		},
		{
			name:       "bad phone",
			in:         IdentifierInput{Phone: "call me"},
			wantFields: []apperr.FieldError{{Location: "body.identifiers.phone", Value: "call me"}},
		},
		{
			name:       "bad card",
			in:         IdentifierInput{CardNumber: "88\n01"},
			wantFields: []apperr.FieldError{{Location: "body.identifiers.card_number", Value: "88\n01"}},
		},
		{
			name: "bad external type",
			in: IdentifierInput{External: []ExternalID{
				{Type: "pos", Value: "C-1"},
				{Type: "line user", Value: "U1"},
			}},
			wantFields: []apperr.FieldError{{Location: "body.identifiers.external[1].type", Value: "line user"}},
		},
		{
			name: "bad external value",
			in: IdentifierInput{External: []ExternalID{
				{Type: "pos", Value: "C-1"},
				{Type: "web", Value: "   "},
			}},
			wantFields: []apperr.FieldError{{Location: "body.identifiers.external[1].value", Value: "   "}},
		},
		{
			name: "bad type hides the value check",
			in: IdentifierInput{External: []ExternalID{
				{Type: "", Value: "\x00"},
			}},
			wantFields: []apperr.FieldError{{Location: "body.identifiers.external[0].type", Value: ""}},
		},
		{
			name: "every bad field reported, junk does not hide errors",
			in: IdentifierInput{
				Email:      "not-an-email",
				Phone:      "abc",
				CardNumber: "\x01",
				External: []ExternalID{
					{Type: "pos", Value: "n/a"},
					{Type: "bad type", Value: "z"},
					{Type: "web", Value: "\t"},
				},
			},
			wantFields: []apperr.FieldError{
				{Location: "body.identifiers.email", Value: "not-an-email"},
				{Location: "body.identifiers.phone", Value: "abc"},
				{Location: "body.identifiers.card_number", Value: "\x01"},
				{Location: "body.identifiers.external[1].type", Value: "bad type"},
				{Location: "body.identifiers.external[2].value", Value: "\t"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims, ignored, err := NormalizeIdentifiers(tt.in, "HK")
			if claims != nil || ignored != nil {
				t.Errorf("claims, ignored = %+v, %+v; want nil with an error", claims, ignored)
			}
			var e *apperr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v (%T), want *apperr.Error", err, err)
			}
			if e.Kind != apperr.Invalid || !apperr.Is(err, apperr.Invalid) {
				t.Errorf("kind = %q, want %q", e.Kind, apperr.Invalid)
			}
			if len(e.Fields) != len(tt.wantFields) {
				t.Fatalf("fields = %+v, want %+v", e.Fields, tt.wantFields)
			}
			for i, f := range e.Fields {
				w := tt.wantFields[i]
				if f.Location != w.Location || f.Value != w.Value || f.Message == "" {
					t.Errorf("fields[%d] = %+v, want location %q value %q and a message", i, f, w.Location, w.Value)
				}
			}
		})
	}
}

// Helpers that build matches and owners for PlanIdentify tables.
var (
	t0     = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	email  = func(v string) Identifier { return Identifier{Type: TypeEmail, Value: v} }
	phone  = func(v string) Identifier { return Identifier{Type: TypePhone, Value: v} }
	card   = func(v string) Identifier { return Identifier{Type: TypeCardNumber, Value: v} }
	extPOS = func(v string) Identifier { return External("pos", v) }
)

func fieldOf(id Identifier) string {
	if ext, ok := id.IsExternal(); ok {
		return "body.identifiers.external." + ext
	}
	return "body.identifiers." + id.Type
}

func match(id Identifier, owner string) Match {
	return Match{Claim: Claim{Identifier: id, Field: fieldOf(id)}, OwnerID: owner}
}

func owner(id string, ageDays int, counts map[string]int) Owner {
	return Owner{ID: id, CreatedAt: t0.AddDate(0, 0, ageDays), Counts: counts}
}

func ownerMap(os ...Owner) map[string]Owner {
	m := map[string]Owner{}
	for _, o := range os {
		m[o.ID] = o
	}
	return m
}

// limits returns a limit function from a map; absent classes are unlimited.
func limits(m map[string]int) func(string) int {
	return func(class string) int {
		if n, ok := m[class]; ok {
			return n
		}
		return 1 << 30
	}
}

type wantIgnored struct {
	Value, Reason string
}

func checkPlan(t *testing.T, got Plan, wantTarget string, wantMerge []string, wantLinkers map[string][]Identifier, wantAttach []Identifier, wantIgn []wantIgnored) {
	t.Helper()
	if got.TargetID != wantTarget {
		t.Errorf("TargetID = %q, want %q", got.TargetID, wantTarget)
	}
	if !slices.Equal(got.MergeIDs, wantMerge) {
		t.Errorf("MergeIDs = %v, want %v", got.MergeIDs, wantMerge)
	}
	if len(got.Linkers) != len(wantLinkers) {
		t.Errorf("Linkers = %v, want %v", got.Linkers, wantLinkers)
	}
	for id, want := range wantLinkers {
		if !slices.Equal(got.Linkers[id], want) {
			t.Errorf("Linkers[%s] = %v, want %v", id, got.Linkers[id], want)
		}
	}
	if !slices.Equal(got.Attach, wantAttach) {
		t.Errorf("Attach = %v, want %v", got.Attach, wantAttach)
	}
	var ign []wantIgnored
	for _, ig := range got.Ignored {
		if ig.Detail == "" || ig.Field == "" {
			t.Errorf("ignored %+v has no field or detail", ig)
		}
		ign = append(ign, wantIgnored{ig.Value, ig.Reason})
	}
	if !slices.Equal(ign, wantIgn) {
		t.Errorf("Ignored = %+v, want %+v", got.Ignored, wantIgn)
	}
}

func TestPlanIdentify_Cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		matches     []Match
		owners      map[string]Owner
		limits      map[string]int
		wantTarget  string
		wantMerge   []string
		wantLinkers map[string][]Identifier
		wantAttach  []Identifier
		wantIgnored []wantIgnored
	}{
		{
			name: "no matches: create with nothing",
		},
		{
			name:       "no owners: create and attach all",
			matches:    []Match{match(email("a@x.hk"), ""), match(phone("+85291234567"), ""), match(extPOS("C-1"), "")},
			wantTarget: "",
			wantAttach: []Identifier{email("a@x.hk"), phone("+85291234567"), extPOS("C-1")},
		},
		{
			name:       "one owner: target, unowned attached",
			matches:    []Match{match(email("a@x.hk"), "c1"), match(phone("+85291234567"), "")},
			owners:     ownerMap(owner("c1", 0, map[string]int{"email": 1})),
			wantTarget: "c1",
			wantAttach: []Identifier{phone("+85291234567")},
		},
		{
			name:       "one owner matched twice",
			matches:    []Match{match(email("a@x.hk"), "c1"), match(card("88"), "c1")},
			owners:     ownerMap(owner("c1", 0, map[string]int{"email": 1, "card_number": 1})),
			wantTarget: "c1",
		},
		{
			name:        "two owners: oldest survives regardless of match order",
			matches:     []Match{match(email("a@x.hk"), "new"), match(phone("+85291234567"), "old")},
			owners:      ownerMap(owner("new", 10, map[string]int{"email": 1}), owner("old", 1, map[string]int{"phone": 1})),
			wantTarget:  "old",
			wantMerge:   []string{"new"},
			wantLinkers: map[string][]Identifier{"new": {email("a@x.hk"), phone("+85291234567")}},
		},
		{
			name: "three owners: merge oldest first, linkers are both sides of each merge",
			matches: []Match{
				match(extPOS("C-3"), "c3"),
				match(email("a@x.hk"), "c2"),
				match(phone("+85291234567"), "c1"),
				match(card("88"), "c3"),
				match(extPOS("C-9"), ""),
			},
			owners: ownerMap(
				owner("c3", 30, map[string]int{"external": 1, "card_number": 1}),
				owner("c1", 1, map[string]int{"phone": 1, "email": 1}),
				owner("c2", 20, map[string]int{"email": 1}),
			),
			wantTarget:  "c1",
			wantMerge:   []string{"c2", "c3"},
			wantLinkers: map[string][]Identifier{"c2": {email("a@x.hk"), phone("+85291234567")}, "c3": {extPOS("C-3"), phone("+85291234567"), card("88")}},
			wantAttach:  []Identifier{extPOS("C-9")},
		},
		{
			name:        "same creation time: lower id survives",
			matches:     []Match{match(email("a@x.hk"), "cb"), match(phone("+85291234567"), "ca")},
			owners:      ownerMap(owner("cb", 5, nil), owner("ca", 5, nil)),
			wantTarget:  "ca",
			wantMerge:   []string{"cb"},
			wantLinkers: map[string][]Identifier{"cb": {email("a@x.hk"), phone("+85291234567")}},
		},
		{
			name:        "merge exactly at the limit is allowed",
			matches:     []Match{match(email("a@x.hk"), "c2"), match(phone("+85291234567"), "c1")},
			owners:      ownerMap(owner("c1", 1, map[string]int{"email": 2, "phone": 1}), owner("c2", 2, map[string]int{"email": 1})),
			limits:      map[string]int{"email": 3},
			wantTarget:  "c1",
			wantMerge:   []string{"c2"},
			wantLinkers: map[string][]Identifier{"c2": {email("a@x.hk"), phone("+85291234567")}},
		},
		{
			name:       "merge over limit: card beats email, older owner ignored",
			matches:    []Match{match(email("a@x.hk"), "old"), match(card("88"), "new")},
			owners:     ownerMap(owner("old", 1, map[string]int{"email": 1}), owner("new", 9, map[string]int{"email": 1, "card_number": 1})),
			limits:     map[string]int{"email": 1},
			wantTarget: "new",
			wantIgnored: []wantIgnored{
				{"a@x.hk", "merge_blocked"},
			},
		},
		{
			name:       "merge over limit: external beats email",
			matches:    []Match{match(email("a@x.hk"), "c1"), match(extPOS("C-1"), "c2")},
			owners:     ownerMap(owner("c1", 1, map[string]int{"external": 2}), owner("c2", 2, map[string]int{"external": 2})),
			limits:     map[string]int{"external": 3},
			wantTarget: "c2",
			wantIgnored: []wantIgnored{
				{"a@x.hk", "merge_blocked"},
			},
		},
		{
			name:       "merge over limit: email beats phone",
			matches:    []Match{match(phone("+85291234567"), "c1"), match(email("a@x.hk"), "c2")},
			owners:     ownerMap(owner("c1", 1, map[string]int{"phone": 1}), owner("c2", 2, map[string]int{"phone": 1})),
			limits:     map[string]int{"phone": 1},
			wantTarget: "c2",
			wantIgnored: []wantIgnored{
				{"+85291234567", "merge_blocked"},
			},
		},
		{
			name:       "merge over limit: card beats external",
			matches:    []Match{match(extPOS("C-1"), "c1"), match(card("88"), "c2")},
			owners:     ownerMap(owner("c1", 1, map[string]int{"card_number": 1}), owner("c2", 2, map[string]int{"card_number": 1})),
			limits:     map[string]int{"card_number": 1},
			wantTarget: "c2",
			wantIgnored: []wantIgnored{
				{"C-1", "merge_blocked"},
			},
		},
		{
			name: "merge over limit with three owners: all other claims blocked, unowned attached to target",
			matches: []Match{
				match(phone("+85291234567"), "c1"),
				match(card("88"), "c3"),
				match(email("a@x.hk"), "c2"),
				match(extPOS("C-9"), ""),
				match(email("b@x.hk"), "c2"),
			},
			owners: ownerMap(
				owner("c1", 1, map[string]int{"phone": 1, "external": 1}),
				owner("c2", 2, map[string]int{"email": 2}),
				owner("c3", 3, map[string]int{"card_number": 1, "external": 1}),
			),
			limits:     map[string]int{"external": 1},
			wantTarget: "c3",
			wantAttach: nil, // c3 already holds its one external id
			wantIgnored: []wantIgnored{
				{"+85291234567", "merge_blocked"},
				{"a@x.hk", "merge_blocked"},
				{"b@x.hk", "merge_blocked"},
				{"C-9", "limit_reached"},
			},
		},
		{
			name:       "blocked merge attaches unowned within the target's own counts",
			matches:    []Match{match(card("88"), "c2"), match(email("a@x.hk"), "c1"), match(phone("+85291234567"), "")},
			owners:     ownerMap(owner("c1", 1, map[string]int{"email": 1}), owner("c2", 2, map[string]int{"email": 1, "card_number": 1})),
			limits:     map[string]int{"email": 1, "phone": 1},
			wantTarget: "c2",
			wantAttach: []Identifier{phone("+85291234567")},
			wantIgnored: []wantIgnored{
				{"a@x.hk", "merge_blocked"},
			},
		},
		{
			name:       "attach beyond limit on an existing customer",
			matches:    []Match{match(email("a@x.hk"), "c1"), match(email("b@x.hk"), ""), match(email("c@x.hk"), ""), match(phone("+85291234567"), "")},
			owners:     ownerMap(owner("c1", 1, map[string]int{"email": 2})),
			limits:     map[string]int{"email": 3},
			wantTarget: "c1",
			wantAttach: []Identifier{email("b@x.hk"), phone("+85291234567")},
			wantIgnored: []wantIgnored{
				{"c@x.hk", "limit_reached"},
			},
		},
		{
			name:       "attach beyond limit on a new customer",
			matches:    []Match{match(extPOS("A"), ""), match(External("web", "B"), ""), match(External("app", "C"), "")},
			limits:     map[string]int{"external": 2},
			wantAttach: []Identifier{extPOS("A"), External("web", "B")},
			wantIgnored: []wantIgnored{
				{"C", "limit_reached"},
			},
		},
		{
			name:        "attach limit counts the merged customers' identifiers",
			matches:     []Match{match(email("a@x.hk"), "c1"), match(phone("+85291234567"), "c2"), match(phone("+85261234567"), "")},
			owners:      ownerMap(owner("c1", 1, map[string]int{"email": 1, "phone": 1}), owner("c2", 2, map[string]int{"phone": 1})),
			limits:      map[string]int{"phone": 2},
			wantTarget:  "c1",
			wantMerge:   []string{"c2"},
			wantLinkers: map[string][]Identifier{"c2": {email("a@x.hk"), phone("+85291234567")}},
			wantIgnored: []wantIgnored{
				{"+85261234567", "limit_reached"},
			},
		},
		{
			name:       "limit of zero attaches nothing of that class",
			matches:    []Match{match(card("88"), ""), match(email("a@x.hk"), "")},
			limits:     map[string]int{"card_number": 0},
			wantAttach: []Identifier{email("a@x.hk")},
			wantIgnored: []wantIgnored{
				{"88", "limit_reached"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := PlanIdentify(tt.matches, tt.owners, limits(tt.limits))
			checkPlan(t, got, tt.wantTarget, tt.wantMerge, tt.wantLinkers, tt.wantAttach, tt.wantIgnored)
		})
	}
}

// The survivor and the merge order must not depend on the order in which the
// store returned the matches.
func TestPlanIdentify_OrderIndependent(t *testing.T) {
	t.Parallel()
	owners := ownerMap(
		owner("c1", 1, map[string]int{"email": 1}),
		owner("c2", 2, map[string]int{"phone": 1}),
		owner("c3", 3, map[string]int{"card_number": 1}),
		owner("c4", 3, map[string]int{"external": 1}),
	)
	base := []Match{
		match(email("a@x.hk"), "c1"),
		match(phone("+85291234567"), "c2"),
		match(card("88"), "c3"),
		match(extPOS("C-1"), "c4"),
	}
	for i, perm := range permutations(base) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			got := PlanIdentify(perm, owners, limits(nil))
			if got.TargetID != "c1" || !slices.Equal(got.MergeIDs, []string{"c2", "c3", "c4"}) {
				t.Errorf("matches %v: target %q merge %v, want c1 [c2 c3 c4]", perm, got.TargetID, got.MergeIDs)
			}
			blocked := PlanIdentify(perm, owners, limits(map[string]int{"email": 0}))
			if blocked.TargetID != "c3" || len(blocked.MergeIDs) != 0 || len(blocked.Ignored) != 3 {
				t.Errorf("matches %v blocked: target %q merge %v ignored %d, want c3 [] 3", perm, blocked.TargetID, blocked.MergeIDs, len(blocked.Ignored))
			}
		})
	}
}

func permutations[T any](s []T) [][]T {
	if len(s) <= 1 {
		return [][]T{slices.Clone(s)}
	}
	var out [][]T
	for i := range s {
		rest := append(slices.Clone(s[:i]), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]T{s[i]}, p...))
		}
	}
	return out
}
