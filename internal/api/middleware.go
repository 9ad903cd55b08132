package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"
)

type requestIDKey struct{}

// RequestID returns the request id stored in ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// withRequestID gives every request an id (the client's X-Request-Id when it
// is sane), in the context for logs and in the response header.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := r.Header.Get("X-Request-Id")
		if !clientRequestID.MatchString(rid) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			rid = "req_" + hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", rid)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid)))
	})
}

// recorder passes a response through and remembers its status and size,
// and with keep a copy of the body (for idempotent replay).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	keep   bool
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.keep {
		r.body.Write(b)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe logs every request and records its metrics, labelled by the route
// pattern (not the raw path, which would explode the label space).
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				if rec.status == 0 {
					writeProblem(rec, newProblem(http.StatusInternalServerError, "internal error; quote the X-Request-Id header when reporting it"))
				}
			}
			took := time.Since(start)
			route := s.routeOf(r)
			s.metrics.observeRequest(r.Method, route, rec.status, took)
			s.log.LogAttrs(r.Context(), levelFor(rec.status), "request",
				slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Int("bytes", rec.bytes), slog.Duration("took", took))
		}()
		next.ServeHTTP(rec, r)
	})
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// routeOf names the route a request matched, "unmatched" otherwise.
func (s *server) routeOf(r *http.Request) string {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		return pattern
	}
	return "unmatched"
}

// writeProblem writes a problem outside huma (middleware answers).
func writeProblem(w http.ResponseWriter, p interface{ GetStatus() int }) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.GetStatus())
	_ = json.NewEncoder(w).Encode(p)
}

// limitBody caps request bodies; huma and the idempotency layer both read
// through this limit and answer 413 past it.
// A route may allow more than the default (file uploads): larger lists them.
func limitBody(def int64, larger map[string]int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := def
		if l, ok := larger[r.Method+" "+r.URL.Path]; ok {
			max = l
		}
		if r.ContentLength > max {
			writeProblem(w, newProblem(http.StatusRequestEntityTooLarge, "request body is larger than "+strconv.FormatInt(max, 10)+" bytes"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		if r.Header.Get("Content-Type") == "" && r.ContentLength != 0 && r.Method != http.MethodGet {
			r.Header.Set("Content-Type", "application/json") // the API speaks only JSON
		}
		next.ServeHTTP(w, r)
	})
}

// logHandler adds the request id from the context to every log line.
type logHandler struct{ slog.Handler }

// NewLogHandler wraps h so that records logged with a request context carry
// its request_id.
func NewLogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if rid := RequestID(ctx); rid != "" {
		r.AddAttrs(slog.String("request_id", rid))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(as)}
}
func (h logHandler) WithGroup(n string) slog.Handler { return logHandler{h.Handler.WithGroup(n)} }
