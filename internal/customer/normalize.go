package customer

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"
)

// ErrJunk marks a value that is well-formed but known to be a placeholder
// (test@test.com, n/a, 0000000). Junk never matches anyone.
type ErrJunk struct{ Why string }

func (e ErrJunk) Error() string { return e.Why }

// NormalizeEmail trims and lower-cases an address and checks its form.
// It returns ErrJunk for placeholder addresses and a plain error for
// malformed ones.
func NormalizeEmail(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", fmt.Errorf("email is not valid UTF-8")
	}
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" {
		return "", fmt.Errorf("email is empty")
	}
	if len(s) > 254 {
		return "", fmt.Errorf("email is longer than 254 bytes")
	}
	if isJunkWord(s) {
		return s, ErrJunk{Why: "placeholder instead of an email address"}
	}
	if local, _, ok := strings.Cut(s, "@"); ok && (junkEmailLocals[local] || isJunkWord(local)) {
		return s, ErrJunk{Why: "placeholder email address"}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", fmt.Errorf("%q is not an email address", raw)
	}
	local, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", fmt.Errorf("%q has no valid domain", raw)
	}
	if isJunkEmail(local, domain) {
		return s, ErrJunk{Why: "placeholder email address"}
	}
	return s, nil
}

var junkEmailDomains = map[string]bool{
	"test.com": true, "example.com": true, "example.org": true, "example.net": true,
	"email.com": true, "noemail.com": true, "none.com": true, "no.com": true,
	"mailinator.com": true, "test.test": true, "domain.com": true,
}

var junkEmailLocals = map[string]bool{
	"test": true, "noemail": true, "no-email": true, "none": true, "na": true, "n.a": true,
	"nomail": true, "no": true, "null": true, "abc": true, "xxx": true, "asdf": true,
	"dummy": true, "fake": true, "unknown": true, "customer": true, "noreply": true, "no-reply": true,
}

func isJunkEmail(local, domain string) bool {
	if junkEmailDomains[domain] || junkEmailLocals[local] {
		return true
	}
	return isRepeatedRune(local) && utf8.RuneCountInString(local) > 2
}

// NormalizePhone reads a phone number as written by a person or a POS and
// returns it in E.164, reading national numbers in defaultCountry. Answers
// are remembered (phoneCache): parsing takes tens of microseconds of
// libphonenumber's regular expressions, and the same numbers come back
// all day (a POS looking up its regulars, an app identifying its users).
func NormalizePhone(raw, defaultCountry string) (string, error) {
	key := defaultCountry + "\x00" + raw
	if r, ok := phones.get(key); ok {
		return r.e164, r.err
	}
	e164, err := normalizePhone(raw, defaultCountry)
	phones.put(key, phoneResult{e164, err})
	return e164, err
}

func normalizePhone(raw, defaultCountry string) (string, error) {
	// Full-width digits (９１２３) are common in CJK input methods.
	s := width.Narrow.String(strings.TrimSpace(raw))
	if isJunkWord(s) {
		return "", ErrJunk{Why: "placeholder phone number"}
	}
	digits := onlyDigits(s)
	if digits == "" {
		return "", fmt.Errorf("%q is not a phone number", raw)
	}
	if len(digits) >= 5 && isRepeatedRune(digits) {
		return "", ErrJunk{Why: "phone number of one repeated digit"}
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + strings.TrimPrefix(s, "00")
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(defaultCountry))
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number: %v", raw, err)
	}
	// Judge junk on what the number is, not on how it was typed.
	if err := junkPhone(phonenumbers.Format(num, phonenumbers.E164), phonenumbers.GetNationalSignificantNumber(num)); err != nil {
		return "", err
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%q is not a valid phone number for region %s", raw, regionOf(num, defaultCountry))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

func junkPhone(e164, national string) error {
	for _, d := range []string{strings.TrimPrefix(e164, "+"), national} {
		if len(d) >= 5 && isRepeatedRune(d) {
			return ErrJunk{Why: "phone number of one repeated digit"}
		}
		if isSequence(d) {
			return ErrJunk{Why: "phone number of sequential digits"}
		}
	}
	return nil
}

func regionOf(num *phonenumbers.PhoneNumber, fallback string) string {
	if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
		return r
	}
	return strings.ToUpper(fallback)
}

// NormalizeToken trims a card number or external id. Values are kept as given
// otherwise: source systems own their format.
func NormalizeToken(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("value is empty")
	}
	if len(s) > 200 || !utf8.ValidString(s) {
		return "", fmt.Errorf("value is longer than 200 bytes or not UTF-8")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("value contains control characters")
	}
	if isJunkWord(s) || (len(s) >= 4 && isRepeatedRune(s)) {
		return s, ErrJunk{Why: "placeholder value"}
	}
	return s, nil
}

// NormalizeExternalType checks the name of an external id type (pos, line_user_id…).
func NormalizeExternalType(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" || len(s) > 64 {
		return "", fmt.Errorf("external type must be 1 to 64 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return "", fmt.Errorf("external type %q may only contain a-z, 0-9, _ - .", raw)
		}
	}
	return s, nil
}

var junkWords = map[string]bool{
	"n/a": true, "na": true, "none": true, "null": true, "nil": true, "unknown": true, "-": true, "n.a.": true, "nil.": true,
	"test": true, "x": true, "xx": true, "xxx": true, "tbc": true, "tba": true, "no": true, "0": true,
}

func isJunkWord(s string) bool { return junkWords[strings.ToLower(strings.TrimSpace(s))] }

func isRepeatedRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return s != ""
}

// isSequence catches 12345678 and 87654321, common keyboard fillers.
func isSequence(d string) bool {
	if len(d) < 6 {
		return false
	}
	up, down := true, true
	for i := 1; i < len(d); i++ {
		if (d[i-1]-'0'+1)%10 != d[i]-'0' {
			up = false
		}
		if (d[i]-'0'+1)%10 != d[i-1]-'0' {
			down = false
		}
	}
	return up || down
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
