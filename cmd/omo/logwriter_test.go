package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLogWriterKeepsEveryLineInOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines int
		size  int
	}{
		{"few short lines", 3, 40},
		{"more than one buffer", 5000, 100},
		{"lines larger than the buffer", 3, logBufferMax + 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			w := newLogWriter(&out)
			var want strings.Builder
			for i := range tc.lines {
				line := fmt.Sprintf("%06d %s\n", i, strings.Repeat("x", tc.size))
				want.WriteString(line)
				if n, err := w.Write([]byte(line)); err != nil || n != len(line) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != want.String() {
				t.Fatalf("got %d bytes, want %d (lines lost or reordered)", len(got), want.Len())
			}
		})
	}
}

func TestLogWriterFlushesOnItsOwn(t *testing.T) {
	var out syncBuffer
	w := newLogWriter(&out)
	defer w.Close()
	_, _ = w.Write([]byte("one line\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "one line\n" {
		if time.Now().After(deadline) {
			t.Fatalf("a line written was not flushed without Close: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogWriterWritesThroughAfterClose(t *testing.T) {
	var out syncBuffer
	w := newLogWriter(&out)
	_, _ = w.Write([]byte("before\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("after\n")) // a goroutine that outlived shutdown
	if got := out.String(); got != "before\nafter\n" {
		t.Fatalf("got %q", got)
	}
}
