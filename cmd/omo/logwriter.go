package main

import (
	"io"
	"sync"
	"time"
)

// logWriter batches log lines: the server logs one line per request, and at
// 10,000 requests/s one write(2) per line cost more CPU than the lookup it
// described. Lines wait at most flushEvery, or until 64 KiB have gathered;
// Close writes what is left, so a clean shutdown loses nothing (a crash loses
// at most the last flushEvery of log lines, never data).
type logWriter struct {
	mu     sync.Mutex
	out    io.Writer
	buf    []byte
	stop   chan struct{}
	done   chan struct{}
	close  sync.Once
	closed bool // after Close, lines go straight out (goroutines that outlive shutdown)
}

const (
	logFlushEvery = 100 * time.Millisecond
	logBufferMax  = 64 << 10
)

func newLogWriter(out io.Writer) *logWriter {
	w := &logWriter{out: out, buf: make([]byte, 0, logBufferMax), stop: make(chan struct{}), done: make(chan struct{})}
	go w.flushLoop()
	return w
}

// Write keeps one whole line (slog writes a record in one call).
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > logBufferMax {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) > logBufferMax {
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *logWriter) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// Flush writes the lines gathered so far.
func (w *logWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *logWriter) flushLoop() {
	defer close(w.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = w.Flush()
		case <-w.stop:
			return
		}
	}
}

// Close stops the flusher and writes what is left.
func (w *logWriter) Close() error {
	w.close.Do(func() {
		close(w.stop)
		<-w.done
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.flushLocked()
}
