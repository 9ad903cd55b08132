package coupon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxBatch bounds one GenerateBatch call (under 1 GB of codes and index);
// make larger runs as several batches with an exists function.
const MaxBatch = 10_000_000

// spaceFactor is how many possible codes a batch needs per code it asks
// for. 1/1000 of the space would be enough to keep collisions rare, but it
// would let one random guess in a thousand hit a code; with at most a
// millionth of the space issued, a guess hits with probability under 10^-6
// even for the shortest body, and collisions are rarer still. The default
// body allows a batch of 15 million million.
const spaceFactor = 1_000_000

var (
	// ErrSpaceTooSmall means the spec's code space is too small for the
	// batch asked: use a longer body.
	ErrSpaceTooSmall = errors.New("coupon: code space too small for the batch")
	// ErrCrowded means too many drawn codes already existed: the codes
	// already issued fill too much of the space (or exists is wrong).
	ErrCrowded = errors.New("coupon: too many collisions with existing codes")
)

// GenerateBatch returns n distinct new codes in canonical form. It draws
// codes as Generate does, skipping any already drawn in this batch and any
// for which exists (if not nil) returns true. exists is called once per
// candidate, so it should be fast: an in-memory set of the codes already
// issued, for instance; the database's unique constraint stays the last
// guard.
//
// It refuses n outside 0..MaxBatch and (ErrSpaceTooSmall) n above a
// millionth of the spec's code space (19^BodyLen), and gives up
// (ErrCrowded) after n/10+100 skipped candidates. Other errors wrap ErrSpec
// or come from rand. On error it returns no codes.
func GenerateBatch(rand io.Reader, spec Spec, n int, exists func(string) bool) ([]string, error) {
	spec, err := spec.resolve()
	if err != nil {
		return nil, err
	}
	if err := checkBatchSize(spec, n); err != nil {
		return nil, err
	}
	// One large read from rand instead of one per code: each crypto/rand
	// read has a fixed cost.
	r := bufio.NewReaderSize(rand, 64<<10)
	skips, maxSkips := 0, n/10+100
	seen := newFingerprintSet(n + maxSkips + 1) // every code and every skip but the last is added
	codes := make([]string, 0, n)
	var body [MaxBodyLen]byte
	var scratch [8]byte
	for len(codes) < n {
		b := body[:spec.BodyLen]
		if err := drawBody(r, b, &scratch); err != nil {
			return nil, err
		}
		code, ok := newCode(spec, b, seen, exists)
		if !ok {
			if skips++; skips > maxSkips {
				return nil, fmt.Errorf("%w: %d candidates skipped, %d codes made", ErrCrowded, skips, len(codes))
			}
			continue
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// newCode formats body unless it was drawn before in this batch or exists.
func newCode(spec Spec, body []byte, seen *fingerprintSet, exists func(string) bool) (string, bool) {
	if !seen.add(fingerprint(body)) {
		return "", false
	}
	code := spec.format(body)
	if exists != nil && exists(code) {
		return "", false
	}
	return code, true
}

// fingerprint hashes a body to 64 bits. Two bodies may share one (about
// n/2^64 chance a draw); the batch then skips a new code, which costs only
// another draw.
func fingerprint(body []byte) uint64 {
	var lo, hi uint64
	for i, s := range body {
		if i < 12 {
			lo |= uint64(s) << (5 * i)
		} else {
			hi |= uint64(s) << (5 * (i - 12))
		}
	}
	return mix(lo ^ mix(hi))
}

// mix is the SplitMix64 finalizer: it spreads the bits so that any slice
// of them indexes a table evenly.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// fingerprintSet is an insert-only open-addressing set of fingerprints,
// at most half full. For a million codes it is about twice as fast as a Go
// map, whose extra indirections cost a cache miss each at that size.
type fingerprintSet struct {
	slots []uint64 // 0 is empty, so the fingerprint 0 is stored as 1
	mask  uint64
}

// newFingerprintSet returns a set for up to n fingerprints. More would
// make add loop forever.
func newFingerprintSet(n int) *fingerprintSet {
	size := 64
	for size < 2*n {
		size *= 2
	}
	return &fingerprintSet{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// add inserts f and reports whether it was new.
func (s *fingerprintSet) add(f uint64) bool {
	f = max(f, 1)
	for i := f & s.mask; ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = f
			return true
		case f:
			return false
		}
	}
}

func checkBatchSize(spec Spec, n int) error {
	if n < 0 || n > MaxBatch {
		return fmt.Errorf("coupon: batch size %d is outside 0..%d", n, MaxBatch)
	}
	if float64(n)*spaceFactor <= codeSpace(spec.BodyLen) {
		return nil
	}
	need := spec.BodyLen
	for float64(n)*spaceFactor > codeSpace(need) {
		need++
	}
	return fmt.Errorf("%w: %d codes need %d times as many possible codes; a body of %d characters has %.3g; use at least %d",
		ErrSpaceTooSmall, n, spaceFactor, spec.BodyLen, codeSpace(spec.BodyLen), need)
}

// codeSpace is 19^bodyLen, the number of possible bodies, as a float: exact
// enough for a ratio, and 19^24 would overflow a uint64.
func codeSpace(bodyLen int) float64 { return math.Pow(radix, float64(bodyLen)) }
