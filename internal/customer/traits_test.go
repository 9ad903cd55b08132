package customer

import (
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"
)

func sp(s string) *string { return &s }

// prio ranks sources as a tenant might: the POS is trusted over the web shop,
// which is trusted over an imported file; unknown sources rank lowest.
func prio(source string) int {
	return map[string]int{"pos": 30, "web": 20, "app": 20, "csv": 10}[source]
}

var (
	tr1 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tr2 = tr1.Add(time.Hour)
	tr3 = tr1.Add(2 * time.Hour)
)

func src(s string, at time.Time) TraitSource { return TraitSource{Source: s, At: at} }

func TestApplyTraits_Cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cur         Traits
		sources     map[string]TraitSource
		update      TraitUpdate
		want        Traits
		wantSources map[string]TraitSource
		wantChanges []Change
	}{
		{
			name:        "set on empty",
			update:      TraitUpdate{Traits: Traits{FirstName: sp("Ann")}, Source: "web", At: tr1},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: map[string]TraitSource{"first_name": src("web", tr1)},
			wantChanges: []Change{{Field: "first_name", Before: nil, After: "Ann"}},
		},
		{
			name:        "absent fields in the update leave current ones alone",
			cur:         Traits{FirstName: sp("Ann"), LastName: sp("Lee")},
			sources:     map[string]TraitSource{"first_name": src("web", tr1), "last_name": src("web", tr1)},
			update:      TraitUpdate{Traits: Traits{Locale: sp("zh-Hant-HK")}, Source: "csv", At: tr2},
			want:        Traits{FirstName: sp("Ann"), LastName: sp("Lee"), Locale: sp("zh-Hant-HK")},
			wantSources: map[string]TraitSource{"first_name": src("web", tr1), "last_name": src("web", tr1), "locale": src("csv", tr2)},
			wantChanges: []Change{{Field: "locale", Before: nil, After: "zh-Hant-HK"}},
		},
		{
			name:        "newer at equal priority wins",
			cur:         Traits{FirstName: sp("Ann")},
			sources:     map[string]TraitSource{"first_name": src("web", tr1)},
			update:      TraitUpdate{Traits: Traits{FirstName: sp("Anne")}, Source: "app", At: tr2},
			want:        Traits{FirstName: sp("Anne")},
			wantSources: map[string]TraitSource{"first_name": src("app", tr2)},
			wantChanges: []Change{{Field: "first_name", Before: "Ann", After: "Anne"}},
		},
		{
			name:        "same source overwrites itself",
			cur:         Traits{Gender: sp("f")},
			sources:     map[string]TraitSource{"gender": src("pos", tr1)},
			update:      TraitUpdate{Traits: Traits{Gender: sp("x")}, Source: "pos", At: tr2},
			want:        Traits{Gender: sp("x")},
			wantSources: map[string]TraitSource{"gender": src("pos", tr2)},
			wantChanges: []Change{{Field: "gender", Before: "f", After: "x"}},
		},
		{
			name:        "higher priority not overwritten by lower",
			cur:         Traits{FirstName: sp("Ann"), Birthday: sp("1990-04-01")},
			sources:     map[string]TraitSource{"first_name": src("pos", tr1), "birthday": src("pos", tr1)},
			update:      TraitUpdate{Traits: Traits{FirstName: sp("Anna"), Birthday: sp(""), LastName: sp("Lee")}, Source: "web", At: tr3},
			want:        Traits{FirstName: sp("Ann"), Birthday: sp("1990-04-01"), LastName: sp("Lee")},
			wantSources: map[string]TraitSource{"first_name": src("pos", tr1), "birthday": src("pos", tr1), "last_name": src("web", tr3)},
			wantChanges: []Change{{Field: "last_name", Before: nil, After: "Lee"}},
		},
		{
			name:        "lower priority overwritten by higher",
			cur:         Traits{HomeLocation: sp("HK-CWB")},
			sources:     map[string]TraitSource{"home_location": src("csv", tr2)},
			update:      TraitUpdate{Traits: Traits{HomeLocation: sp("HK-TST")}, Source: "pos", At: tr1},
			want:        Traits{HomeLocation: sp("HK-TST")},
			wantSources: map[string]TraitSource{"home_location": src("pos", tr1)},
			wantChanges: []Change{{Field: "home_location", Before: "HK-CWB", After: "HK-TST"}},
		},
		{
			name:        "empty string clears a standard trait",
			cur:         Traits{FirstName: sp("Ann"), LastName: sp("Lee")},
			sources:     map[string]TraitSource{"first_name": src("web", tr1), "last_name": src("web", tr1)},
			update:      TraitUpdate{Traits: Traits{LastName: sp("")}, Source: "web", At: tr2},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: map[string]TraitSource{"first_name": src("web", tr1), "last_name": src("web", tr2)},
			wantChanges: []Change{{Field: "last_name", Before: "Lee", After: nil}},
		},
		{
			name:        "nil clears an attribute",
			cur:         Traits{Attributes: map[string]any{"vip": true, "shoe_size": 38.0}},
			sources:     map[string]TraitSource{"attributes.vip": src("web", tr1), "attributes.shoe_size": src("web", tr1)},
			update:      TraitUpdate{Traits: Traits{Attributes: map[string]any{"vip": nil}}, Source: "web", At: tr2},
			want:        Traits{Attributes: map[string]any{"shoe_size": 38.0}},
			wantSources: map[string]TraitSource{"attributes.vip": src("web", tr2), "attributes.shoe_size": src("web", tr1)},
			wantChanges: []Change{{Field: "attributes.vip", Before: true, After: nil}},
		},
		{
			name:        "clearing the last attribute leaves no attributes",
			cur:         Traits{FirstName: sp("Ann"), Attributes: map[string]any{"vip": true}},
			update:      TraitUpdate{Traits: Traits{Attributes: map[string]any{"vip": nil}}, Source: "web", At: tr2},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: map[string]TraitSource{"attributes.vip": src("web", tr2)},
			wantChanges: []Change{{Field: "attributes.vip", Before: true, After: nil}},
		},
		{
			name:        "unchanged value yields no change",
			cur:         Traits{FirstName: sp("Ann")},
			sources:     map[string]TraitSource{"first_name": src("web", tr1)},
			update:      TraitUpdate{Traits: Traits{FirstName: sp("Ann")}, Source: "web", At: tr2},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: map[string]TraitSource{"first_name": src("web", tr1)},
		},
		{
			name:        "unchanged attribute, int against JSON float, yields no change",
			cur:         Traits{Attributes: map[string]any{"shoe_size": 38.0, "tags": []any{"a", "b"}}},
			update:      TraitUpdate{Traits: Traits{Attributes: map[string]any{"shoe_size": 38, "tags": []string{"a", "b"}}}, Source: "web", At: tr2},
			want:        Traits{Attributes: map[string]any{"shoe_size": 38.0, "tags": []any{"a", "b"}}},
			wantSources: map[string]TraitSource{},
		},
		{
			name:        "changed attribute",
			cur:         Traits{Attributes: map[string]any{"shoe_size": 38.0}},
			update:      TraitUpdate{Traits: Traits{Attributes: map[string]any{"shoe_size": 39.0, "vip": true}}, Source: "app", At: tr2},
			want:        Traits{Attributes: map[string]any{"shoe_size": 39.0, "vip": true}},
			wantSources: map[string]TraitSource{"attributes.shoe_size": src("app", tr2), "attributes.vip": src("app", tr2)},
			wantChanges: []Change{
				{Field: "attributes.shoe_size", Before: 38.0, After: 39.0},
				{Field: "attributes.vip", Before: nil, After: true},
			},
		},
		{
			name:        "clearing an absent trait changes nothing",
			cur:         Traits{FirstName: sp("Ann")},
			update:      TraitUpdate{Traits: Traits{LastName: sp(""), Attributes: map[string]any{"vip": nil}}, Source: "web", At: tr2},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: nil, // not checked: see the report on sources recorded for no-op clears
		},
		{
			name: "changes are sorted by field",
			update: TraitUpdate{Traits: Traits{
				FirstName: sp("Ann"), LastName: sp("Lee"), Gender: sp("f"), Birthday: sp("--04-01"),
				Locale: sp("en-HK"), HomeLocation: sp("HK-TST"), Attributes: map[string]any{"vip": true},
			}, Source: "pos", At: tr1},
			want: Traits{
				FirstName: sp("Ann"), LastName: sp("Lee"), Gender: sp("f"), Birthday: sp("--04-01"),
				Locale: sp("en-HK"), HomeLocation: sp("HK-TST"), Attributes: map[string]any{"vip": true},
			},
			wantSources: map[string]TraitSource{
				"first_name": src("pos", tr1), "last_name": src("pos", tr1), "gender": src("pos", tr1),
				"birthday": src("pos", tr1), "locale": src("pos", tr1), "home_location": src("pos", tr1),
				"attributes.vip": src("pos", tr1),
			},
			wantChanges: []Change{
				{Field: "attributes.vip", After: true},
				{Field: "birthday", After: "--04-01"},
				{Field: "first_name", After: "Ann"},
				{Field: "gender", After: "f"},
				{Field: "home_location", After: "HK-TST"},
				{Field: "last_name", After: "Lee"},
				{Field: "locale", After: "en-HK"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.update.Priority = prio
			before := maps.Clone(tt.sources)
			got, gotSources, changes := ApplyTraits(tt.cur, tt.sources, tt.update)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("traits = %s, want %s", showTraits(got), showTraits(tt.want))
			}
			if tt.wantSources != nil && !reflect.DeepEqual(gotSources, tt.wantSources) {
				t.Errorf("sources = %v, want %v", gotSources, tt.wantSources)
			}
			if len(changes) != 0 || len(tt.wantChanges) != 0 {
				if !reflect.DeepEqual(changes, tt.wantChanges) {
					t.Errorf("changes = %#v, want %#v", changes, tt.wantChanges)
				}
			}
			if !reflect.DeepEqual(tt.sources, before) {
				t.Errorf("ApplyTraits modified its sources argument: %v, was %v", tt.sources, before)
			}
		})
	}
}

// An update that arrives late (older At) from a source of the same priority
// must not overwrite a newer value: the rule MergeTraits applies and the
// TraitSource comment ("decides which later value may overwrite it") promise.
func TestApplyTraits_OlderAtEqualPriorityLoses(t *testing.T) {
	t.Parallel()
	cur := Traits{FirstName: sp("Anne")}
	sources := map[string]TraitSource{"first_name": src("web", tr2)}
	got, gotSources, changes := ApplyTraits(cur, sources, TraitUpdate{
		Traits: Traits{FirstName: sp("Ann")}, Source: "app", At: tr1, Priority: prio,
	})
	if *got.FirstName != "Anne" || gotSources["first_name"] != src("web", tr2) || len(changes) != 0 {
		t.Errorf("late update applied: first_name %q, source %v, changes %v", *got.FirstName, gotSources["first_name"], changes)
	}
}

func TestApplyTraits_DoesNotAliasInput(t *testing.T) {
	t.Parallel()
	cur := Traits{FirstName: sp("Ann"), Attributes: map[string]any{"vip": true}}
	got, _, _ := ApplyTraits(cur, nil, TraitUpdate{
		Traits: Traits{FirstName: sp("Bea"), Attributes: map[string]any{"vip": false, "new": 1.0}},
		Source: "web", At: tr1, Priority: prio,
	})
	if *cur.FirstName != "Ann" || cur.Attributes["vip"] != true || len(cur.Attributes) != 1 {
		t.Errorf("ApplyTraits modified its current traits: %s", showTraits(cur))
	}
	if *got.FirstName != "Bea" || got.Attributes["vip"] != false {
		t.Errorf("result = %s", showTraits(got))
	}
}

func TestMergeTraits_Cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		all         []*Customer
		want        Traits
		wantSources map[string]TraitSource
	}{
		{
			name: "no customers",
			want: Traits{}, wantSources: map[string]TraitSource{},
		},
		{
			name: "priority beats newer",
			all: []*Customer{
				{ID: "c1", Traits: Traits{FirstName: sp("Ann")}, TraitSources: map[string]TraitSource{"first_name": src("pos", tr1)}},
				{ID: "c2", Traits: Traits{FirstName: sp("Anna")}, TraitSources: map[string]TraitSource{"first_name": src("web", tr3)}},
			},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: map[string]TraitSource{"first_name": src("pos", tr1)},
		},
		{
			name: "priority beats newer, order reversed",
			all: []*Customer{
				{ID: "c2", Traits: Traits{FirstName: sp("Anna")}, TraitSources: map[string]TraitSource{"first_name": src("web", tr3)}},
				{ID: "c1", Traits: Traits{FirstName: sp("Ann")}, TraitSources: map[string]TraitSource{"first_name": src("pos", tr1)}},
			},
			want:        Traits{FirstName: sp("Ann")},
			wantSources: map[string]TraitSource{"first_name": src("pos", tr1)},
		},
		{
			name: "equal priority: newest wins",
			all: []*Customer{
				{ID: "c1", Traits: Traits{Locale: sp("en-HK")}, TraitSources: map[string]TraitSource{"locale": src("web", tr3)}},
				{ID: "c2", Traits: Traits{Locale: sp("zh-Hant-HK")}, TraitSources: map[string]TraitSource{"locale": src("app", tr2)}},
				{ID: "c3", Traits: Traits{Locale: sp("zh-Hans-CN")}, TraitSources: map[string]TraitSource{"locale": src("web", tr1)}},
			},
			want:        Traits{Locale: sp("en-HK")},
			wantSources: map[string]TraitSource{"locale": src("web", tr3)},
		},
		{
			name: "fields combined from several customers",
			all: []*Customer{
				{ID: "c1", Traits: Traits{FirstName: sp("Ann"), Attributes: map[string]any{"vip": true}},
					TraitSources: map[string]TraitSource{"first_name": src("web", tr1), "attributes.vip": src("csv", tr1)}},
				{ID: "c2", Traits: Traits{LastName: sp("Lee"), Attributes: map[string]any{"vip": false, "size": 38.0}},
					TraitSources: map[string]TraitSource{"last_name": src("pos", tr2), "attributes.vip": src("pos", tr1), "attributes.size": src("web", tr2)}},
			},
			want: Traits{FirstName: sp("Ann"), LastName: sp("Lee"), Attributes: map[string]any{"vip": false, "size": 38.0}},
			wantSources: map[string]TraitSource{
				"first_name": src("web", tr1), "last_name": src("pos", tr2),
				"attributes.vip": src("pos", tr1), "attributes.size": src("web", tr2),
			},
		},
		{
			name: "a value without a source loses to a sourced one",
			all: []*Customer{
				{ID: "c1", Traits: Traits{Gender: sp("f")}},
				{ID: "c2", Traits: Traits{Gender: sp("x")}, TraitSources: map[string]TraitSource{"gender": src("csv", tr1)}},
			},
			want:        Traits{Gender: sp("x")},
			wantSources: map[string]TraitSource{"gender": src("csv", tr1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, sources := MergeTraits(tt.all, prio)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("traits = %s, want %s", showTraits(got), showTraits(tt.want))
			}
			if !reflect.DeepEqual(sources, tt.wantSources) {
				t.Errorf("sources = %v, want %v", sources, tt.wantSources)
			}
		})
	}
}

func TestDiffTraits_Cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b Traits
		want []Change
	}{
		{name: "both empty"},
		{name: "equal", a: Traits{FirstName: sp("Ann"), Attributes: map[string]any{"n": 1}}, b: Traits{FirstName: sp("Ann"), Attributes: map[string]any{"n": 1.0}}},
		{name: "different pointers, same value", a: Traits{Locale: sp("en")}, b: Traits{Locale: sp("en")}},
		{
			name: "added, removed and changed, sorted",
			a:    Traits{FirstName: sp("Ann"), Gender: sp("f"), Attributes: map[string]any{"vip": true, "size": 38.0}},
			b:    Traits{FirstName: sp("Anne"), Locale: sp("en-HK"), Attributes: map[string]any{"size": 38.0, "tier": "gold"}},
			want: []Change{
				{Field: "attributes.tier", Before: nil, After: "gold"},
				{Field: "attributes.vip", Before: true, After: nil},
				{Field: "first_name", Before: "Ann", After: "Anne"},
				{Field: "gender", Before: "f", After: nil},
				{Field: "locale", Before: nil, After: "en-HK"},
			},
		},
		{
			name: "empty string is a value distinct from absent",
			a:    Traits{LastName: sp("")},
			b:    Traits{},
			want: []Change{{Field: "last_name", Before: "", After: nil}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := DiffTraits(tt.a, tt.b)
			if len(got) != 0 || len(tt.want) != 0 {
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("DiffTraits = %#v, want %#v", got, tt.want)
				}
			}
		})
	}
}

func TestTraits_FlatRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		traits   Traits
		wantFlat map[string]any
	}{
		{"empty", Traits{}, map[string]any{}},
		{
			"all standard traits",
			Traits{FirstName: sp("Ann"), LastName: sp("Lee"), Gender: sp("f"), Birthday: sp("1990-04-01"), Locale: sp("zh-Hant-HK"), HomeLocation: sp("HK-TST")},
			map[string]any{"first_name": "Ann", "last_name": "Lee", "gender": "f", "birthday": "1990-04-01", "locale": "zh-Hant-HK", "home_location": "HK-TST"},
		},
		{
			"attributes including nil and nested values",
			Traits{Birthday: sp("--04-01"), Attributes: map[string]any{"vip": true, "size": 38.0, "nil": nil, "tags": []any{"a"}, "addr": map[string]any{"city": "HK"}, "a.b": "dot"}},
			map[string]any{"birthday": "--04-01", "attributes.vip": true, "attributes.size": 38.0, "attributes.nil": nil, "attributes.tags": []any{"a"}, "attributes.addr": map[string]any{"city": "HK"}, "attributes.a.b": "dot"},
		},
		{"empty string kept", Traits{FirstName: sp("")}, map[string]any{"first_name": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flat := tt.traits.Flat()
			if !reflect.DeepEqual(flat, tt.wantFlat) {
				t.Errorf("Flat() = %v, want %v", flat, tt.wantFlat)
			}
			if back := TraitsFromFlat(flat); !reflect.DeepEqual(back, tt.traits) {
				t.Errorf("TraitsFromFlat(Flat()) = %s, want %s", showTraits(back), showTraits(tt.traits))
			}
			if again := TraitsFromFlat(flat).Flat(); !reflect.DeepEqual(again, flat) {
				t.Errorf("Flat(TraitsFromFlat(m)) = %v, want %v", again, flat)
			}
		})
	}
}

func TestTraitsFromFlat_DropsWhatTraitsCannotHold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]any
		want Traits
	}{
		{"nil map", nil, Traits{}},
		{"unknown field", map[string]any{"nickname": "A"}, Traits{}},
		{"non-string standard trait", map[string]any{"first_name": 5, "gender": nil}, Traits{}},
		{"empty attributes map becomes nil", Traits{Attributes: map[string]any{}}.Flat(), Traits{}},
		{"attribute with empty key", map[string]any{"attributes.": 1}, Traits{Attributes: map[string]any{"": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := TraitsFromFlat(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TraitsFromFlat(%v) = %s, want %s", tt.in, showTraits(got), showTraits(tt.want))
			}
		})
	}
}

// showTraits prints pointer fields by value for readable failures.
func showTraits(t Traits) string {
	return fmt.Sprintf("%v (attributes nil: %v)", t.Flat(), t.Attributes == nil)
}
