package customer

import (
	"fmt"
	"testing"
)

func TestPhoneCache_KeepsWhatTheLastGenerationUsed(t *testing.T) {
	t.Parallel()
	c := &phoneCache{}
	c.put("kept", phoneResult{e164: "+85291234567"})
	c.put("dropped", phoneResult{e164: "+85291234568"})
	fill := func(prefix string) {
		for i := range phoneCacheSize {
			c.put(fmt.Sprint(prefix, i), phoneResult{})
		}
	}
	fill("a") // "kept" and "dropped" move to the old generation
	if r, ok := c.get("kept"); !ok || r.e164 != "+85291234567" {
		t.Fatalf("kept after one generation: %+v %v", r, ok)
	}
	fill("b") // the old generation goes; "kept" was used, so it is young again
	if _, ok := c.get("dropped"); ok {
		t.Error("an entry unused for two generations is still there")
	}
	if r, ok := c.get("kept"); !ok || r.e164 != "+85291234567" {
		t.Errorf("an entry used in the last generation is gone: %+v %v", r, ok)
	}
	if n := len(c.young) + len(c.old); n > 2*phoneCacheSize {
		t.Errorf("%d entries, bound %d", n, 2*phoneCacheSize)
	}
}

func TestNormalizePhone_CountriesKeptApart(t *testing.T) {
	t.Parallel()
	// The same digits read in two countries are two numbers; the cache
	// must not answer one with the other.
	hk, err := NormalizePhone("9123 4567", "HK")
	if err != nil || hk != "+85291234567" {
		t.Fatalf("HK: %q %v", hk, err)
	}
	if sg, err := NormalizePhone("9123 4567", "SG"); err != nil || sg != "+6591234567" {
		t.Fatalf("SG: %q %v", sg, err)
	}
	if again, _ := NormalizePhone("9123 4567", "HK"); again != hk {
		t.Fatalf("HK again: %q", again)
	}
}

// BenchmarkNormalizePhone compares a number seen for the first time (the
// regular expressions of libphonenumber) with one seen before.
func BenchmarkNormalizePhone(b *testing.B) {
	b.Run("first_sight", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := normalizePhone(fmt.Sprint(61234567+i%100000), "HK"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("seen_before", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := NormalizePhone(fmt.Sprint(61234567+i%1000), "HK"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
