// Package api is OMO's HTTP API under /v1: typed handlers with huma, the
// OpenAPI 3.1 document, and the rules every route follows (bearer keys with
// scopes, tenant isolation, RFC 9457 problems, cursor pagination,
// Idempotency-Key, body and rate limits, request ids, metrics).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/payment"
	"github.com/omo-platform/omo/internal/sqldb"
)

// DefaultBodyLimit caps request bodies.
const DefaultBodyLimit = 1 << 20

// uploadLimits are the routes that take files, with their own caps.
var uploadLimits = map[string]int64{"POST /v1/imports": sqldb.MaxImportFile + 1<<20}

// Deps is what the API needs from the rest of the process.
type Deps struct {
	DB      *sqldb.DB
	Logger  *slog.Logger
	Metrics *Metrics
	// Gatherer serves /metrics; nil serves none.
	Gatherer prometheus.Gatherer
	Version  string
	// Ready reports whether background parts (job workers) are up, for /readyz.
	Ready     func() error
	BodyLimit int64
	// OpsOnly serves only /healthz, /readyz and /metrics (a worker process).
	OpsOnly bool
	// Payments are the payment providers checkout pays through (offline
	// only when nil).
	Payments *payment.Registry
}

type server struct {
	db      *sqldb.DB
	log     *slog.Logger
	metrics *Metrics
	mux     *http.ServeMux
	auth    *authenticator
	api     huma.API
	deps    Deps
	guesses *coupon.GuessLimiter
	payer   payer
}

var installOnce sync.Once

// NewHandler builds the whole HTTP surface: /v1 API, /openapi.json, /docs,
// /healthz, /readyz and /metrics.
func NewHandler(d Deps) http.Handler {
	installOnce.Do(installProblemModel)
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.BodyLimit <= 0 {
		d.BodyLimit = DefaultBodyLimit
	}
	if d.Payments == nil {
		d.Payments = payment.NewRegistryOf(payment.Offline{})
	}
	s := &server{db: d.DB, log: d.Logger, metrics: d.Metrics, mux: http.NewServeMux(), deps: d,
		guesses: coupon.NewGuessLimiter(coupon.LimiterConfig{}), payer: payer{reg: d.Payments}}
	s.auth = newAuthenticator(s)
	s.api = newAPI(s.mux, d.Version)
	s.routes()
	return withRequestID(s.observe(limitBody(d.BodyLimit, uploadLimits, s.guard(s.mux))))
}

// OpenAPI returns the API description without serving it, for `omo openapi`.
func OpenAPI(version string) *huma.OpenAPI {
	installOnce.Do(installProblemModel)
	s := &server{mux: http.NewServeMux(), log: slog.New(slog.DiscardHandler)}
	s.auth = newAuthenticator(s)
	s.api = newAPI(s.mux, version)
	s.routes()
	return s.api.OpenAPI()
}

func newAPI(mux *http.ServeMux, version string) huma.API {
	cfg := huma.DefaultConfig("OMO API", version)
	cfg.Info.Description = "OMO joins a retail brand's customers, orders, stock and campaigns across stores, web, app and chat apps. " +
		"All requests need `Authorization: Bearer <API key>`. Errors are RFC 9457 problems. Lists use cursor pagination. " +
		"Every POST, PATCH and DELETE accepts an `Idempotency-Key` header."
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = "/schemas"
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "A secret (sk_…) or publishable (pk_…) API key."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	cfg.CreateHooks = nil // no $schema links in responses
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	return humago.New(mux, cfg)
}

// guard puts /v1 behind authentication and idempotency; the rest is public.
func (s *server) guard(mux http.Handler) http.Handler {
	v1 := s.auth.middleware(s.idempotent(mux))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			v1.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /docs", s.docs)
	if s.deps.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path+"; see /docs"))
	})
	if s.deps.OpsOnly {
		return
	}
	s.keyRoutes()
	s.tenantRoutes()
	s.customerRoutes()
	s.locationRoutes()
	s.transactionRoutes()
	s.segmentRoutes()
	s.importRoutes()
	s.loyaltyProgramRoutes()
	s.loyaltyRuleRoutes()
	s.loyaltyAccountRoutes()
	s.loyaltyLiabilityRoutes()
	s.loyaltyHoldRoutes()
	s.loyaltyReferralRoutes()
	s.loyaltyRewardRoutes()
	s.cartRoutes()
	s.orderRoutes()
	s.inventoryRoutes()
	s.routingRuleRoutes()
	s.catalogRoutes()
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	check := map[string]string{"database": "ok", "jobs": "ok"}
	status := http.StatusOK
	if err := s.db.Ping(ctx); err != nil {
		check["database"], status = err.Error(), http.StatusServiceUnavailable
	}
	if s.deps.Ready != nil {
		if err := s.deps.Ready(); err != nil {
			check["jobs"], status = err.Error(), http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, check)
}

// detail is the client-visible message of an error.
func (s *server) detail(ctx context.Context, err error) string {
	if e, ok := err.(huma.StatusError); ok {
		return e.Error()
	}
	p := s.problem(ctx, err)
	return p.Error()
}

// schemaName names a type's schema as huma does, with the commerce
// packages' types prefixed ("Order" + Address), since several domains
// have types called Address, Line or Totals.
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	switch {
	case strings.HasSuffix(t.PkgPath(), "/internal/order"):
		return "Order" + name
	case strings.HasSuffix(t.PkgPath(), "/internal/sqldb"):
		return "Stored" + name
	}
	return name
}
