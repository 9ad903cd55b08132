package coupon

import (
	crand "crypto/rand"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// TestGenerateBatch_MillionDistinct generates a million codes from
// crypto/rand and checks, independently of GenerateBatch's own index, that
// all are distinct and valid, and that the characters are uniform.
func TestGenerateBatch_MillionDistinct(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	spec := Spec{Prefix: "HK50"}
	codes, err := GenerateBatch(crand.Reader, spec, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != n {
		t.Fatalf("got %d codes, want %d", len(codes), n)
	}
	seen := make(map[string]struct{}, n)
	var counts [radix]int
	for i, code := range codes {
		if _, dup := seen[code]; dup {
			t.Fatalf("code %d, %s, is a duplicate", i, code)
		}
		seen[code] = struct{}{}
		if i%1000 == 0 && !Valid(code, spec) { // Normalize is tested elsewhere; a sample is enough here
			t.Fatalf("code %d, %s, is not valid", i, code)
		}
		countBody(&counts, code, spec)
	}
	checkUniform(t, counts[:])
}

// countBody adds the body characters of code (not the check character,
// which depends on them) to counts.
func countBody(counts *[radix]int, code string, spec Spec) {
	n := 0
	for i := len(spec.Prefix); i < len(code) && n < spec.BodyLen; i++ {
		if v := symbolValue[code[i]]; v >= 0 && code[i] != '-' {
			counts[v]++
			n++
		}
	}
}

// checkUniform fails when the chi-squared statistic of counts (18 degrees
// of freedom) exceeds 63, which a uniform source does with probability
// about 10^-6: a biased rejection sampler (b%19 over all 256 byte values)
// scores in the thousands at this sample size.
func checkUniform(t *testing.T, counts []int) {
	t.Helper()
	total := 0
	for _, c := range counts {
		total += c
	}
	want := float64(total) / float64(len(counts))
	chi2 := 0.0
	for _, c := range counts {
		chi2 += math.Pow(float64(c)-want, 2) / want
	}
	if chi2 > 63 {
		t.Errorf("character counts %v are not uniform: chi² = %.1f", counts, chi2)
	}
}

func TestGenerateBatch_SkipsExisting(t *testing.T) {
	t.Parallel()
	// The same seed draws the same codes: the first 100 of a batch already
	// exist, so a second batch must skip exactly them and then continue.
	issued, err := GenerateBatch(seeded(7), Spec{}, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, c := range issued {
		exists[c] = true
	}
	asked := 0
	codes, err := GenerateBatch(seeded(7), Spec{}, 50, func(c string) bool { asked++; return exists[c] })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if exists[c] {
			t.Errorf("batch returned existing code %s", c)
		}
	}
	if len(codes) != 50 || asked != 150 {
		t.Errorf("got %d codes after %d exists calls, want 50 after 150", len(codes), asked)
	}
}

// repeatReader returns the same byte forever: every draw is the same code.
type repeatReader struct{}

func (repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 5
	}
	return len(p), nil
}

func TestGenerateBatch_Errors(t *testing.T) {
	t.Parallel()
	short := Spec{BodyLen: MinBodyLen} // 19^8 ≈ 1.7·10^10: at most 16,983 codes a batch
	tests := []struct {
		name    string
		rand    func() io.Reader
		spec    Spec
		n       int
		exists  func(string) bool
		want    error  // nil: any error
		message string // a part of the message
	}{
		{"space too small", cryptoRand, short, 16_984, nil, ErrSpaceTooSmall, "use at least 9"},
		{"much too small", cryptoRand, short, MaxBatch, nil, ErrSpaceTooSmall, "use at least 11"},
		{"over MaxBatch", cryptoRand, Spec{}, MaxBatch + 1, nil, nil, "batch size"},
		{"negative", cryptoRand, Spec{}, -1, nil, nil, "batch size"},
		{"bad spec", cryptoRand, Spec{Prefix: "no"}, 1, nil, ErrSpec, "prefix"},
		{"every code exists", cryptoRand, Spec{}, 10, func(string) bool { return true }, ErrCrowded, "102 candidates skipped, 0 codes made"},
		{"randomness repeats", func() io.Reader { return repeatReader{} }, Spec{}, 2, nil, ErrCrowded, ""},
		{"randomness runs out", func() io.Reader { return strings.NewReader("01234") }, Spec{}, 1, nil, nil, "reading randomness"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			codes, err := GenerateBatch(tt.rand(), tt.spec, tt.n, tt.exists)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("GenerateBatch = %d codes, %v; want %v containing %q", len(codes), err, tt.want, tt.message)
			}
			if codes != nil {
				t.Errorf("got %d codes with the error, want none", len(codes))
			}
		})
	}
}

func cryptoRand() io.Reader { return crand.Reader }

func TestGenerateBatch_Sizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		n    int
	}{
		{"zero", Spec{}, 0},
		{"one", Spec{}, 1},
		{"largest batch of the shortest body", Spec{BodyLen: MinBodyLen}, 16_983},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			codes, err := GenerateBatch(crand.Reader, tt.spec, tt.n, nil)
			if err != nil || len(codes) != tt.n {
				t.Fatalf("GenerateBatch(%d) = %d codes, %v", tt.n, len(codes), err)
			}
		})
	}
}

func TestFingerprint_Distinct(t *testing.T) {
	t.Parallel()
	// Bodies differing in one symbol, at any position up to 24, never share
	// a fingerprint (the hash is exact for 12 symbols and a bijection of
	// each half beyond).
	base := make([]byte, MaxBodyLen)
	seen := newFingerprintSet(MaxBodyLen * radix)
	seen.add(fingerprint(base))
	for i := range base {
		for v := byte(1); v < radix; v++ {
			b := append([]byte(nil), base...)
			b[i] = v
			if !seen.add(fingerprint(b)) {
				t.Fatalf("fingerprint collision at position %d value %d", i, v)
			}
		}
	}
}

func TestFingerprintSet_Add(t *testing.T) {
	t.Parallel()
	s := newFingerprintSet(3)
	steps := []struct {
		f    uint64
		want bool
	}{
		{5, true}, {5, false}, {0, true}, {1, false}, // 0 is stored as 1
		{5 + 64, true}, {5 + 128, true}, {5 + 64, false}, // same slot, probed further
		{63, true}, {63 + 64, true}, {63 + 64, false}, // wraps around the end
	}
	for _, st := range steps {
		if got := s.add(st.f); got != st.want {
			t.Errorf("add(%d) = %v, want %v", st.f, got, st.want)
		}
	}
}

// BenchmarkGenerateBatch makes a million default codes from crypto/rand.
func BenchmarkGenerateBatch(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		if _, err := GenerateBatch(crand.Reader, Spec{Prefix: "HK50"}, n, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/code")
}
