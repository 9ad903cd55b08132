package customer

import (
	"errors"
	"strings"
	"testing"
)

// errKind classifies a normaliser error for table tests.
type errKind int

const (
	kindOK        errKind = iota // no error
	kindJunk                     // ErrJunk
	kindMalformed                // any other error
)

func (k errKind) String() string {
	return [...]string{"ok", "junk", "malformed"}[k]
}

func kindOfErr(err error) errKind {
	var junk ErrJunk
	switch {
	case err == nil:
		return kindOK
	case errors.As(err, &junk):
		return kindJunk
	default:
		return kindMalformed
	}
}

func TestNormalizeEmail_Valid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ann.lee@gmail.com", "ann.lee@gmail.com"},
		{"upper case", "Ann.Lee@Gmail.COM", "ann.lee@gmail.com"},
		{"surrounding spaces", "  ann@shop.hk  ", "ann@shop.hk"},
		{"tabs and newline", "\tann@shop.hk\n", "ann@shop.hk"},
		{"plus tag", "ann+loyalty@shop.com.hk", "ann+loyalty@shop.com.hk"},
		{"subdomain", "c.wong@mail.example-shop.tw", "c.wong@mail.example-shop.tw"},
		{"two letter local part", "aa@x.com", "aa@x.com"},
		{"one letter local part", "a@shop.hk", "a@shop.hk"},
		{"digits", "12345@qq.com", "12345@qq.com"},
		{"unicode local part", "Chén@shop.cn", "chén@shop.cn"},
		{"254 bytes", strings.Repeat("ab", 32) + "@" + strings.Repeat("b", 185) + ".com", strings.Repeat("ab", 32) + "@" + strings.Repeat("b", 185) + ".com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeEmail(tt.in)
			if err != nil {
				t.Fatalf("NormalizeEmail(%q) error = %v, want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeEmail_Junk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"test at test.com", "test@test.com", "test@test.com"},
		{"junk domain, upper case", " Someone@TEST.com ", "someone@test.com"},
		{"example.com", "ann@example.com", "ann@example.com"},
		{"example.org", "ann@example.org", "ann@example.org"},
		{"mailinator", "ann@mailinator.com", "ann@mailinator.com"},
		{"noemail domain", "ann@noemail.com", "ann@noemail.com"},
		{"junk local na", "na@gmail.com", "na@gmail.com"},
		{"junk local n.a", "n.a@gmail.com", "n.a@gmail.com"},
		{"junk local noemail", "noemail@gmail.com", "noemail@gmail.com"},
		{"junk local no-reply", "no-reply@shop.hk", "no-reply@shop.hk"},
		{"junk local null", "NULL@shop.hk", "null@shop.hk"},
		{"repeated letter", "aaaa@gmail.com", "aaaa@gmail.com"},
		{"three repeated letters", "zzz@gmail.com", "zzz@gmail.com"},
		{"repeated digit", "0000000@qq.com", "0000000@qq.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeEmail(tt.in)
			var junk ErrJunk
			if !errors.As(err, &junk) {
				t.Fatalf("NormalizeEmail(%q) error = %v (%T), want ErrJunk", tt.in, err, err)
			}
			if junk.Why == "" {
				t.Errorf("NormalizeEmail(%q) ErrJunk has no reason", tt.in)
			}
			if got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want the normalised value %q alongside ErrJunk", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeEmail_Malformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"only spaces", "   "},
		{"no at", "ann.gmail.com"},
		{"no local part", "@gmail.com"},
		{"no domain", "ann@"},
		{"domain without dot", "ann@localhost"},
		{"domain starting with dot", "ann@.gmail.com"},
		{"domain ending with dot", "ann@gmail.com."},
		{"double dot in domain", "ann@gmail..com"},
		{"two ats", "ann@lee@gmail.com"},
		{"space inside", "ann lee@gmail.com"},
		{"display name", "Ann Lee <ann@gmail.com>"},
		{"angle brackets", "<ann@gmail.com>"},
		{"quoted local part", `"ann lee"@gmail.com`},
		{"comma separated list", "ann@gmail.com, bob@gmail.com"},
		{"255 bytes", strings.Repeat("ab", 32) + "@" + strings.Repeat("b", 186) + ".com"},
		{"trailing text", "ann@gmail.com (home)"},
		{"control character", "ann\x00@gmail.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeEmail(tt.in)
			if k := kindOfErr(err); k != kindMalformed {
				t.Fatalf("NormalizeEmail(%q) = %q, %v: kind %v, want malformed (a plain error, not ErrJunk)", tt.in, got, err, k)
			}
			if got != "" {
				t.Errorf("NormalizeEmail(%q) = %q with a malformed error, want empty value", tt.in, got)
			}
		})
	}
}

// Placeholders typed into an email field by POS staff are junk by ErrJunk's own
// contract ("n/a"), but NormalizeEmail rejects them as malformed, which fails a
// whole identify request instead of ignoring the one value.
func TestNormalizeEmail_PlaceholderWordsAreJunk(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"n/a", "N/A", "none", "-", "n/a@x", "n/a@x.com"} {
		if _, err := NormalizeEmail(in); kindOfErr(err) != kindJunk {
			t.Errorf("NormalizeEmail(%q) error = %v, want ErrJunk", in, err)
		}
	}
}

func TestNormalizeEmail_InvalidUTF8(t *testing.T) {
	t.Parallel()
	if got, err := NormalizeEmail("a\xff@shop.com"); err == nil {
		t.Errorf("NormalizeEmail(invalid UTF-8) = %q, nil; want an error", got)
	}
}

func TestNormalizePhone_Valid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, country, want string
	}{
		{"HK mobile with space", "9123 4567", "HK", "+85291234567"},
		{"HK full-width digits", "９１２３ ４５６７", "HK", "+85291234567"},
		{"HK mobile no space", "91234567", "HK", "+85291234567"},
		{"HK landline", "2123 4567", "HK", "+85221234567"},
		{"HK surrounding spaces", "  9123 4567  ", "HK", "+85291234567"},
		{"HK country code with plus", "+852 9123 4567", "HK", "+85291234567"},
		{"HK dashes", "+852-9123-4567", "HK", "+85291234567"},
		{"HK 00 prefix", "00852 9123 4567", "HK", "+85291234567"},
		{"HK 00 prefix read in SG", "00852 9123 4567", "SG", "+85291234567"},
		{"HK tel URI", "tel:+85291234567", "HK", "+85291234567"},
		{"HK extension dropped", "+852 9123 4567 ext 12", "HK", "+85291234567"},
		{"lower-case country", "9123 4567", "hk", "+85291234567"},
		{"SG mobile national", "9123 4567", "SG", "+6591234567"},
		{"SG mobile with plus read in HK", "+65 9123 4567", "HK", "+6591234567"},
		{"SG with plus read in SG", "+65 9123 4567", "SG", "+6591234567"},
		{"SG landline", "6123 4567", "SG", "+6561234567"},
		{"TW Taipei landline with trunk 0", "(02) 2345-6789", "TW", "+886223456789"},
		{"TW mobile with trunk 0", "0912 345 678", "TW", "+886912345678"},
		{"TW with plus read in HK", "+886 2 2345 6789", "HK", "+886223456789"},
		{"CN mobile", "138 0013 8000", "CN", "+8613800138000"},
		{"CN Beijing landline", "010 6552 9988", "CN", "+861065529988"},
		{"CN with plus read in HK", "+86 138 0013 8000", "HK", "+8613800138000"},
		{"CN 00 prefix read in HK", "0086 138 0013 8000", "HK", "+8613800138000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.in, tt.country)
			if err != nil {
				t.Fatalf("NormalizePhone(%q, %q) error = %v, want nil", tt.in, tt.country, err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q, %q) = %q, want %q", tt.in, tt.country, got, tt.want)
			}
		})
	}
}

func TestNormalizePhone_Junk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, country string
	}{
		{"seven zeros", "0000000", "HK"},
		{"eight eights", "88888888", "HK"},
		{"eight eights with spaces", "8888 8888", "SG"},
		{"five nines", "99999", "TW"},
		{"ascending sequence", "12345678", "HK"},
		{"ascending sequence, dashes", "1234-5678", "CN"},
		{"descending sequence", "87654321", "HK"},
		{"ascending sequence wrapping 9 to 0", "67890123", "HK"},
		{"n/a", "n/a", "HK"},
		{"N/A upper with spaces", " N/A ", "SG"},
		{"none", "none", "TW"},
		{"dash", "-", "CN"},
		{"tbc", "TBC", "HK"},
		{"xxx", "xxx", "HK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.in, tt.country)
			var junk ErrJunk
			if !errors.As(err, &junk) {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v (%T), want ErrJunk", tt.in, tt.country, got, err, err)
			}
			if junk.Why == "" {
				t.Errorf("NormalizePhone(%q, %q) ErrJunk has no reason", tt.in, tt.country)
			}
		})
	}
}

func TestNormalizePhone_Malformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, country string
	}{
		{"empty", "", "HK"},
		{"spaces", "   ", "HK"},
		{"letters", "abc", "HK"},
		{"words", "call me", "SG"},
		{"too short", "123", "HK"},
		{"HK seven digits", "9123 456", "HK"},
		{"HK nine digits", "9123 4567 8", "HK"},
		{"HK number read in TW", "91234567", "TW"},
		{"TW landline read in CN", "02 2345 6789", "CN"},
		{"four zeros below junk length", "0000", "HK"},
		{"no default country for national number", "9123 4567", ""},
		{"unknown default country", "9123 4567", "XX"},
		{"plus alone", "+", "HK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.in, tt.country)
			if k := kindOfErr(err); k != kindMalformed {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v: kind %v, want malformed", tt.in, tt.country, got, err, k)
			}
			if got != "" {
				t.Errorf("NormalizePhone(%q, %q) = %q with an error, want empty value", tt.in, tt.country, got)
			}
		})
	}
}

// The junk checks run on the raw ASCII digits, so the verdict depends on how
// the number was written: the same subscriber is junk as "+1 234 567 8901"
// but valid as "001 234 567 8901", and normalising the valid output again
// yields ErrJunk (not idempotent). International prefixes other than "00"
// (SG "010") and letters read as digits by phonenumbers hide junk the same way.
func TestNormalizePhone_JunkIndependentOfFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, country string
	}{
		{"00 prefix hides sequence", "001 234 567 8901", "HK"},
		{"00 prefix hides repeated digit", "007 777 777 7777", "HK"},
		{"letters hide repeated digit", "+7 777 PPP PPPP", "HK"},
		{"SG 010 prefix and letters hide repeated digit", "01022222222AAA", "SG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in, tt.country)
			if err == nil {
				again, err2 := NormalizePhone(got, tt.country)
				t.Errorf("NormalizePhone(%q, %s) = %q, nil; normalising that again = %q, %v; want both ErrJunk", tt.in, tt.country, got, again, err2)
			}
		})
	}
}

func TestNormalizePhone_ZeroIsJunk(t *testing.T) {
	t.Parallel()
	if _, err := NormalizePhone("0", "HK"); kindOfErr(err) != kindJunk {
		t.Errorf(`NormalizePhone("0", "HK") error = %v, want ErrJunk`, err)
	}
}

func TestNormalizeToken_Cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		kind           errKind
	}{
		{"card number", "8801234567", "8801234567", kindOK},
		{"trimmed", "  C-1029\t", "C-1029", kindOK},
		{"case kept", "AbC-xyz", "AbC-xyz", kindOK},
		{"inner spaces kept", "C 1029", "C 1029", kindOK},
		{"unicode", "會員-001", "會員-001", kindOK},
		{"three repeated", "aaa", "aaa", kindOK},
		{"200 bytes", strings.Repeat("ab", 100), strings.Repeat("ab", 100), kindOK},
		{"empty", "", "", kindMalformed},
		{"only spaces", " \t ", "", kindMalformed},
		{"201 bytes", strings.Repeat("a", 200) + "b", "", kindMalformed},
		{"invalid UTF-8", "C-\xff", "", kindMalformed},
		{"NUL", "C-\x001", "", kindMalformed},
		{"inner newline", "C-\n1", "", kindMalformed},
		{"DEL", "C-\x7f", "", kindMalformed},
		{"n/a", "n/a", "n/a", kindJunk},
		{"N/A trimmed", " N/A ", "N/A", kindJunk},
		{"zero", "0", "0", kindJunk},
		{"null", "NULL", "NULL", kindJunk},
		{"dash", "-", "-", kindJunk},
		{"four zeros", "0000", "0000", kindJunk},
		{"repeated letter", "xxxxxx", "xxxxxx", kindJunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeToken(tt.in)
			if k := kindOfErr(err); k != tt.kind {
				t.Fatalf("NormalizeToken(%q) error = %v: kind %v, want %v", tt.in, err, k, tt.kind)
			}
			if got != tt.want {
				t.Errorf("NormalizeToken(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeExternalType_Cases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"pos", "pos", "pos", true},
		{"upper case", "POS", "pos", true},
		{"trimmed", " line_user_id ", "line_user_id", true},
		{"dash dot digits", "wechat-openid.v2", "wechat-openid.v2", true},
		{"64 characters", strings.Repeat("a", 64), strings.Repeat("a", 64), true},
		{"empty", "", "", false},
		{"spaces", "  ", "", false},
		{"65 characters", strings.Repeat("a", 65), "", false},
		{"inner space", "line user", "", false},
		{"colon", "ext:pos", "", false},
		{"slash", "pos/1", "", false},
		{"non-ASCII", "會員", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeExternalType(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("NormalizeExternalType(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if got != tt.want {
				t.Errorf("NormalizeExternalType(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
