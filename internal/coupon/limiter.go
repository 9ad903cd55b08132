package coupon

import (
	"container/list"
	"sync"
	"time"
)

// LimiterConfig tunes a GuessLimiter. Zero fields take the defaults.
type LimiterConfig struct {
	// MaxFailures failed guesses within Window lock the key (default 10).
	MaxFailures int
	// Window is how long failures are counted together, from the first
	// one (default 10 minutes).
	Window time.Duration
	// Lockout is the first lockout; each further one doubles it (default
	// 1 minute), up to MaxLockout (default 24 hours).
	Lockout    time.Duration
	MaxLockout time.Duration
	// Forget is how long a key must go without a failure before it is
	// forgotten, lockout history included (default, and at least,
	// MaxLockout and Window, so that no lockout or window is cut short).
	Forget time.Duration
	// MaxKeys bounds memory (default 100,000 keys, some 20 MB). When full,
	// the key whose last failure is oldest is forgotten first.
	MaxKeys int
}

func (c LimiterConfig) withDefaults() LimiterConfig {
	c.MaxFailures = orDefault(c.MaxFailures, 10)
	c.Window = orDefault(c.Window, 10*time.Minute)
	c.Lockout = orDefault(c.Lockout, time.Minute)
	c.MaxLockout = max(orDefault(c.MaxLockout, 24*time.Hour), c.Lockout)
	c.Forget = max(c.Forget, c.MaxLockout, c.Window)
	c.MaxKeys = orDefault(c.MaxKeys, 100_000)
	return c
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// GuessLimiter throttles failed guesses per key: the API layer asks Allow
// before looking a code up and calls Fail when the code is unknown. The key
// is the caller's choice (API key id, customer id, client address). After
// MaxFailures failures in a Window the key is locked for Lockout, doubling
// with every further lockout, so a steady guesser soon gets a handful of
// guesses a day. Failures reported while locked (requests that passed Allow
// together) still count and can lock again at once.
//
// Time is always passed in; memory is bounded by MaxKeys and by forgetting
// quiet keys. A GuessLimiter is safe for concurrent use; its state is in
// memory, per process.
type GuessLimiter struct {
	cfg  LimiterConfig
	mu   sync.Mutex
	keys map[string]*list.Element // of *guesser
	lru  *list.List               // *guesser, oldest last failure first
}

// guesser is the failure record of one key.
type guesser struct {
	key         string
	windowStart time.Time
	failures    int // in the current window
	strikes     int // lockouts so far
	lockedUntil time.Time
	lastFail    time.Time
}

// NewGuessLimiter returns an empty limiter.
func NewGuessLimiter(cfg LimiterConfig) *GuessLimiter {
	return &GuessLimiter{cfg: cfg.withDefaults(), keys: map[string]*list.Element{}, lru: list.New()}
}

// Allow reports whether key may guess at now and, if not, how long it must
// wait. It records nothing.
func (l *GuessLimiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.keys[key]
	if el == nil {
		return true, 0
	}
	if g := el.Value.(*guesser); now.Before(g.lockedUntil) {
		return false, g.lockedUntil.Sub(now)
	}
	return true, 0
}

// Fail records a failed guess by key at now, locking the key when it
// reaches MaxFailures in its window.
func (l *GuessLimiter) Fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetQuiet(now)
	g := l.touch(key, now)
	if now.Sub(g.windowStart) >= l.cfg.Window {
		g.windowStart, g.failures = now, 0
	}
	if g.failures++; g.failures >= l.cfg.MaxFailures {
		g.strikes++
		g.lockedUntil = now.Add(l.lockout(g.strikes))
		g.windowStart, g.failures = now, 0
	}
}

// lockout is Lockout·2^(strikes-1), at most MaxLockout.
func (l *GuessLimiter) lockout(strikes int) time.Duration {
	d := l.cfg.Lockout
	for i := 1; i < strikes && d < l.cfg.MaxLockout; i++ {
		d *= 2
	}
	return min(d, l.cfg.MaxLockout)
}

// touch returns key's record, created if new, and marks it as the most
// recent failure, forgetting the oldest key when over MaxKeys.
func (l *GuessLimiter) touch(key string, now time.Time) *guesser {
	if el := l.keys[key]; el != nil {
		l.lru.MoveToBack(el)
		g := el.Value.(*guesser)
		g.lastFail = now
		return g
	}
	g := &guesser{key: key, lastFail: now}
	l.keys[key] = l.lru.PushBack(g)
	for l.lru.Len() > l.cfg.MaxKeys {
		l.remove(l.lru.Front())
	}
	return g
}

// forgetQuiet drops keys without a failure for Forget. The list is in
// order of last failure, so it stops at the first recent one (if clocks
// passed in go backwards the order is only roughly kept, which delays a
// removal but never loses a lockout: Forget outlasts any lockout).
func (l *GuessLimiter) forgetQuiet(now time.Time) {
	for el := l.lru.Front(); el != nil; el = l.lru.Front() {
		if now.Sub(el.Value.(*guesser).lastFail) < l.cfg.Forget {
			return
		}
		l.remove(el)
	}
}

func (l *GuessLimiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*guesser).key)
	l.lru.Remove(el)
}

// Len reports how many keys the limiter remembers.
func (l *GuessLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
