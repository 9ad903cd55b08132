package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/sqldb"
)

// idempotent replays the stored answer of a mutating request sent again with
// the same Idempotency-Key and body, for IdempotencyTTL. The same key with a
// different body is 422; a retry while the first is still running is 409.
func (s *server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 {
			writeProblem(w, newProblem(http.StatusBadRequest, "Idempotency-Key is longer than 255 characters"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeProblem(w, bodyProblem(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p, _ := auth.PrincipalFrom(r.Context())
		req := sqldb.IdempotentRequest{TenantID: p.TenantID, Key: key, Hash: requestHash(r, body), Method: r.Method, Path: r.URL.Path}
		stored, err := s.db.BeginIdempotent(r.Context(), req)
		if err != nil {
			s.writeIdempotencyError(w, r, err)
			return
		}
		if stored != nil {
			replay(w, stored)
			return
		}
		rec := &recorder{ResponseWriter: w, keep: true}
		next.ServeHTTP(rec, r)
		resp := sqldb.StoredResponse{Status: rec.status, Body: withoutSecret(rec.body.Bytes()), ContentType: w.Header().Get("Content-Type")}
		if err := s.db.FinishIdempotent(r.Context(), req, resp, customerIDOf(resp.Body)); err != nil {
			s.log.ErrorContext(r.Context(), "store idempotent response", "error", err)
		}
	})
}

func (s *server) writeIdempotencyError(w http.ResponseWriter, r *http.Request, err error) {
	switch apperr.KindOf(err) {
	case apperr.Invalid:
		writeProblem(w, newProblem(http.StatusUnprocessableEntity, s.detail(r.Context(), err)))
	case apperr.Conflict:
		w.Header().Set("Retry-After", "1")
		writeProblem(w, newProblem(http.StatusConflict, s.detail(r.Context(), err)))
	default:
		writeProblem(w, newProblem(http.StatusInternalServerError, s.detail(r.Context(), err)))
	}
}

// requestHash fingerprints what makes two requests "the same": method, path,
// query and body.
func requestHash(r *http.Request, body []byte) string {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func replay(w http.ResponseWriter, s *sqldb.StoredResponse) {
	if s.Body == nil && s.Status == http.StatusGone {
		// Scrubbed after an erasure: the answer held personal data.
		writeProblem(w, newProblem(http.StatusGone, "the stored response for this Idempotency-Key was erased with the customer's data"))
		return
	}
	if s.ContentType != "" {
		w.Header().Set("Content-Type", s.ContentType)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(s.Status)
	_, _ = w.Write(s.Body)
}

// withoutSecret drops a "secret" field (a new API key's) from a response
// before it is stored: secrets are shown once and never kept. A replay
// answers without it.
func withoutSecret(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"secret"`)) {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	delete(m, "secret")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// customerIDOf finds the customer a stored response is about, so that an
// erasure can scrub it.
func customerIDOf(body []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &v) != nil || !strings.HasPrefix(v.ID, "cus_") {
		return ""
	}
	raw := strings.TrimPrefix(v.ID, "cus_")
	if len(raw) != 32 {
		return ""
	}
	return raw[0:8] + "-" + raw[8:12] + "-" + raw[12:16] + "-" + raw[16:20] + "-" + raw[20:]
}

func bodyProblem(err error) interface{ GetStatus() int } {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return newProblem(http.StatusRequestEntityTooLarge, "request body is too large")
	}
	return newProblem(http.StatusBadRequest, "could not read the request body")
}
