package loyalty

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// bigMulDiv is a×b÷c and its remainder by math/big, saturated like MulDiv.
func bigMulDiv(a, b, c int64) (int64, int64) {
	q, r, ok := exactMulDiv(a, b, c)
	if !ok {
		return math.MaxInt64, 0
	}
	return q, r
}

// exactMulDiv is a×b÷c and its remainder by math/big; false when the
// quotient does not fit an int64.
func exactMulDiv(a, b, c int64) (q, r int64, ok bool) {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	bq, br := new(big.Int).QuoRem(p, big.NewInt(c), new(big.Int))
	if !bq.IsInt64() {
		return 0, 0, false
	}
	return bq.Int64(), br.Int64(), true
}

func TestMulDiv_Exact(t *testing.T) {
	t.Parallel()
	const e15, e18 = int64(1_000_000_000_000_000), int64(1_000_000_000_000_000_000)
	for _, tc := range []struct {
		name    string
		a, b, c int64
	}{
		{"small", 12345, 3, 7},
		{"zero product", 0, 1 << 62, 3},
		{"10^15 × 10^6 ÷ 7000", e15, 1_000_000, 7000},
		{"10^15 × 10^6 ÷ 7·10^6", e15, 1_000_000, 7_000_000},
		{"10^15 × 10^6 ÷ 1000", e15, 1_000_000, 1000},
		{"10^15 × 10^11 ÷ 10^18", e15, 100_000_000_000, e18}, // max amount × rate × multiplier
		{"10^15 × (10^11-1) ÷ (10^18-1)", e15, 99_999_999_999, e18 - 1},
		{"10^15 × 10^15 ÷ 10^12", e15, e15, 1_000_000_000_000},
		{"max × max ÷ max", math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{"max × (max-1) ÷ max", math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64},
		{"max × 2 ÷ 2", math.MaxInt64, 2, 2},
		{"max × 3 ÷ 4", math.MaxInt64, 3, 4},
		{"2^62 × 3 ÷ 2", 1 << 62, 3, 2},
		{"prime-ish", 999_999_999_989, 999_999_937, 1_000_003},
		{"divide by 1", 123_456_789, 1000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wq, wr, ok := exactMulDiv(tc.a, tc.b, tc.c)
			if !ok {
				t.Fatalf("bad case: the quotient does not fit an int64")
			}
			if q, r := MulDiv(tc.a, tc.b, tc.c); q != wq || r != wr {
				t.Errorf("MulDiv(%d, %d, %d) = %d r %d, want %d r %d", tc.a, tc.b, tc.c, q, r, wq, wr)
			}
		})
	}
}

func TestMulDiv_Saturates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		a, b, c int64
	}{
		{"max × max ÷ 1", math.MaxInt64, math.MaxInt64, 1},
		{"high word equals the divisor", 1 << 62, 4, 1},  // product 2^64: hi 1 ≥ c 1
		{"quotient 2^63 just over int64", 1 << 62, 2, 1}, // hi 0, quotient 2^63
		{"max × 2 ÷ 1", math.MaxInt64, 2, 1},             // 2^64-2
		{"10^15 × 10^15 ÷ 10", 1_000_000_000_000_000, 1_000_000_000_000_000, 10},
		{"max × max ÷ (max-1)", math.MaxInt64, math.MaxInt64, math.MaxInt64 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, r := MulDiv(tc.a, tc.b, tc.c)
			if q != math.MaxInt64 || r != 0 {
				t.Errorf("MulDiv(%d, %d, %d) = %d r %d, want saturation at %d r 0", tc.a, tc.b, tc.c, q, r, int64(math.MaxInt64))
			}
			if wq, _, ok := exactMulDiv(tc.a, tc.b, tc.c); ok {
				t.Fatalf("bad case: the exact quotient %d fits", wq)
			}
		})
	}
}

func TestMulDiv_RandomMatchesBig(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	// Magnitudes from tiny to full width, so both the 64- and 128-bit paths
	// and saturation are exercised.
	draw := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return rng.Int64N(1000)
		case 1:
			return rng.Int64N(1_000_000_000_000_000)
		case 2:
			return rng.Int64N(1 << 32)
		}
		return rng.Int64()
	}
	for range 20_000 {
		a, b, c := draw(), draw(), draw()+1
		if c <= 0 {
			c = 1
		}
		q, r := MulDiv(a, b, c)
		wq, wr := bigMulDiv(a, b, c)
		if q != wq || r != wr {
			t.Fatalf("MulDiv(%d, %d, %d) = %d r %d, want %d r %d", a, b, c, q, r, wq, wr)
		}
	}
}

func TestRound_Modes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		num, den          int64
		down, nearest, up int64
	}{
		{0, 7, 0, 0, 0},
		{10, 5, 2, 2, 2},
		{11, 5, 2, 2, 3},  // 2.2
		{12, 5, 2, 2, 3},  // 2.4
		{25, 10, 2, 3, 3}, // 2.5: half rounds up
		{13, 5, 2, 3, 3},  // 2.6
		{1, 3, 0, 0, 1},   // 0.33
		{2, 3, 0, 1, 1},   // 0.67
		{1, 2, 0, 1, 1},   // 0.5
		{999, 1000, 0, 1, 1},
		{499, 1000, 0, 0, 1},
		{500, 1000, 0, 1, 1},
		{1_000_000_000_000_000_001, 1_000_000_000_000_000_000, 1, 1, 2},
		{500_000_000_000_000_000, 1_000_000_000_000_000_000, 0, 1, 1}, // the largest denominator a rate gives
	} {
		for mode, want := range map[string]int64{RoundDown: tc.down, RoundNearest: tc.nearest, RoundUp: tc.up} {
			if got := round(tc.num, tc.den, mode); got != want {
				t.Errorf("round(%d, %d, %s) = %d, want %d", tc.num, tc.den, mode, got, want)
			}
		}
	}
}

func TestRoundedProduct_Modes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		amount, num, den  int64
		down, nearest, up int64
	}{
		{"exact", 10000, 1000, 1_000_000, 10, 10, 10},
		{"12.345", 12345, 1000, 1_000_000, 12, 12, 13},
		{"12.5", 12500, 1000, 1_000_000, 12, 13, 13},
		{"18.5175 (×1.5)", 12345, 1500, 1_000_000, 18, 19, 19},
		{"max amount × 10^11 ÷ 10^18", 1_000_000_000_000_000, 100_000_000_000, 1_000_000_000_000_000_000, 100_000_000, 100_000_000, 100_000_000},
		{"zero", 0, 1500, 1_000_000, 0, 0, 0},
	} {
		for mode, want := range map[string]int64{RoundDown: tc.down, RoundNearest: tc.nearest, RoundUp: tc.up} {
			if got := roundedProduct(tc.amount, tc.num, tc.den, mode); got != want {
				t.Errorf("%s: roundedProduct(%d, %d, %d, %s) = %d, want %d", tc.name, tc.amount, tc.num, tc.den, mode, got, want)
			}
		}
	}
}

func TestAllocate_Cases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		{"no weights", 5, nil, []int64{}},
		{"zero total", 0, []int64{1, 2}, []int64{0, 0}},
		{"exact proportion", 100, []int64{50, 30, 20}, []int64{50, 30, 20}},
		{"scaled proportion", 10, []int64{3000, 0, 7000}, []int64{3, 0, 7}},
		{"ties go to the earlier index", 10, []int64{1, 1, 1}, []int64{4, 3, 3}},
		{"two of three ties", 2, []int64{1, 1, 1}, []int64{1, 1, 0}},
		{"largest remainder wins over index", 1, []int64{1, 2}, []int64{0, 1}},
		{"largest remainder, several", 7, []int64{4200, 2800}, []int64{4, 3}},
		{"all zero split evenly", 7, []int64{0, 0, 0, 0}, []int64{2, 2, 2, 1}},
		{"all zero, fewer units than parts", 2, []int64{0, 0, 0}, []int64{1, 1, 0}},
		{"one part", 12345, []int64{9}, []int64{12345}},
		{"zero weight gets nothing", 3, []int64{0, 5, 0}, []int64{0, 3, 0}},
		{"large total", 1_000_000_000_000_000, []int64{1, 1, 1}, []int64{333_333_333_333_334, 333_333_333_333_333, 333_333_333_333_333}},
		{"large weights", 3, []int64{1_000_000_000_000_000, 2_000_000_000_000_000}, []int64{1, 2}},
		{"67/33", 100, []int64{20000, 10000}, []int64{67, 33}},
		{"85/43", 128, []int64{20000, 10000}, []int64{85, 43}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := allocate(tc.total, tc.weights)
			if !slices.Equal(got, tc.want) {
				t.Errorf("allocate(%d, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
			}
		})
	}
}

func TestAllocate_DoesNotChangeWeights(t *testing.T) {
	t.Parallel()
	w := []int64{3, 1, 0, 2}
	allocate(17, w)
	if !slices.Equal(w, []int64{3, 1, 0, 2}) {
		t.Errorf("weights changed to %v", w)
	}
}

// TestAllocate_Property: for random inputs the parts sum to the total, each
// is within one unit of its exact share (floor or ceiling), zero weights get
// nothing unless every weight is zero, and the split is deterministic.
func TestAllocate_Property(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20240229, 7))
	for iter := range 5000 {
		n := 1 + rng.IntN(20)
		weights := make([]int64, n)
		allZero := rng.IntN(10) == 0
		for i := range weights {
			switch {
			case allZero:
			case rng.IntN(4) == 0:
				weights[i] = 0
			case rng.IntN(2) == 0:
				weights[i] = rng.Int64N(100)
			default:
				weights[i] = rng.Int64N(1_000_000_000_000)
			}
		}
		var total int64
		switch rng.IntN(3) {
		case 0:
			total = rng.Int64N(int64(2 * n))
		case 1:
			total = rng.Int64N(100_000)
		default:
			total = rng.Int64N(1_000_000_000_000_000)
		}
		got := allocate(total, weights)
		if len(got) != n {
			t.Fatalf("iter %d: %d parts for %d weights", iter, len(got), n)
		}
		var sum, wsum int64
		for i := range got {
			sum += got[i]
			wsum += weights[i]
		}
		if sum != total {
			t.Fatalf("iter %d: allocate(%d, %v) sums to %d", iter, total, weights, sum)
		}
		w := weights
		if wsum == 0 {
			w = slices.Repeat([]int64{1}, n)
			wsum = int64(n)
		}
		for i, part := range got {
			// exact share = total·w/wsum; the part must be its floor or ceiling.
			floor, rem := bigMulDiv(total, w[i], wsum)
			if part != floor && !(rem != 0 && part == floor+1) {
				t.Fatalf("iter %d: allocate(%d, %v)[%d] = %d, exact share %d+%d/%d", iter, total, weights, i, part, floor, rem, wsum)
			}
			if part < 0 || (w[i] == 0 && part != 0) {
				t.Fatalf("iter %d: allocate(%d, %v)[%d] = %d", iter, total, weights, i, part)
			}
		}
		if again := allocate(total, weights); !slices.Equal(got, again) {
			t.Fatalf("iter %d: not deterministic: %v then %v", iter, got, again)
		}
	}
}
