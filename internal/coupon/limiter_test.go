package coupon

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// step is one call on a limiter: a failure, or an Allow with its expected
// answer, at a time relative to t0.
type step struct {
	at    time.Duration
	key   string // "a" unless set
	fail  int    // > 0: call Fail this many times; 0: call Allow
	ok    bool   // for Allow
	retry time.Duration
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestGuessLimiter_Steps(t *testing.T) {
	t.Parallel()
	small := LimiterConfig{MaxFailures: 3, Window: time.Minute, Lockout: 10 * time.Second, MaxLockout: 40 * time.Second}
	sec := time.Second
	tests := []struct {
		name  string
		cfg   LimiterConfig
		steps []step
	}{
		{"new key allowed", small, []step{{at: 0, ok: true}}},
		{"under the limit", small, []step{{at: 0, fail: 2}, {at: sec, ok: true}}},
		{"locked at the limit", small, []step{
			{at: 0, fail: 3}, {at: 0, ok: false, retry: 10 * sec}, {at: 4 * sec, ok: false, retry: 6 * sec}}},
		{"unlocked when the lockout ends", small, []step{
			{at: 0, fail: 3}, {at: 10*sec - 1, ok: false, retry: 1}, {at: 10 * sec, ok: true}}},
		{"failures in separate windows do not add up", small, []step{
			{at: 0, fail: 2}, {at: 59 * sec, ok: true}, {at: 60 * sec, fail: 2}, {at: 61 * sec, ok: true}}},
		{"the window starts at its first failure", small, []step{
			{at: 0, fail: 1}, {at: 30 * sec, fail: 1}, {at: 59 * sec, fail: 1}, {at: 59 * sec, ok: false, retry: 10 * sec}}},
		{"lockouts double", small, []step{
			{at: 0, fail: 3}, {at: 10 * sec, fail: 3}, {at: 10 * sec, ok: false, retry: 20 * sec},
			{at: 30 * sec, fail: 3}, {at: 30 * sec, ok: false, retry: 40 * sec}}},
		{"lockouts stop at MaxLockout", small, []step{
			{at: 0, fail: 3}, {at: 10 * sec, fail: 3}, {at: 30 * sec, fail: 3}, {at: 70 * sec, fail: 3},
			{at: 70 * sec, ok: false, retry: 40 * sec}}},
		{"failures while locked lock again", small, []step{
			{at: 0, fail: 3}, {at: sec, fail: 3}, {at: sec, ok: false, retry: 20 * sec}}},
		{"a quiet key is forgotten, history and all", small, []step{
			{at: 0, fail: 3}, {at: 10 * sec, fail: 3}, {at: 30*sec + 60*sec, key: "b", fail: 1}, // sweeps "a"
			{at: 90 * sec, fail: 3}, {at: 90 * sec, ok: false, retry: 10 * sec}}},
		{"keys are independent", small, []step{
			{at: 0, fail: 3}, {at: 0, key: "b", ok: true}, {at: 0, ok: false, retry: 10 * sec}}},
		{"oldest key evicted when full", LimiterConfig{MaxFailures: 1, Lockout: time.Hour, MaxKeys: 2}, []step{
			{at: 0, key: "a", fail: 1}, {at: sec, key: "b", fail: 1}, {at: 2 * sec, key: "c", fail: 1},
			{at: 3 * sec, key: "a", ok: true}, {at: 3 * sec, key: "b", ok: false, retry: time.Hour - 2*sec},
			{at: 3 * sec, key: "c", ok: false, retry: time.Hour - sec}}},
		{"defaults: 10 failures, 1 minute", LimiterConfig{}, []step{
			{at: 0, fail: 9}, {at: 0, ok: true}, {at: 0, fail: 1}, {at: 0, ok: false, retry: time.Minute}}},
		{"clock going backwards", small, []step{
			{at: 10 * sec, fail: 3}, {at: 5 * sec, ok: false, retry: 15 * sec}, {at: 0, fail: 1}, {at: 19 * sec, ok: false, retry: 1 * sec}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := NewGuessLimiter(tt.cfg)
			for i, s := range tt.steps {
				key := s.key
				if key == "" {
					key = "a"
				}
				now := t0.Add(s.at)
				if s.fail > 0 {
					for range s.fail {
						l.Fail(key, now)
					}
					continue
				}
				if ok, retry := l.Allow(key, now); ok != s.ok || retry != s.retry {
					t.Errorf("step %d: Allow(%q, +%v) = %v, %v; want %v, %v", i, key, s.at, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

func TestGuessLimiter_MemoryBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     LimiterConfig
		spacing time.Duration // between failures of successive keys
		want    int           // keys remembered after 10,000 keys failed once
	}{
		{"MaxKeys caps a burst", LimiterConfig{MaxKeys: 500}, 0, 500},
		{"quiet keys are swept", LimiterConfig{Forget: time.Hour, MaxLockout: time.Minute}, time.Second, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := NewGuessLimiter(tt.cfg)
			for i := range 10_000 {
				l.Fail(fmt.Sprint("key-", i), t0.Add(time.Duration(i)*tt.spacing))
			}
			if got := l.Len(); got != tt.want {
				t.Errorf("Len() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestGuessLimiter_Concurrent hammers one limiter from many goroutines; run
// with -race. Each key fails 20 times, over MaxFailures, so whatever the
// interleaving every key ends locked.
func TestGuessLimiter_Concurrent(t *testing.T) {
	t.Parallel()
	l := NewGuessLimiter(LimiterConfig{MaxFailures: 5})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprint("key-", i%100)
				if g%2 == 0 {
					l.Fail(key, t0)
				} else {
					l.Allow(key, t0)
				}
			}
		})
	}
	wg.Wait()
	for i := range 100 {
		if ok, _ := l.Allow(fmt.Sprint("key-", i), t0); ok {
			t.Errorf("key-%d is not locked", i)
		}
	}
}
