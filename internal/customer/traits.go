package customer

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Change is one field-level difference, for the audit log.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// standardTraits are the trait fields with their own columns, in display order.
var standardTraits = []string{"first_name", "last_name", "gender", "birthday", "locale", "home_location"}

// Flat returns the traits as field → value, attributes as "attributes.<key>".
// Absent traits are absent from the map.
func (t Traits) Flat() map[string]any {
	m := map[string]any{}
	for _, f := range standardTraits {
		if p := t.ptr(f); p != nil && *p != nil {
			m[f] = **p
		}
	}
	for k, v := range t.Attributes {
		m["attributes."+k] = v
	}
	return m
}

// TraitsFromFlat is the inverse of Flat.
func TraitsFromFlat(m map[string]any) Traits {
	var t Traits
	for f, v := range m {
		if key, ok := strings.CutPrefix(f, "attributes."); ok {
			if t.Attributes == nil {
				t.Attributes = map[string]any{}
			}
			t.Attributes[key] = v
			continue
		}
		if p := t.ptr(f); p != nil {
			if s, ok := v.(string); ok {
				*p = &s
			}
		}
	}
	return t
}

func (t *Traits) ptr(field string) **string {
	switch field {
	case "first_name":
		return &t.FirstName
	case "last_name":
		return &t.LastName
	case "gender":
		return &t.Gender
	case "birthday":
		return &t.Birthday
	case "locale":
		return &t.Locale
	case "home_location":
		return &t.HomeLocation
	}
	return nil
}

// TraitUpdate is one write of traits by a source at a time.
type TraitUpdate struct {
	Traits Traits
	Source string
	At     time.Time
	// Priority ranks Source (from the tenant settings).
	Priority func(source string) int
}

// ApplyTraits writes an update onto current traits. A value replaces the
// current one unless the current one was set by a higher-priority source; an
// empty string clears a standard trait and a JSON null clears an attribute.
// It returns the new traits, their sources and what changed.
func ApplyTraits(cur Traits, sources map[string]TraitSource, u TraitUpdate) (Traits, map[string]TraitSource, []Change) {
	flat := cur.Flat()
	next := cloneSources(sources)
	var changes []Change
	incoming := u.Traits.Flat()
	for _, f := range sortedKeys(incoming) {
		v := incoming[f]
		if old, ok := next[f]; ok && outranks(old, TraitSource{Source: u.Source, At: u.At}, u.Priority) {
			continue // set by a higher-priority source, or later by an equal one
		}
		before, had := flat[f]
		if isClear(v) {
			if had {
				delete(flat, f)
				changes = append(changes, Change{Field: f, Before: before, After: nil})
			}
			next[f] = TraitSource{Source: u.Source, At: u.At}
			continue
		}
		if had && sameValue(before, v) {
			continue
		}
		flat[f] = v
		next[f] = TraitSource{Source: u.Source, At: u.At}
		changes = append(changes, Change{Field: f, Before: nilIfAbsent(before, had), After: v})
	}
	return TraitsFromFlat(flat), next, changes
}

// MergeTraits combines the traits of customers being merged. For each field
// the value from the highest-priority source wins, then the newest.
func MergeTraits(all []*Customer, priority func(string) int) (Traits, map[string]TraitSource) {
	best := map[string]any{}
	srcs := map[string]TraitSource{}
	for _, c := range all {
		flat := c.Traits.Flat()
		for f, v := range flat {
			s := c.TraitSources[f]
			old, seen := srcs[f]
			if !seen || outranks(s, old, priority) {
				best[f], srcs[f] = v, s
			}
		}
	}
	return TraitsFromFlat(best), srcs
}

func outranks(a, b TraitSource, priority func(string) int) bool {
	pa, pb := priority(a.Source), priority(b.Source)
	if pa != pb {
		return pa > pb
	}
	return a.At.After(b.At)
}

// DiffTraits lists field changes from a to b.
func DiffTraits(a, b Traits) []Change {
	fa, fb := a.Flat(), b.Flat()
	var out []Change
	for _, f := range sortedKeys(union(fa, fb)) {
		va, ha := fa[f]
		vb, hb := fb[f]
		if ha && hb && sameValue(va, vb) || !ha && !hb {
			continue
		}
		out = append(out, Change{Field: f, Before: nilIfAbsent(va, ha), After: nilIfAbsent(vb, hb)})
	}
	return out
}

func isClear(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}

func sameValue(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func nilIfAbsent(v any, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func cloneSources(m map[string]TraitSource) map[string]TraitSource {
	out := make(map[string]TraitSource, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func union(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
