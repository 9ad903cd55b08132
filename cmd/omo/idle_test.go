package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestIdleTrimmerReleasesOncePerQuietSpell(t *testing.T) {
	var released atomic.Int32
	tr := &idleTrimmer{every: 20 * time.Millisecond, release: func() { released.Add(1) }}
	h := tr.count(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tr.run(ctx)

	waitFor := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for released.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("released %d times, want %d", released.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// A process that served nothing since it started has nothing to give back.
	time.Sleep(100 * time.Millisecond)
	if n := released.Load(); n != 0 {
		t.Fatalf("released %d times before any request", n)
	}
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}
	waitFor(1)
	time.Sleep(100 * time.Millisecond) // still quiet: no second release
	waitFor(1)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	waitFor(2)
	// Probes and scrapes leave a quiet process quiet.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	time.Sleep(100 * time.Millisecond)
	waitFor(2)
}
