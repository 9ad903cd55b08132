package coupon

import (
	crand "crypto/rand"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// seeded returns a reproducible random source for tests (never for codes
// that are issued: those take crypto/rand).
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

func TestAlphabet_NoConfusables(t *testing.T) {
	t.Parallel()
	if len(Alphabet) != radix {
		t.Fatalf("len(Alphabet) = %d, radix = %d", len(Alphabet), radix)
	}
	for p := 2; p*p <= radix; p++ {
		if radix%p == 0 {
			t.Fatalf("alphabet size %d is not a prime; the check proof needs one", radix)
		}
	}
	seen := map[rune]bool{}
	for _, c := range Alphabet {
		if seen[c] || !isUpperAlnum(byte(c)) {
			t.Errorf("alphabet character %q repeated or not A-Z/0-9", c)
		}
		seen[c] = true
	}
	for _, c := range "0OQD1IL2Z5S8B6GUV" {
		if strings.ContainsRune(Alphabet, c) {
			t.Errorf("alphabet holds the confusable %q", c)
		}
	}
}

// op is the quasigroup operation of the check character.
func op(x, y int) int { return (2*x + y) % radix }

// TestCheck_Quasigroup proves, exhaustively, the properties that make the
// check character catch every single substitution and adjacent
// transposition: each row and column of the operation table is a
// permutation (a quasigroup), and (c∗x)∗y = (c∗y)∗x only when x = y (weak
// total anti-symmetry, Damm 2004).
func TestCheck_Quasigroup(t *testing.T) {
	t.Parallel()
	for a := range radix {
		row, col := map[int]bool{}, map[int]bool{}
		for b := range radix {
			row[op(a, b)], col[op(b, a)] = true, true
		}
		if len(row) != radix || len(col) != radix {
			t.Fatalf("row or column %d is not a permutation", a)
		}
	}
	for c := range radix {
		for x := range radix {
			for y := range radix {
				if x != y && op(op(c, x), y) == op(op(c, y), x) {
					t.Fatalf("(%d∗%d)∗%d == (%d∗%d)∗%d: a transposition would go unseen", c, x, y, c, y, x)
				}
			}
		}
	}
}

// sampleCodes are codes of several specs for the error-detection tests.
func sampleCodes(t *testing.T) map[string]Spec {
	t.Helper()
	specs := []Spec{{}, {Prefix: "HK50"}, {BodyLen: MinBodyLen, Group: -1}, {Prefix: "X", BodyLen: MaxBodyLen, Group: 5}}
	codes := map[string]Spec{}
	r := seeded(1)
	for _, spec := range specs {
		for range 50 {
			code, err := Generate(r, spec)
			if err != nil {
				t.Fatal(err)
			}
			codes[code] = spec
		}
	}
	return codes
}

// TestNormalize_DetectsEveryError changes every sample code in every way
// the check character claims to catch and expects ErrCheck each time.
func TestNormalize_DetectsEveryError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(sym []byte, i int, yield func())
	}{
		{"substitution", func(s []byte, i int, yield func()) {
			orig := s[i]
			for _, c := range []byte(Alphabet) {
				if c != orig {
					s[i] = c
					yield()
				}
			}
			s[i] = orig
		}},
		{"adjacent transposition", func(s []byte, i int, yield func()) { swapYield(s, i, i+1, yield) }},
		{"jump transposition", func(s []byte, i int, yield func()) { swapYield(s, i, i+2, yield) }},
		{"twin error", func(s []byte, i int, yield func()) {
			if i+1 >= len(s) || s[i] != s[i+1] {
				return
			}
			orig := s[i]
			for _, c := range []byte(Alphabet) {
				if c != orig {
					s[i], s[i+1] = c, c
					yield()
				}
			}
			s[i], s[i+1] = orig, orig
		}},
	}
	codes := sampleCodes(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checked := 0
			for code, spec := range codes {
				prefix, body := splitCode(code, spec)
				sym := []byte(body)
				for i := range sym {
					tt.mutate(sym, i, func() {
						checked++
						if _, err := Normalize(prefix+string(sym), spec); !errors.Is(err, ErrCheck) {
							t.Errorf("%s of %s → %s%s: error %v, want ErrCheck", tt.name, code, prefix, sym, err)
						}
					})
				}
			}
			if checked == 0 && tt.name != "twin error" {
				t.Fatal("nothing checked")
			}
			t.Logf("%d altered codes, all rejected", checked)
		})
	}
}

// splitCode returns the prefix and the body with check character, without
// hyphens.
func splitCode(code string, spec Spec) (prefix, body string) {
	if spec.Prefix != "" {
		prefix = spec.Prefix
		code = strings.TrimPrefix(code, spec.Prefix+"-")
	}
	return prefix, strings.ReplaceAll(code, "-", "")
}

func swapYield(s []byte, i, j int, yield func()) {
	if j >= len(s) || s[i] == s[j] {
		return
	}
	s[i], s[j] = s[j], s[i]
	yield()
	s[i], s[j] = s[j], s[i]
}

func TestGenerate_Format(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    Spec
		pattern string // X for an alphabet character
	}{
		{"default", Spec{}, "XXXX-XXXX-XXXX-XXXX"},
		{"prefix", Spec{Prefix: "HK50"}, "HK50-XXXX-XXXX-XXXX-XXXX"},
		{"ungrouped", Spec{Group: -1}, "XXXXXXXXXXXXXXXX"},
		{"prefix ungrouped", Spec{Prefix: "A1", Group: -1}, "A1-XXXXXXXXXXXXXXXX"},
		{"groups of 3, short body", Spec{BodyLen: 8, Group: 3}, "XXX-XXX-XXX"},
		{"uneven last group", Spec{BodyLen: 9, Group: 4}, "XXXX-XXXX-XX"},
		{"group longer than code", Spec{BodyLen: 8, Group: 20}, "XXXXXXXXX"},
		{"longest", Spec{Prefix: "ABCDEFGH", BodyLen: 24, Group: 5}, "ABCDEFGH-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, err := Generate(crand.Reader, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !matches(code, tt.pattern) {
				t.Errorf("Generate = %q, want the shape %q", code, tt.pattern)
			}
			if got, err := Normalize(code, tt.spec); err != nil || got != code {
				t.Errorf("Normalize(%q) = %q, %v; want it unchanged", code, got, err)
			}
		})
	}
}

// matches reports whether code has pattern's shape, X standing for any
// alphabet character and anything else for itself.
func matches(code, pattern string) bool {
	if len(code) != len(pattern) {
		return false
	}
	for i := range len(code) {
		if pattern[i] == 'X' && !strings.ContainsRune(Alphabet, rune(code[i])) ||
			pattern[i] != 'X' && pattern[i] != code[i] {
			return false
		}
	}
	return true
}

func TestSpec_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
	}{
		{"body too short", Spec{BodyLen: MinBodyLen - 1}},
		{"body too long", Spec{BodyLen: MaxBodyLen + 1}},
		{"negative body", Spec{BodyLen: -3}},
		{"lower-case prefix", Spec{Prefix: "hk50"}},
		{"prefix with hyphen", Spec{Prefix: "HK-50"}},
		{"prefix with space", Spec{Prefix: "HK 50"}},
		{"prefix too long", Spec{Prefix: "ABCDEFGHJ"}},
		{"non-ASCII prefix", Spec{Prefix: "ＨＫ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.spec.Validate(); !errors.Is(err, ErrSpec) {
				t.Errorf("Validate() = %v, want ErrSpec", err)
			}
			if _, err := Generate(crand.Reader, tt.spec); !errors.Is(err, ErrSpec) {
				t.Errorf("Generate error = %v, want ErrSpec", err)
			}
			if _, err := Normalize("HK50-XXXX", tt.spec); !errors.Is(err, ErrSpec) {
				t.Errorf("Normalize error = %v, want ErrSpec", err)
			}
		})
	}
}

func TestNormalize_Accepts(t *testing.T) {
	t.Parallel()
	plain := mustGenerate(t, Spec{})
	prefixed := mustGenerate(t, Spec{Prefix: "HK50"})
	compactPlain := strings.ReplaceAll(plain, "-", "")
	tests := []struct {
		name, in string
		spec     Spec
		want     string
	}{
		// Fixed codes: codes already issued must stay valid, so the check
		// algorithm and alphabet may never change.
		{"documented example", "hk50 7kwt mx3c rnaf 9hjw", Spec{Prefix: "HK50"}, "HK50-7KWT-MX3C-RNAF-9HJW"},
		{"fixed code, no prefix", "7KWTMX3CRNAF9HJW", Spec{}, "7KWT-MX3C-RNAF-9HJW"},
		{"fixed short code", "3333 3333 3", Spec{BodyLen: 8, Group: -1}, "333333333"},
		{"canonical", plain, Spec{}, plain},
		{"no hyphens", compactPlain, Spec{}, plain},
		{"lower case", strings.ToLower(plain), Spec{}, plain},
		{"spaces instead of hyphens", strings.ReplaceAll(plain, "-", " "), Spec{}, plain},
		{"surrounding spaces", "  " + plain + " ", Spec{}, plain},
		{"spaces between every character", strings.Join(strings.Split(compactPlain, ""), " "), Spec{}, plain},
		{"doubled hyphens", strings.ReplaceAll(plain, "-", "--"), Spec{}, plain},
		{"regrouped", compactPlain[:3] + "-" + compactPlain[3:], Spec{}, plain},
		{"prefix canonical", prefixed, Spec{Prefix: "HK50"}, prefixed},
		{"prefix lower case, no hyphens", strings.ToLower(strings.ReplaceAll(prefixed, "-", "")), Spec{Prefix: "HK50"}, prefixed},
		{"prefix split by a hyphen", "HK-" + prefixed[2:], Spec{Prefix: "HK50"}, prefixed},
		{"ungrouped spec reads grouped input", plain, Spec{Group: -1}, compactPlain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.in, tt.spec)
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !Valid(tt.in, tt.spec) {
				t.Errorf("Valid(%q) = false", tt.in)
			}
		})
	}
}

func mustGenerate(t *testing.T, spec Spec) string {
	t.Helper()
	code, err := Generate(crand.Reader, spec)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestNormalize_Rejects(t *testing.T) {
	t.Parallel()
	plain := mustGenerate(t, Spec{})                  // XXXX-XXXX-XXXX-XXXX
	prefixed := mustGenerate(t, Spec{Prefix: "HK50"}) // HK50-XXXX-XXXX-XXXX-XXXX
	hk := Spec{Prefix: "HK50"}
	tests := []struct {
		name    string
		in      string
		spec    Spec
		want    error
		pos     int    // for ErrCharacter
		message string // a part of the message
	}{
		{"empty", "", Spec{}, ErrEmpty, 0, "code is empty"},
		{"only separators", " - -- ", Spec{}, ErrEmpty, 0, "code is empty"},
		{"letter O", "O" + plain[1:], Spec{}, ErrCharacter, 1, `character 1 ('O') is not allowed: codes never use it`},
		{"lower-case o", plain[:5] + "o" + plain[6:], Spec{}, ErrCharacter, 6, `character 6 ('o')`},
		{"digit zero", plain[:18] + "0", Spec{}, ErrCharacter, 19, `character 19 ('0')`},
		{"digit one after spaces", "  1" + plain[1:], Spec{}, ErrCharacter, 3, `character 3 ('1')`},
		{"underscore", strings.ReplaceAll(plain, "-", "_"), Spec{}, ErrCharacter, 5, `character 5 ('_') is not allowed: codes hold only letters, digits, spaces and hyphens`},
		{"tab", plain + "\t", Spec{}, ErrCharacter, 20, `'\t'`},
		{"full-width letter", "Ｈ" + plain[1:], Spec{}, ErrCharacter, 1, `'Ｈ'`},
		{"en dash", strings.Replace(plain, "-", "–", 1), Spec{}, ErrCharacter, 5, `'–'`},
		{"position counts characters, not bytes", "éé" + plain, Spec{}, ErrCharacter, 1, `character 1 ('é')`},
		{"invalid UTF-8", "\xff" + plain, Spec{}, ErrCharacter, 1, "an invalid byte"},
		{"one character short", plain[:18], Spec{}, ErrLength, 0, "code has 15 characters, want 16"},
		{"one character long", plain + "A", Spec{}, ErrLength, 0, "code has 17 characters, want 16"},
		{"far too long", strings.Repeat(plain, 10), Spec{}, ErrLength, 0, "code has 160 characters, want 16"},
		{"check character wrong", plain[:18] + other(plain[18]), Spec{}, ErrCheck, 0, "code is mistyped"},
		{"missing prefix", plain, hk, ErrPrefix, 0, `code must start with "HK50"`},
		{"prefix O for 0", "HK5O" + prefixed[4:], hk, ErrPrefix, 0, `code must start with "HK50"`},
		{"other campaign's prefix", "HK20" + prefixed[4:], hk, ErrPrefix, 0, `"HK50"`},
		{"prefix but short", prefixed[:len(prefixed)-1], hk, ErrLength, 0, "code has 15 characters after the prefix, want 16"},
		{"prefix on a spec without one", prefixed, Spec{}, ErrCharacter, 3, `character 3 ('5')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.in, tt.spec)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Normalize(%q) = %q, %v; want %v", tt.in, got, err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos != tt.pos || got != "" {
				t.Errorf("Normalize(%q) = %q, %#v; want no code and a *ParseError at position %d", tt.in, got, err, tt.pos)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q does not contain %q", err, tt.message)
			}
			if Valid(tt.in, tt.spec) {
				t.Errorf("Valid(%q) = true", tt.in)
			}
		})
	}
}

// other returns an alphabet character different from c.
func other(c byte) string {
	if c == Alphabet[0] {
		return Alphabet[1:2]
	}
	return Alphabet[0:1]
}

// TestGenerate_ReaderError passes a failing randomness source through.
func TestGenerate_ReaderError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    func() *strings.Reader
	}{
		{"empty reader", func() *strings.Reader { return strings.NewReader("") }},
		{"short reader", func() *strings.Reader { return strings.NewReader("abc") }},
		{"only unusable bytes", func() *strings.Reader { return strings.NewReader(strings.Repeat("\xff", 1000)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if code, err := Generate(tt.r(), Spec{}); err == nil {
				t.Errorf("Generate = %q, want an error", code)
			}
		})
	}
}
