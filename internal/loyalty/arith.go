package loyalty

import (
	"math/bits"
	"slices"
)

// MulDiv returns a×b÷c rounded down and the remainder, exactly: the product
// is held in 128 bits, so an amount of 10^15 minor units times a rate and a
// multiplier never overflows. The quotient saturates at the largest int64.
// a and b must not be negative; c must be positive.
func MulDiv(a, b, c int64) (q, rem int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 1<<63 - 1, 0
	}
	uq, ur := bits.Div64(hi, lo, uint64(c))
	if uq > 1<<63-1 {
		return 1<<63 - 1, 0
	}
	return int64(uq), int64(ur)
}

// round rounds num/den (den > 0, num ≥ 0) by the program's rounding mode.
func round(num, den int64, mode string) int64 {
	q, r := num/den, num%den
	switch {
	case r == 0:
	case mode == RoundUp:
		q++
	case mode == RoundNearest && 2*r >= den:
		q++
	}
	return q
}

// share is one part of a whole to be split: an index and its weight.
type share struct {
	index  int
	weight int64
}

// allocate splits total over weights in proportion, in whole units, by the
// largest remainder: the parts always add up to total exactly, and ties go to
// the earlier index, so the same input always splits the same way. All
// weights zero: the split is even.
func allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 || total == 0 {
		return out
	}
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		weights = slices.Repeat([]int64{1}, len(weights))
		sum = int64(len(weights))
	}
	rems := make([]share, len(weights))
	given := int64(0)
	for i, w := range weights {
		q, r := MulDiv(total, w, sum)
		out[i], given = q, given+q
		rems[i] = share{index: i, weight: r}
	}
	slices.SortStableFunc(rems, func(a, b share) int {
		switch {
		case a.weight > b.weight:
			return -1
		case a.weight < b.weight:
			return 1
		}
		return a.index - b.index
	})
	for i := int64(0); i < total-given; i++ {
		out[rems[i].index]++
	}
	return out
}

// Allocate splits total over weights in proportion by the largest
// remainder (see allocate); other domains split money the same way.
func Allocate(total int64, weights []int64) []int64 { return allocate(total, weights) }
