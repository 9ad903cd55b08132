package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
)

// keyCacheTTL bounds how long a revoked key keeps working in another process.
// A key revoked through this process stops at once.
const keyCacheTTL = 10 * time.Second

type cachedKey struct {
	key auth.APIKey
	at  time.Time
}

// authenticator verifies bearer keys and applies per-key rate limits.
type authenticator struct {
	s        *server
	mu       sync.Mutex
	keys     map[string]cachedKey // by secret hash
	limiters map[string]*rate.Limiter
}

func newAuthenticator(s *server) *authenticator {
	return &authenticator{s: s, keys: map[string]cachedKey{}, limiters: map[string]*rate.Limiter{}}
}

// middleware authenticates /v1 requests, then rate-limits them per key.
func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tracking := isSegmentPath(r.URL.Path)
		if tracking && segmentPreflight(w, r) {
			return
		}
		secret, ok := bearer(r)
		if !ok && tracking {
			secret, ok = writeKey(r)
		}
		if !ok {
			if tracking {
				w.Header().Set("WWW-Authenticate", `Basic realm="omo"`)
				writeProblem(w, newProblem(http.StatusUnauthorized, "send the write key as the Basic-auth user name (empty password), as writeKey in the body, or as Authorization: Bearer"))
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="omo"`)
			writeProblem(w, newProblem(http.StatusUnauthorized, "send an API key as Authorization: Bearer sk_…"))
			return
		}
		k, err := a.lookup(r.Context(), secret)
		if err != nil {
			status := statusOf(apperr.KindOf(err))
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="omo", error="invalid_token"`)
			}
			writeProblem(w, newProblem(status, a.s.detail(r.Context(), err)))
			return
		}
		if wait, ok := a.allow(r.Context(), k); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeProblem(w, newProblem(http.StatusTooManyRequests, "rate limit exceeded for this API key; retry after the Retry-After seconds"))
			return
		}
		p := auth.Principal{TenantID: k.TenantID, KeyID: k.ID, Kind: k.Kind, Scopes: k.Scopes}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || auth.KindOf(strings.TrimSpace(token)) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// writeKey reads a tracking request's write key the ways Segment's
// libraries send it: as the Basic-auth user name with an empty password, or
// as writeKey in the JSON body (which is then put back for the handler).
func writeKey(r *http.Request) (string, bool) {
	if user, _, ok := r.BasicAuth(); ok {
		user = strings.TrimSpace(user)
		return user, auth.KindOf(user) != ""
	}
	if r.Body == nil {
		return "", false
	}
	raw, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil {
		return "", false
	}
	var body struct {
		WriteKey string `json:"writeKey"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return "", false
	}
	k := strings.TrimSpace(body.WriteKey)
	return k, auth.KindOf(k) != ""
}

func (a *authenticator) lookup(ctx context.Context, secret string) (auth.APIKey, error) {
	h := auth.HashHex(secret)
	a.mu.Lock()
	c, ok := a.keys[h]
	a.mu.Unlock()
	if ok && time.Since(c.at) < keyCacheTTL {
		return c.key, nil
	}
	k, err := a.s.db.FindKeyBySecret(ctx, secret)
	if err != nil {
		return k, err
	}
	a.mu.Lock()
	a.keys[h] = cachedKey{key: k, at: time.Now()}
	a.mu.Unlock()
	return k, nil
}

// forget drops a revoked key from the cache.
func (a *authenticator) forget(keyID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, c := range a.keys {
		if c.key.ID == keyID {
			delete(a.keys, h)
		}
	}
}

// allow takes a token from the key's bucket (rate from the tenant's settings,
// burst of two seconds' worth), or says how long to wait.
func (a *authenticator) allow(ctx context.Context, k auth.APIKey) (time.Duration, bool) {
	a.mu.Lock()
	l, ok := a.limiters[k.ID]
	a.mu.Unlock()
	if !ok {
		perSecond := 1000
		if t, err := a.s.db.FindTenantByID(ctx, k.TenantID); err == nil {
			perSecond = t.Settings.RateLimitPerSecond
		}
		l = rate.NewLimiter(rate.Limit(perSecond), 2*perSecond)
		a.mu.Lock()
		a.limiters[k.ID] = l
		a.mu.Unlock()
	}
	res := l.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return d, false
	}
	return 0, true
}

// resetLimiter makes the next request re-read the tenant's rate.
func (a *authenticator) resetLimiters() {
	a.mu.Lock()
	a.limiters = map[string]*rate.Limiter{}
	a.mu.Unlock()
}

// principal returns the caller, checking it holds scope.
// principalWithID is principal for an operation on one object: the caller,
// checked for scope, and the stored form of the object's public id (a
// malformed id is NotFound, like any id that does not exist).
func principalWithID(ctx context.Context, scope, prefix, public string) (auth.Principal, string, error) {
	p, err := principal(ctx, scope)
	if err != nil {
		return p, "", err
	}
	stored, err := id.Parse(prefix, public)
	return p, stored, err
}

func principal(ctx context.Context, scope string) (auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return p, apperr.New(apperr.Unauthorized, "no API key")
	}
	if !p.Can(scope) {
		return p, apperr.New(apperr.Forbidden, "this API key lacks the %s scope", scope)
	}
	return p, nil
}
