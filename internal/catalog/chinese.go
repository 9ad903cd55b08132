package catalog

import (
	"sync"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
)

// Chinese is written in Traditional characters in Hong Kong and Taiwan and
// in Simplified ones on the mainland, and a brand names a product in one,
// the other or both. Search folds every Han character to its Simplified
// form, character by character, with OpenCC's Traditional-to-Simplified
// table, so "襯衫" finds "衬衫" and the other way round. Character by
// character (not phrase by phrase) keeps a token of an indexed name and
// the same characters in a query folding alike, whatever surrounds them.

var (
	t2sOnce sync.Once
	t2s     *opencc.OpenCC
	folded  sync.Map // rune → rune, conversions seen so far
)

// simplifiedRune is r in Simplified Chinese (r itself when it has no
// single-character Simplified form).
func simplifiedRune(r rune) rune {
	if r < 0x2E80 { // below the CJK blocks: nothing to convert
		return r
	}
	if s, ok := folded.Load(r); ok {
		return s.(rune)
	}
	t2sOnce.Do(func() { t2s, _ = opencc.New("t2s") })
	out := r
	if t2s != nil {
		if s, err := t2s.Convert(string(r)); err == nil && utf8.RuneCountInString(s) == 1 {
			out, _ = utf8.DecodeRuneInString(s)
		}
	}
	folded.Store(r, out)
	return out
}

// Simplified folds a run of Han text to Simplified characters.
func Simplified(s string) string {
	rs := []rune(s)
	changed := false
	for i, r := range rs {
		if f := simplifiedRune(r); f != r {
			rs[i], changed = f, true
		}
	}
	if !changed {
		return s
	}
	return string(rs)
}
