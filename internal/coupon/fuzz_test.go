package coupon

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSpecs are the specs FuzzNormalize reads under; a fuzzed byte picks one.
var fuzzSpecs = []Spec{{}, {Prefix: "HK50"}, {BodyLen: MinBodyLen, Group: -1}, {Prefix: "A", BodyLen: MaxBodyLen, Group: 1}}

// FuzzNormalize checks that Normalize never panics, that whatever it
// accepts is canonical (normalizing it again changes nothing) and valid,
// and that whatever it rejects comes with a *ParseError and no code.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", " ", "-", "7KWT-MX3C-RNAF-9HJE", "7kwt mx3c rnaf 9hje", "HK50-7KWT-MX3C-RNAF-9HJE",
		"hk50 7kwt", "O0O0-1111-IIII-LLLL", "ＨＫ50", "\xff\xfe", "7KWT\u00a0MX3C", "A-3-4-7-9",
		"33333333333333333333333333333333333333333333333333333333333333333333",
		"HK50HK50HK50", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "é", "3479ACEF",
	} {
		for i := range fuzzSpecs {
			f.Add(s, byte(i))
		}
	}
	r := seeded(3)
	for i, spec := range fuzzSpecs { // valid codes, which random bytes seldom are
		code, err := Generate(r, spec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(code, byte(i))
		f.Add(strings.ToLower(strings.ReplaceAll(code, "-", " ")), byte(i))
	}
	f.Fuzz(func(t *testing.T, input string, pick byte) {
		spec := fuzzSpecs[int(pick)%len(fuzzSpecs)]
		code, err := Normalize(input, spec)
		if err != nil {
			var pe *ParseError
			if code != "" || !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("Normalize(%q) = %q, %#v; want no code and a *ParseError", input, code, err)
			}
			return
		}
		again, err := Normalize(code, spec)
		if err != nil || again != code {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v", input, code, code, again, err)
		}
		if !Valid(code, spec) {
			t.Fatalf("Valid(%q) = false for Normalize's own output", code)
		}
	})
}
