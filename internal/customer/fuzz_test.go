package customer

import (
	"errors"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
)

// fuzzCountries are the default countries the phone fuzzers read national
// numbers in; a fuzzed byte picks one.
var fuzzCountries = []string{"HK", "SG", "TW", "CN", "MO", "MY", "US", "GB"}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ann.lee@gmail.com", " Ann.Lee@Gmail.COM ", "ann+loyalty@shop.com.hk", "chén@shop.cn",
		"test@test.com", "aaaa@gmail.com", "n/a@x", "n/a", "", "   ", "ann@", "@gmail.com",
		"Ann Lee <ann@gmail.com>", `"ann lee"@gmail.com`, "ann@gmail..com", "ann@[10.0.0.1]",
		"a\xff@b.com", "ANN@EXAMPLE.COM", "İ@shop.com", "\u212Aelvin@shop.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := NormalizeEmail(raw)
		var junk ErrJunk
		switch {
		case err == nil, errors.As(err, &junk):
			if out == "" {
				t.Fatalf("NormalizeEmail(%q) = \"\", %v; want a value", raw, err)
			}
			if out != strings.TrimSpace(out) || out != strings.ToLower(out) {
				t.Errorf("NormalizeEmail(%q) = %q: not trimmed and lower-case", raw, out)
			}
			if err == nil && strings.Count(out, "@") < 1 {
				t.Errorf("NormalizeEmail(%q) = %q: no @", raw, out)
			}
			again, err2 := NormalizeEmail(out)
			if again != out || kindOfErr(err2) != kindOfErr(err) {
				t.Errorf("not idempotent: NormalizeEmail(%q) = %q, %v; NormalizeEmail(%q) = %q, %v", raw, out, err, out, again, err2)
			}
		default:
			if out != "" {
				t.Errorf("NormalizeEmail(%q) = %q with error %v; want no value", raw, out, err)
			}
		}
	})
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []struct {
		raw     string
		country byte
	}{
		{"9123 4567", 0}, {"+65 9123 4567", 0}, {"9123 4567", 1}, {"00852 9123 4567", 1},
		{"(02) 2345-6789", 2}, {"0912 345 678", 2}, {"138 0013 8000", 3}, {"010 6552 9988", 3},
		{"+852-9123-4567 ext. 12", 0}, {"tel:+85291234567", 0}, {"+1 800 FLOWERS", 6},
		{"0000000", 0}, {"88888888", 1}, {"12345678", 0}, {"n/a", 0}, {"abc", 0}, {"123", 0},
		{"", 0}, {"+", 0}, {"0", 0}, {"00", 0}, {"00 0", 0}, {"９１２３ ４５６７", 0},
		{"020 7946 0958", 7}, {"(415) 555-2671", 6},
	} {
		f.Add(s.raw, s.country)
	}
	f.Fuzz(func(t *testing.T, raw string, c byte) {
		country := fuzzCountries[int(c)%len(fuzzCountries)]
		out, err := NormalizePhone(raw, country)
		// The remembered answer is the answer.
		if fresh, ferr := normalizePhone(raw, country); fresh != out || (ferr == nil) != (err == nil) {
			t.Fatalf("NormalizePhone(%q, %s) = %q, %v; uncached %q, %v", raw, country, out, err, fresh, ferr)
		}
		if cached, cerr := NormalizePhone(raw, country); cached != out || cerr != err {
			t.Fatalf("NormalizePhone(%q, %s) again = %q, %v; first %q, %v", raw, country, cached, cerr, out, err)
		}
		if err != nil {
			if out != "" {
				t.Errorf("NormalizePhone(%q, %s) = %q with error %v; want no value", raw, country, out, err)
			}
			return
		}
		if len(out) < 2 || out[0] != '+' || strings.Trim(out[1:], "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q, %s) = %q: not + followed by digits", raw, country, out)
		}
		again, err2 := NormalizePhone(out, country)
		if again != out || err2 != nil {
			t.Errorf("not idempotent: NormalizePhone(%q, %s) = %q; NormalizePhone(%q) = %q, %v", raw, country, out, out, again, err2)
		}
	})
}

func FuzzNormalizeToken(f *testing.F) {
	for _, s := range []string{
		"8801234567", "  C-1029\t", "會員-001", "n/a", "0", "0000", "aaa", "", " ", "C-\x001",
		"C-\xff", strings.Repeat("a", 201), "\ufeffC-1", "U4af4980629...",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := NormalizeToken(raw)
		var junk ErrJunk
		if err != nil && !errors.As(err, &junk) {
			if out != "" {
				t.Errorf("NormalizeToken(%q) = %q with error %v; want no value", raw, out, err)
			}
			return
		}
		if out == "" || out != strings.TrimSpace(out) || len(out) > 200 {
			t.Fatalf("NormalizeToken(%q) = %q, %v: empty, untrimmed or too long", raw, out, err)
		}
		again, err2 := NormalizeToken(out)
		if again != out || kindOfErr(err2) != kindOfErr(err) {
			t.Errorf("not idempotent: NormalizeToken(%q) = %q, %v; NormalizeToken(%q) = %q, %v", raw, out, err, out, again, err2)
		}
	})
}

func FuzzNormalizeExternalType(f *testing.F) {
	for _, s := range []string{"pos", " POS ", "line_user_id", "wechat-openid.v2", "", "line user", "ext:pos", "會員", "\u212A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := NormalizeExternalType(raw)
		if err != nil {
			return
		}
		if out == "" || len(out) > 64 || strings.Trim(out, "abcdefghijklmnopqrstuvwxyz0123456789_-.") != "" {
			t.Fatalf("NormalizeExternalType(%q) = %q: outside [a-z0-9_.-]{1,64}", raw, out)
		}
		if again, err2 := NormalizeExternalType(out); again != out || err2 != nil {
			t.Errorf("not idempotent: NormalizeExternalType(%q) = %q; again = %q, %v", raw, out, again, err2)
		}
	})
}

func FuzzNormalizeIdentifiers(f *testing.F) {
	f.Add("ann@gmail.com", "9123 4567", "8801234567", "pos", "C-1029", "line_user_id", "U1", byte(0))
	f.Add(" Ann@Gmail.com ", "+65 9123 4567", "", "POS", "C-1", "pos", " C-1", byte(1))
	f.Add("test@test.com", "88888888", "0000", "pos", "n/a", "web", "W-7", byte(2))
	f.Add("x", "abc", "\x01", "bad type", "z", "", "", byte(3))
	f.Add("", "", "", "", "", "", "", byte(0))
	f.Add("", "(02) 2345-6789", "C-1", "pos", "C-1", "web", "\t", byte(2))
	f.Fuzz(func(t *testing.T, email, phone, cardNumber, t1, v1, t2, v2 string, c byte) {
		country := fuzzCountries[int(c)%len(fuzzCountries)]
		in := IdentifierInput{Email: email, Phone: phone, CardNumber: cardNumber}
		for _, e := range []ExternalID{{t1, v1}, {t2, v2}} {
			if e.Type != "" || e.Value != "" {
				in.External = append(in.External, e)
			}
		}
		claims, ignored, err := NormalizeIdentifiers(in, country)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || len(e.Fields) == 0 {
				t.Fatalf("error %v (%T): want an Invalid *apperr.Error with field errors", err, err)
			}
			for _, fe := range e.Fields {
				if !strings.HasPrefix(fe.Location, "body.identifiers.") || fe.Message == "" {
					t.Errorf("bad field error %+v", fe)
				}
			}
			if claims != nil || ignored != nil {
				t.Errorf("claims %v and ignored %v returned with an error", claims, ignored)
			}
			return
		}
		given := 0
		for _, s := range []string{email, phone, cardNumber} {
			if s != "" {
				given++
			}
		}
		for _, e := range in.External {
			if e.Value != "" {
				given++
			}
		}
		if len(claims)+len(ignored) > given {
			t.Errorf("%d claims + %d ignored from %d values", len(claims), len(ignored), given)
		}
		seen := map[Identifier]bool{}
		for _, cl := range claims {
			if seen[cl.Identifier] {
				t.Errorf("duplicate claim %+v", cl)
			}
			seen[cl.Identifier] = true
			if !strings.HasPrefix(cl.Field, "body.identifiers.") || cl.Value == "" {
				t.Errorf("bad claim %+v", cl)
			}
		}
		for _, ig := range ignored {
			if ig.Reason != "junk" || ig.Value == "" || ig.Detail == "" {
				t.Errorf("bad ignored %+v", ig)
			}
		}
		// Feeding the normalised claims back in gives the same claims.
		var back IdentifierInput
		for _, cl := range claims {
			switch ext, isExt := cl.IsExternal(); {
			case isExt:
				back.External = append(back.External, ExternalID{Type: ext, Value: cl.Value})
			case cl.Type == TypeEmail:
				back.Email = cl.Value
			case cl.Type == TypePhone:
				back.Phone = cl.Value
			case cl.Type == TypeCardNumber:
				back.CardNumber = cl.Value
			}
		}
		again, ign2, err2 := NormalizeIdentifiers(back, country)
		if err2 != nil || len(ign2) != 0 || len(again) != len(claims) {
			t.Fatalf("not idempotent: %+v gave %+v; again %+v, ignored %+v, %v", in, claims, again, ign2, err2)
		}
		for i := range again {
			if again[i].Identifier != claims[i].Identifier {
				t.Errorf("not idempotent: claim %d %+v became %+v", i, claims[i].Identifier, again[i].Identifier)
			}
		}
	})
}
