// Package coupon makes and reads loyalty coupon codes: random, unguessable
// codes over an alphabet with no look-alike characters, ending in a check
// character that catches every single mistyped character and every swap of
// two neighbours, generated in bulk without collisions and drawn as QR codes
// and Code 128 barcodes. GuessLimiter throttles clients that guess.
//
// It is a pure domain package: values in, values out. Storing codes,
// redeeming them and mapping errors to HTTP are the callers' business.
//
// # Format
//
// A code is an optional prefix, a random body and a check character:
//
//	HK50-7KWT-MX3C-RNAF-9HJW    prefix "HK50", body "7KWTMX3CRNAF9HJ", check "W"
//
// The canonical form (what Generate returns, what Normalize returns and what
// should be stored) is upper case, with a hyphen after the prefix and the
// body plus check character in hyphen-separated groups (Spec.Group).
//
// # Alphabet
//
// Alphabet holds 19 characters, 3479ACEFHJKMNPRTWXY: the digits and
// upper-case letters minus every character that is commonly misread as
// another one on a receipt, a phone screen or in handwriting: 0 O Q D (round
// shapes), 1 I L (strokes), 2 Z, 5 S, 8 B, 6 G (and G/C), U V. With O, I and
// U gone, A and E are the only vowels left, so codes rarely spell words. 19
// is a prime, which gives the check character a simple proof (below).
//
// # Check character
//
// The check character is Damm's algorithm over the quasigroup x∗y = 2x+y
// (mod 19): the state starts at 0, each symbol s moves it to 2·state+s, and
// the check character brings the final state back to 0. Because 19 is prime
// and 2 is neither 0 nor 1 mod 19, the quasigroup is totally anti-symmetric,
// so it detects every single-character substitution, every adjacent
// transposition, and also every jump transposition (abc→cba) and twin error
// (aa→bb) (see TestCheck_Quasigroup and TestNormalize_DetectsEveryError).
// Luhn mod N was not used: it misses some transpositions for some N.
//
// # Entropy
//
// The default body is 15 random characters: 19^15 ≈ 1.52·10^19 codes,
// 63.7 bits. With one million codes issued, one random guess hits a code
// with probability 10^6 / 19^15 ≈ 6.6·10^-14; even a billion unthrottled
// guesses would find one with probability about 6.6·10^-5. The check
// character adds no secrecy (anyone can compute it); it only catches typos
// before a lookup.
package coupon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// Alphabet is the set of characters a code body and check character use,
// in the order of their values 0..18.
const Alphabet = "3479ACEFHJKMNPRTWXY"

// radix is len(Alphabet) (a test checks it); it must be a prime for the
// check proof. Untyped, so it mixes with bytes and ints.
const radix = 19

// Limits of a Spec.
const (
	DefaultBodyLen = 15 // 63.7 bits; see the package comment
	MinBodyLen     = 8  // 34 bits; GenerateBatch keeps a guess's odds under 10^-6 (batch.go)
	MaxBodyLen     = 24 // the batch fingerprint packs 12 symbols a word into two words
	DefaultGroup   = 4
	MaxPrefixLen   = 8
)

// symbolValue maps a byte to its alphabet value, or -1 when it is not in the
// alphabet. Upper case only: Normalize upper-cases first.
var symbolValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(Alphabet) {
		t[Alphabet[i]] = int8(i)
	}
	return t
}()

// Spec describes the codes of one campaign. Its zero value is the default:
// no prefix, a 15-character body, groups of 4.
type Spec struct {
	// Prefix, optional, is printed before the body and a hyphen ("HK50"):
	// 1 to 8 upper-case ASCII letters or digits. It may use any of them
	// (it is compared exactly, not checked by the check character).
	Prefix string
	// BodyLen is the number of random characters, MinBodyLen to
	// MaxBodyLen; 0 means DefaultBodyLen.
	BodyLen int
	// Group is how many characters of body plus check character go between
	// hyphens in the canonical form; 0 means DefaultGroup and a negative
	// value means no hyphens after the prefix.
	Group int
}

// ErrSpec marks an invalid Spec: a programming or configuration error, not
// a user's typo.
var ErrSpec = errors.New("coupon: invalid spec")

// Validate reports whether the spec can make codes, wrapping ErrSpec if not.
func (s Spec) Validate() error {
	_, err := s.resolve()
	return err
}

// resolve fills in defaults and validates.
func (s Spec) resolve() (Spec, error) {
	if s.BodyLen == 0 {
		s.BodyLen = DefaultBodyLen
	}
	if s.Group == 0 {
		s.Group = DefaultGroup
	}
	if s.BodyLen < MinBodyLen || s.BodyLen > MaxBodyLen {
		return s, fmt.Errorf("%w: body length %d is outside %d..%d", ErrSpec, s.BodyLen, MinBodyLen, MaxBodyLen)
	}
	if len(s.Prefix) > MaxPrefixLen {
		return s, fmt.Errorf("%w: prefix %q is longer than %d characters", ErrSpec, s.Prefix, MaxPrefixLen)
	}
	for i := range len(s.Prefix) {
		if c := s.Prefix[i]; !isUpperAlnum(c) {
			return s, fmt.Errorf("%w: prefix %q may hold only A-Z and 0-9", ErrSpec, s.Prefix)
		}
	}
	return s, nil
}

func isUpperAlnum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// maxCode is the longest canonical code: prefix, hyphen, body, check
// character and a hyphen between every two characters.
const maxCode = MaxPrefixLen + 1 + 2*(MaxBodyLen+1)

// format renders body symbols (values 0..18) in the canonical form, adding
// the check character.
func (s Spec) format(body []byte) string {
	var buf [maxCode]byte
	b := append(buf[:0], s.Prefix...)
	if s.Prefix != "" {
		b = append(b, '-')
	}
	for i, v := range body {
		if s.Group > 0 && i > 0 && i%s.Group == 0 {
			b = append(b, '-')
		}
		b = append(b, Alphabet[v])
	}
	if s.Group > 0 && len(body)%s.Group == 0 {
		b = append(b, '-')
	}
	return string(append(b, Alphabet[checkSymbol(body)]))
}

// fold runs symbols through the quasigroup x∗y = 2x+y mod 19 (Damm).
func fold(state int, symbols []byte) int {
	for _, s := range symbols {
		state = (2*state + int(s)) % radix
	}
	return state
}

// checkSymbol is the symbol c that brings the body's state s back to zero:
// 2s+c ≡ 0 (mod 19).
func checkSymbol(body []byte) byte {
	s := fold(0, body)
	return byte((radix - 2*s%radix) % radix)
}

// Generate returns a new random code in canonical form. rand must be a
// cryptographically secure source (crypto/rand.Reader in production); it is
// a parameter so tests can be reproducible. It returns an error wrapping
// ErrSpec for a bad spec, or the reader's error.
func Generate(rand io.Reader, spec Spec) (string, error) {
	spec, err := spec.resolve()
	if err != nil {
		return "", err
	}
	var body [MaxBodyLen]byte
	if err := drawBody(rand, body[:spec.BodyLen], new([8]byte)); err != nil {
		return "", err
	}
	return spec.format(body[:spec.BodyLen]), nil
}

// wordDigits symbols fit in one uint64: 19^15 ≈ 1.5·10^19 < 2^64.
const wordDigits = 15

// pow19[k] is 19^k, for k up to wordDigits.
var pow19 = func() (p [wordDigits + 1]uint64) {
	p[0] = 1
	for k := 1; k <= wordDigits; k++ {
		p[k] = p[k-1] * radix
	}
	return p
}()

// drawBody fills dst with uniform random symbol values. Each run of up to 15
// symbols is the base-19 digits of one uniform number below 19^k, made from
// 8 random bytes: one read and a few divisions per code, where sampling a
// byte per symbol would loop over 16 bytes.
func drawBody(r io.Reader, dst []byte, scratch *[8]byte) error {
	for len(dst) > 0 {
		k := min(len(dst), wordDigits)
		x, err := uniform(r, pow19[k], scratch)
		if err != nil {
			return err
		}
		for i := k - 1; i >= 0; i-- {
			dst[i] = byte(x % radix)
			x /= radix
		}
		dst = dst[k:]
	}
	return nil
}

// uniform returns a uniform random number below n. Draws at or above the
// largest multiple of n that fits 64 bits would favour small results, so
// they are drawn again (for n = 19^15, 18% of draws).
func uniform(r io.Reader, n uint64, buf *[8]byte) (uint64, error) {
	limit := math.MaxUint64 - math.MaxUint64%n
	// A true random source is rejected 64 times in a row with probability
	// under 10^-47; a reader returning only 0xFF bytes would loop forever.
	for range 64 {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return 0, fmt.Errorf("coupon: reading randomness: %w", err)
		}
		if x := binary.LittleEndian.Uint64(buf[:]); x < limit {
			return x % n, nil
		}
	}
	return 0, errors.New("coupon: the randomness source returns only unusable bytes")
}

// Errors that Normalize wraps in a *ParseError; test them with errors.Is.
var (
	ErrEmpty     = errors.New("code is empty")
	ErrCharacter = errors.New("code has a character that codes never use")
	ErrPrefix    = errors.New("code has the wrong prefix")
	ErrLength    = errors.New("code has the wrong number of characters")
	ErrCheck     = errors.New("code check character does not match")
)

// ParseError says what is wrong with a typed code, in words meant for the
// person who typed it (an RFC 9457 field error's message).
type ParseError struct {
	Err error  // ErrEmpty, ErrCharacter, ErrPrefix, ErrLength or ErrCheck
	Pos int    // for ErrCharacter, the 1-based character position in the input; else 0
	Msg string // the full message
}

func (e *ParseError) Error() string { return e.Msg }
func (e *ParseError) Unwrap() error { return e.Err }

// maxInput bounds the letters and digits Normalize reads, far above any
// valid code, so a huge input costs nothing.
const maxInput = MaxPrefixLen + MaxBodyLen + 1

// Normalize reads a code as a person typed or a scanner sent it and returns
// its canonical form. It accepts lower case and ignores spaces and hyphens
// anywhere; any other character is an error, never silently mapped (an O is
// not read as 0). Errors are a *ParseError (wrapping ErrEmpty, ErrCharacter,
// ErrPrefix, ErrLength or ErrCheck) or, for a bad spec, wrap ErrSpec.
func Normalize(input string, spec Spec) (string, error) {
	spec, err := spec.resolve()
	if err != nil {
		return "", err
	}
	var chars [maxInput]byte
	var pos [maxInput]int
	n, err := compact(input, chars[:], pos[:], spec)
	if err != nil {
		return "", err
	}
	if err := checkPrefix(chars[:n], spec); err != nil {
		return "", err
	}
	body, bodyPos := chars[len(spec.Prefix):n], pos[len(spec.Prefix):n]
	if err := toSymbols(input, body, bodyPos); err != nil {
		return "", err
	}
	if len(body) != spec.BodyLen+1 {
		return "", lengthError(len(body), spec)
	}
	if fold(0, body) != 0 {
		return "", &ParseError{Err: ErrCheck, Msg: "code is mistyped: its last character does not match the others " +
			"(a character is wrong or two are swapped)"}
	}
	return spec.format(body[:spec.BodyLen]), nil
}

// compact copies the letters and digits of input, upper-cased, into chars,
// with their 1-based character positions in pos, and returns how many.
func compact(input string, chars []byte, pos []int, spec Spec) (int, error) {
	n, p := 0, 0
	for i, r := range input {
		p++
		switch {
		case r == ' ' || r == '-':
			continue
		case r < utf8.RuneSelf && isUpperAlnum(byte(upper(r))):
			if n < len(chars) {
				chars[n], pos[n] = byte(upper(r)), p
			}
			n++ // keep counting past the end, for the message
		default:
			return 0, badChar(input[i:], p, "codes hold only letters, digits, spaces and hyphens")
		}
	}
	switch {
	case n == 0:
		return 0, &ParseError{Err: ErrEmpty, Msg: "code is empty"}
	case n > len(chars):
		return 0, lengthError(n-len(spec.Prefix), spec)
	}
	return n, nil
}

func upper(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r - 'a' + 'A'
	}
	return r
}

func checkPrefix(chars []byte, spec Spec) error {
	if spec.Prefix == "" || strings.HasPrefix(string(chars), spec.Prefix) {
		return nil
	}
	return &ParseError{Err: ErrPrefix, Msg: fmt.Sprintf("code must start with %q", spec.Prefix)}
}

// toSymbols replaces alphabet characters in body by their values, or
// reports the first one outside the alphabet at its input position.
func toSymbols(input string, body []byte, pos []int) error {
	for i, c := range body {
		v := symbolValue[c]
		if v < 0 {
			return badChar(nthRune(input, pos[i]), pos[i], "codes never use it (they use only "+Alphabet+")")
		}
		body[i] = byte(v)
	}
	return nil
}

// nthRune returns input from its p-th (1-based) character on.
func nthRune(input string, p int) string {
	for i := range input {
		if p--; p == 0 {
			return input[i:]
		}
	}
	return ""
}

// badChar words an ErrCharacter for the first character of rest at position p.
func badChar(rest string, p int, why string) *ParseError {
	r, size := utf8.DecodeRuneInString(rest)
	shown := fmt.Sprintf("%q", r)
	if r == utf8.RuneError && size <= 1 {
		shown = "an invalid byte"
	}
	return &ParseError{Err: ErrCharacter, Pos: p,
		Msg: fmt.Sprintf("character %d (%s) is not allowed: %s", p, shown, why)}
}

func lengthError(got int, spec Spec) *ParseError {
	where := ""
	if spec.Prefix != "" {
		where = " after the prefix"
	}
	return &ParseError{Err: ErrLength, Msg: fmt.Sprintf(
		"code has %d characters%s, want %d (not counting spaces and hyphens)", got, where, spec.BodyLen+1)}
}

// Valid reports whether Normalize accepts code under spec (in any spelling
// it accepts, not only the canonical one).
func Valid(code string, spec Spec) bool {
	_, err := Normalize(code, spec)
	return err == nil
}
