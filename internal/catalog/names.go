package catalog

import (
	"maps"
	"slices"
	"strings"
)

// Languages every shop is expected to fill; others are welcome.
const (
	English            = "en"
	TraditionalChinese = "zh-Hant"
	SimplifiedChinese  = "zh-Hans"
)

// Fallback is the order in which names are tried for a requested language:
// the language itself, its script form for Chinese region tags (zh-HK and
// zh-TW read Traditional, zh-CN and zh-SG Simplified), its base language,
// then English, Traditional and Simplified Chinese. A reader of one Chinese
// script is better served by the other script than by English, so each
// Chinese form falls back to the other before English.
func Fallback(lang string) []string {
	var out []string
	add := func(l string) {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	add(lang)
	lower := strings.ToLower(lang)
	switch {
	case lower == "zh-hk" || lower == "zh-tw" || lower == "zh-mo" || strings.HasPrefix(lower, "zh-hant"):
		add(TraditionalChinese)
		add(SimplifiedChinese)
	case lower == "zh" || lower == "zh-cn" || lower == "zh-sg" || strings.HasPrefix(lower, "zh-hans"):
		add(SimplifiedChinese)
		add(TraditionalChinese)
	}
	if base, _, ok := strings.Cut(lang, "-"); ok {
		add(base)
	}
	add(English)
	add(TraditionalChinese)
	add(SimplifiedChinese)
	return out
}

// Name picks the text for lang from texts by Fallback, then the first
// language in alphabetical order; "" when texts is empty.
func Name(texts map[string]string, lang string) string {
	for _, l := range Fallback(lang) {
		if t, ok := texts[l]; ok && t != "" {
			return t
		}
	}
	for _, l := range slices.Sorted(maps.Keys(texts)) {
		if texts[l] != "" {
			return texts[l]
		}
	}
	return ""
}
