package customer

import "sync"

// phoneResult is one remembered answer of normalizePhone.
type phoneResult struct {
	e164 string
	err  error
}

// phoneCacheSize bounds each generation of the cache: two generations of
// 16,384 numbers hold about 3 MB at most, which keeps an idle server small.
const phoneCacheSize = 1 << 14

// phones remembers recent answers of normalizePhone, a pure function of
// its inputs.
var phones = &phoneCache{}

// phoneCache is a two-generation cache: new answers go into young; when
// young is full it becomes old and a new young starts, so what was used in
// the last generation survives (a hit in old moves back to young) and the
// rest is dropped at once, without per-entry bookkeeping.
type phoneCache struct {
	mu         sync.Mutex
	young, old map[string]phoneResult
}

func (c *phoneCache) get(key string) (phoneResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.young[key]; ok {
		return r, true
	}
	r, ok := c.old[key]
	if ok {
		c.putLocked(key, r)
	}
	return r, ok
}

func (c *phoneCache) put(key string, r phoneResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, r)
}

func (c *phoneCache) putLocked(key string, r phoneResult) {
	if len(c.young) >= phoneCacheSize {
		c.old, c.young = c.young, nil
	}
	if c.young == nil {
		c.young = make(map[string]phoneResult, phoneCacheSize/4)
	}
	c.young[key] = r
}
