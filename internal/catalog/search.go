package catalog

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search tokens are what the text index holds for a variant and what a
// search looks for. One function makes both, so an index and its queries
// always agree:
//
//   - Text is folded: full-width forms to ASCII (NFKC), accents dropped
//     ("café" is "cafe"), lower case.
//   - Letters and digits of alphabetic scripts make words ("linen", "85123a").
//   - Chinese, Japanese and Korean are written without spaces, so a run of
//     those characters becomes its character bigrams and single characters:
//     "連衣裙" is 連衣, 衣裙, 連, 衣, 裙. A two-character search word then
//     matches wherever it appears, and a longer one matches through all its
//     bigrams, with no dictionary to keep.
//   - A SKU or barcode also gives its letters and digits run together
//     ("TS-001-RED" is ts001red), so a code typed with or without its
//     punctuation finds it; a valid barcode also gives its GTIN-14 form.

// maxTokenBytes cuts a very long word (an unspaced Thai sentence, a URL).
const maxTokenBytes = 64

// folders are transform chains for Fold: a chain keeps state between
// calls, so each call takes one of its own.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// Fold is the form text is compared in: NFKC width folding, no accents,
// lower case.
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s) // nothing to fold but case
	}
	t := folders.Get().(transform.Transformer)
	defer folders.Put(t)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ideographic reports the scripts written without spaces between words.
func ideographic(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo)
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// piece is a run of folded text: a word or an ideographic run.
type piece struct {
	text        string
	ideographic bool
}

// pieces splits folded text into words and ideographic runs.
func pieces(s string) []piece {
	var out []piece
	var cur []rune
	curIdeo := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, piece{text: string(cur), ideographic: curIdeo})
			cur = cur[:0]
		}
	}
	for _, r := range Fold(s) {
		switch {
		case ideographic(r):
			if !curIdeo {
				flush()
			}
			curIdeo = true
			cur = append(cur, r)
		case wordRune(r):
			if curIdeo {
				flush()
			}
			curIdeo = false
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

func cut(s string) string {
	if len(s) <= maxTokenBytes {
		return s
	}
	i := maxTokenBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// tokenSet collects distinct tokens in first-seen order.
type tokenSet struct {
	seen map[string]bool
	list []string
}

func (t *tokenSet) add(tok string) {
	tok = cut(tok)
	if tok == "" || t.seen[tok] {
		return
	}
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	t.seen[tok] = true
	t.list = append(t.list, tok)
}

func (t *tokenSet) text(s string) {
	for _, p := range pieces(s) {
		if !p.ideographic {
			t.add(p.text)
			continue
		}
		// The run as written, and folded to Simplified when that differs:
		// a query in either script finds it (see Simplified).
		t.ideographs(p.text)
		if simple := Simplified(p.text); simple != p.text {
			t.ideographs(simple)
		}
	}
}

// ideographs adds a run's characters and bigrams.
func (t *tokenSet) ideographs(run string) {
	rs := []rune(run)
	for i := range rs {
		t.add(string(rs[i]))
		if i+1 < len(rs) {
			t.add(string(rs[i : i+2]))
		}
	}
}

// compact is a code's letters and digits run together, folded.
func compact(s string) string {
	var b strings.Builder
	for _, p := range pieces(s) {
		b.WriteString(p.text)
	}
	return b.String()
}

// IndexTokens are the search tokens of a variant: of its texts (names in
// every language, option values), its SKU and its barcode.
func IndexTokens(texts []string, sku, barcode string) []string {
	var t tokenSet
	for _, s := range texts {
		t.text(s)
	}
	for _, code := range []string{sku, barcode} {
		t.text(code)
		t.add(compact(code))
	}
	if g, err := NormalizeGTIN(barcode); err == nil {
		t.add(g)
	}
	return t.list
}

// Term is one token a search looks for: exactly, or as a prefix of a token.
type Term struct {
	Token  string
	Prefix bool
}

// TextQuery is a search box's text as terms: a variant matches when it has
// every term of at least one group.
type TextQuery struct {
	Groups [][]Term
}

// Empty reports a query with nothing to look for (no text, or only
// punctuation): it matches everything.
func (q TextQuery) Empty() bool { return len(q.Groups) == 0 }

// queryTerms are the terms of a query's pieces, ideographic runs passed
// through fold.
func queryTerms(ps []piece, fold func(string) string) []Term {
	var terms []Term
	addTerm := func(t Term) {
		t.Token = cut(t.Token)
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	for _, p := range ps {
		rs := []rune(p.text)
		switch {
		case !p.ideographic:
			addTerm(Term{Token: p.text, Prefix: len(rs) > 1})
		case len(rs) == 1:
			addTerm(Term{Token: fold(p.text)})
		default:
			rs = []rune(fold(p.text))
			for i := 0; i+1 < len(rs); i++ {
				addTerm(Term{Token: string(rs[i : i+2])})
			}
		}
	}
	return terms
}

// Limits of a search text.
const (
	MaxQueryBytes = 200
	MaxQueryTerms = 16
)

// ParseQuery reads a search box's text. Words match as prefixes (the last
// one is usually still being typed, and "heart" should find "hearts");
// one-letter words match exactly. Ideographic text matches by its bigrams
// (one character: that character). A single code-like word with
// punctuation ("TS-001") also matches as its compact form, and a valid
// barcode as its GTIN-14 form.
func ParseQuery(q string) (TextQuery, error) {
	if len(q) > MaxQueryBytes {
		return TextQuery{}, fmt.Errorf("at most %d bytes", MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return TextQuery{}, fmt.Errorf("not UTF-8")
	}
	ps := pieces(q)
	terms := queryTerms(ps, func(s string) string { return s })
	if len(terms) > MaxQueryTerms {
		return TextQuery{}, fmt.Errorf("at most %d words (a Chinese word of n characters counts n-1)", MaxQueryTerms)
	}
	if len(terms) == 0 {
		return TextQuery{}, nil
	}
	out := TextQuery{Groups: [][]Term{terms}}
	// The same words with Han folded to Simplified: names indexed since
	// the folding hold those tokens whatever script they were written in.
	if simple := queryTerms(ps, Simplified); !slices.Equal(simple, terms) {
		out.Groups = append(out.Groups, simple)
	}
	trimmed := strings.TrimSpace(q)
	if len(ps) > 1 && !strings.ContainsFunc(trimmed, unicode.IsSpace) {
		out.Groups = append(out.Groups, []Term{{Token: cut(compact(trimmed)), Prefix: true}})
	}
	if g, err := NormalizeGTIN(trimmed); err == nil && g != compact(trimmed) {
		out.Groups = append(out.Groups, []Term{{Token: g}})
	}
	return out, nil
}
