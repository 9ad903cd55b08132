package routing

import "math/bits"

// noCover marks a set of lines no combination of locations fills whole.
const noCover = 255

// minCover answers, for every subset of the lines in union (bit i is line
// i of n), the fewest location masks whose union holds it. Some mask must
// hold the lowest line of a subset, so only those are tried for it: the
// work is about 2^n × (masks per line).
func minCover(union uint64, n int, masks map[uint64]bool) []uint8 {
	byLine := make([][]uint64, n)
	for m := range masks {
		for i := range n {
			if m&(1<<i) != 0 {
				byLine[i] = append(byLine[i], m)
			}
		}
	}
	dp := make([]uint8, 1<<n)
	for i := range dp {
		dp[i] = noCover
	}
	dp[0] = 0
	// Submasks of union in increasing order, so every s&^m is done before s.
	for s := -union & union; s != 0; s = (s - union) & union {
		low := bits.TrailingZeros64(s)
		best := uint8(noCover)
		for _, m := range byLine[low] {
			if v := dp[s&^m]; v < noCover && v+1 < best {
				best = v + 1
			}
		}
		dp[s] = best
	}
	return dp
}
