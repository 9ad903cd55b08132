package catalog

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIndexTokens(t *testing.T) {
	t.Parallel()
	got := IndexTokens([]string{"Café Linen SHIRT", "連衣裙", "ＴＳ恤"}, "TS-001-RED", "0036000291452")
	for _, want := range []string{"cafe", "linen", "shirt", "連", "衣", "裙", "連衣", "衣裙", "连", "连衣", "ts", "恤",
		"001", "red", "ts001red", "0036000291452", "00036000291452"} {
		if !slices.Contains(got, want) {
			t.Errorf("no token %q in %q", want, got)
		}
	}
	if slices.Contains(got, "連衣裙") || slices.Contains(got, "Café") {
		t.Errorf("unexpected token in %q", got)
	}
	seen := map[string]bool{}
	for _, tok := range got {
		if seen[tok] {
			t.Errorf("token %q twice", tok)
		}
		seen[tok] = true
	}
}

func TestSimplified(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"亞麻襯衫", "亚麻衬衫"}, {"头发", "头发"}, {"頭髮", "头发"}, {"連衣裙", "连衣裙"},
		{"T恤", "T恤"}, {"linen", "linen"}, {"ワンピース", "ワンピース"}, {"", ""},
	}
	for _, tc := range cases {
		if got := Simplified(tc.in); got != tc.want {
			t.Errorf("Simplified(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q    string
		want [][]Term
	}{
		{"", nil},
		{"  !!! ", nil},
		{"Linen shirt", [][]Term{{{"linen", true}, {"shirt", true}}}},
		{"a bag", [][]Term{{{"a", false}, {"bag", true}}}},
		{"連衣裙", [][]Term{{{"連衣", false}, {"衣裙", false}}, {{"连衣", false}, {"衣裙", false}}}},
		{"连衣裙", [][]Term{{{"连衣", false}, {"衣裙", false}}}},
		{"裙", [][]Term{{{"裙", false}}}},
		{"襯", [][]Term{{{"襯", false}}, {{"衬", false}}}},
		{"白色 T恤", [][]Term{{{"白色", false}, {"t", false}, {"恤", false}}}},
		{"TS-001", [][]Term{{{"ts", true}, {"001", true}}, {{"ts001", true}}}},
		{"4006381333931", [][]Term{{{"4006381333931", true}}, {{"04006381333931", false}}}},
		{"ｂａｇ", [][]Term{{{"bag", true}}}},
	}
	for _, tc := range cases {
		got, err := ParseQuery(tc.q)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", tc.q, err)
		}
		if !reflect.DeepEqual(got.Groups, tc.want) {
			t.Errorf("ParseQuery(%q) = %v, want %v", tc.q, got.Groups, tc.want)
		}
	}
	if _, err := ParseQuery(strings.Repeat("x", MaxQueryBytes+1)); err == nil {
		t.Error("an over-long query was accepted")
	}
	if _, err := ParseQuery(strings.Repeat("ab ", MaxQueryTerms+1)); err != nil {
		t.Errorf("repeated words count once: %v", err)
	}
	if _, err := ParseQuery("a b c d e f g h i j k l m n o p q"); err == nil {
		t.Error("17 distinct words accepted")
	}
}

// matches says whether a document with tokens is found by q, as the
// storage's text index answers it.
func matches(q TextQuery, tokens []string) bool {
	for _, g := range q.Groups {
		all := true
		for _, term := range g {
			found := slices.ContainsFunc(tokens, func(tok string) bool {
				return tok == term.Token || term.Prefix && strings.HasPrefix(tok, term.Token)
			})
			all = all && found
		}
		if all {
			return true
		}
	}
	return false
}

func TestSearch_FindsWhatPeopleType(t *testing.T) {
	t.Parallel()
	doc := IndexTokens([]string{"WHITE HANGING HEART T-LIGHT HOLDER", "白色心形燭台", "白色心形烛台"}, "85123A", "5012345678900")
	for _, q := range []string{"heart", "hearts holder", "white heart", "t-light", "HANG", "心形", "燭台", "烛台", "白色心形", "85123",
		"85123a", "5012345678900", "心"} {
		parsed, err := ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if q == "hearts holder" {
			if matches(parsed, doc) {
				t.Errorf("%q matched: prefixes are of the typed word, not stems", q)
			}
			continue
		}
		if !matches(parsed, doc) {
			t.Errorf("%q does not find the product (terms %v)", q, parsed.Groups)
		}
	}
	for _, q := range []string{"red heart", "心臟", "85124", "holders"} {
		parsed, _ := ParseQuery(q)
		if matches(parsed, doc) {
			t.Errorf("%q found the product", q)
		}
	}
}

func TestParseSearch(t *testing.T) {
	t.Parallel()
	v, _ := url.ParseQuery("q=linen&category=tops&attr.color=Red&attr.color=blue&attr.size=M&facets=category,color,,color&status=any&limit=5")
	s, err := ParseSearch(v)
	if err != nil {
		t.Fatal(err)
	}
	if s.Category != "tops" || s.Status != StatusAny || !slices.Equal(s.Facets, []string{"category", "color"}) ||
		!reflect.DeepEqual(s.Attributes, map[string][]string{"color": {"red", "blue"}, "size": {"m"}}) || s.Text.Empty() {
		t.Fatalf("parsed: %+v", s)
	}
	v, _ = url.ParseQuery("category=no%20space&attr.Color=red&facets=Bad-Name&status=gone&q=" + strings.Repeat("x", 300))
	_, err = ParseSearch(v)
	got := locations(err)
	for _, want := range []string{"query.category", "query.attr.Color", "query.facets", "query.status", "query.q"} {
		if !slices.Contains(got, want) {
			t.Errorf("no error at %s: %v", want, got)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"linen shirt", "連衣裙", "TS-001", "4006381333931", "ｂａｇ", "", "\xff", "a\u0301b", "🎁 gift"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := ParseQuery(q)
		if err != nil {
			return
		}
		for _, g := range parsed.Groups {
			if len(g) == 0 {
				t.Fatalf("%q: an empty group matches everything", q)
			}
			for _, term := range g {
				if term.Token == "" || len(term.Token) > maxTokenBytes || !utf8.ValidString(term.Token) ||
					strings.ContainsAny(term.Token, " \"'*:&|!()\\") {
					t.Fatalf("%q: bad term %q", q, term.Token)
				}
			}
		}
		// What a query finds in a document made of its own text is never
		// nothing: the index and the query tokenise alike.
		if !parsed.Empty() && !matches(parsed, IndexTokens([]string{q}, "", "")) && !matches(parsed, IndexTokens(nil, q, "")) {
			t.Fatalf("%q does not find its own text (terms %v)", q, parsed.Groups)
		}
	})
}

func FuzzParseSearch(f *testing.F) {
	f.Add("q=linen&category=tops&attr.color=red&facets=category,color")
	f.Add("attr.=x&facets=,,&status=")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s, err := ParseSearch(v)
		if err != nil {
			return
		}
		if s.Category != "" && !ValidCode(s.Category) {
			t.Fatalf("category %q accepted", s.Category)
		}
		for name, vals := range s.Attributes {
			if !ValidAttributeName(name) || len(vals) == 0 || len(vals) > MaxFilterValues {
				t.Fatalf("attribute filter %q %v accepted", name, vals)
			}
		}
	})
}

// TestFold_Concurrent: Fold is called from every request at once.
func TestFold_Concurrent(t *testing.T) {
	t.Parallel()
	done := make(chan bool)
	for range 8 {
		go func() {
			for range 500 {
				if got := Fold("Ｃafé 連衣裙"); got != "cafe 連衣裙" {
					t.Errorf("Fold = %q", got)
				}
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}
