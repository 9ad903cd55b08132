package main

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// idleTrimmer hands memory back to the operating system once the API has gone
// quiet. Under load the Go runtime keeps the heap it grew (GOGC=200 lets it
// reach three times the live heap) and its scavenger returns it only slowly,
// so a process that served a burst would sit at its peak size for minutes.
// After idleAfter without a request it collects and releases everything it
// can, once per quiet spell.
type idleTrimmer struct {
	requests atomic.Uint64
	every    time.Duration // how long without a request counts as quiet
	release  func()        // debug.FreeOSMemory; tests count the calls
}

func newIdleTrimmer() *idleTrimmer {
	return &idleTrimmer{every: idleAfter, release: debug.FreeOSMemory}
}

const idleAfter = 2 * time.Second

// count wraps the API handler to count requests. Probes and scrapes do not
// count: a process scraped every 15 s is idle, and must not collect its whole
// heap after every scrape.
func (t *idleTrimmer) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
		default:
			t.requests.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// run trims after every quiet spell until ctx ends.
func (t *idleTrimmer) run(ctx context.Context) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	last, trimmed := t.requests.Load(), true
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := t.requests.Load()
		switch {
		case n != last:
			last, trimmed = n, false
		case !trimmed:
			t.release()
			trimmed = true
		}
	}
}
