package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/event"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// segmentCalls are the single-call routes of the tracking API, by path.
var segmentCalls = map[string]string{
	"/v1/identify": event.TypeIdentify, "/v1/track": event.TypeTrack, "/v1/page": event.TypePage,
	"/v1/screen": event.TypeScreen, "/v1/group": event.TypeGroup, "/v1/alias": event.TypeAlias,
}

// isSegmentPath reports the routes of the Segment-compatible tracking API,
// the only ones that take a write key as Basic auth or in the body.
func isSegmentPath(path string) bool {
	_, ok := segmentCalls[path]
	return ok || path == "/v1/batch" || path == "/v1/import"
}

// segmentPreflight lets browser libraries call the tracking API from any
// origin; it answers a CORS preflight itself.
func segmentPreflight(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodOptions {
		return false
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// segmentRoutes registers the Segment-compatible tracking API (/v1/identify,
// /v1/track, /v1/batch, …). These routes follow Segment's HTTP tracking API
// rather than OMO's conventions (camelCase payloads, any content type), so
// they are plain handlers, documented in docs/api.md.
func (s *server) segmentRoutes() {
	for path, typ := range segmentCalls {
		s.mux.HandleFunc("POST "+path, s.segmentHandler(func(body []byte, at time.Time) (event.Batch, error) {
			return event.DecodeCall(typ, body, at)
		}))
	}
	s.mux.HandleFunc("POST /v1/batch", s.segmentHandler(event.DecodeBatch))
	s.mux.HandleFunc("POST /v1/import", s.segmentHandler(event.DecodeBatch))
	s.eventRoutes()
}

// SegmentAnswer is what the tracking API answers: Segment's
// {"success": true} and a report of each item not simply recorded.
type SegmentAnswer struct {
	Success      bool              `json:"success"`
	Accepted     int               `json:"accepted"`
	Duplicates   int               `json:"duplicates"`
	Dropped      []event.Dropped   `json:"dropped"`
	Notes        []SegmentNote     `json:"notes,omitempty"`
	Transactions []SegmentRecorded `json:"transactions,omitempty"`
}

// SegmentNote is something not done for an event that was kept.
type SegmentNote struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId"`
	Note      string `json:"note"`
}

// SegmentRecorded is the transaction an order event recorded (or found).
type SegmentRecorded struct {
	Index         int    `json:"index"`
	MessageID     string `json:"messageId"`
	TransactionID string `json:"transactionId"`
}

func (s *server) segmentHandler(decode func([]byte, time.Time) (event.Batch, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, err := principal(ctx, auth.ScopeEventsWrite)
		if err != nil {
			s.writeError(ctx, w, err)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, event.MaxBatchBytes+1))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeProblem(w, newProblem(http.StatusBadRequest, "the body is larger than 500 KB, Segment's limit for a batch"))
				return
			}
			writeProblem(w, newProblem(http.StatusBadRequest, "the body could not be read"))
			return
		}
		b, err := decode(raw, s.db.Now())
		if err != nil {
			writeProblem(w, newProblem(http.StatusBadRequest, err.Error()))
			return
		}
		ans := SegmentAnswer{Success: true, Dropped: b.Dropped}
		if ans.Dropped == nil {
			ans.Dropped = []event.Dropped{}
		}
		if len(b.Events) > 0 {
			res, err := s.db.RecordEvents(ctx, sqldb.RecordEventsParams{TenantID: p.TenantID, KeyID: p.KeyID, Events: b.Events, Actor: actor(ctx, p)})
			if err != nil {
				s.writeError(ctx, w, err)
				return
			}
			ans.add(b, res)
		}
		writeJSON(w, http.StatusOK, ans)
	}
}

// add reports what storage did with each decoded event.
func (a *SegmentAnswer) add(b event.Batch, res []sqldb.EventResult) {
	for i, r := range res {
		idx, mid := b.Indexes[i], b.Events[i].MessageID
		switch r.Status {
		case sqldb.EventAccepted:
			a.Accepted++
		case sqldb.EventDuplicate:
			a.Duplicates++
		case sqldb.EventDropped:
			a.Dropped = append(a.Dropped, event.Dropped{Index: idx, MessageID: mid, Reason: r.Reason})
		}
		if r.Status != sqldb.EventAccepted {
			continue
		}
		for _, n := range r.Notes {
			a.Notes = append(a.Notes, SegmentNote{Index: idx, MessageID: mid, Note: n})
		}
		if r.TransactionID != "" {
			a.Transactions = append(a.Transactions, SegmentRecorded{Index: idx, MessageID: mid, TransactionID: id.Format(id.Transaction, r.TransactionID)})
		}
	}
	sortDropped(a.Dropped)
}

func sortDropped(d []event.Dropped) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j].Index < d[j-1].Index; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// writeError writes a domain error as a problem outside huma.
func (s *server) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	if p, ok := s.problem(ctx, err).(interface{ GetStatus() int }); ok {
		writeProblem(w, p)
		return
	}
	writeProblem(w, newProblem(http.StatusInternalServerError, "internal error; quote the X-Request-Id header when reporting it"))
}
