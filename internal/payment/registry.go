package payment

import (
	"github.com/omo-platform/omo/internal/apperr"
)

// Config chooses the providers. The offline provider is always present;
// Stripe when StripeSecretKey is set (suggested environment: OMO_STRIPE_SECRET_KEY,
// OMO_STRIPE_WEBHOOK_SECRET, OMO_STRIPE_API_BASE).
type Config struct {
	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string // empty: Stripe itself; a stripe-mock address for tests and local runs
}

// Registry finds the provider for a method at checkout, and a payment's
// provider by the name stored with it for refunds and cancels.
type Registry struct {
	byName   map[string]Provider
	byMethod map[Method]Provider
	methods  []Method
	stripe   *Stripe
}

// NewRegistry builds the providers cfg asks for. It fails when the Stripe
// settings are incomplete or malformed; it makes no request.
func NewRegistry(cfg Config) (*Registry, error) {
	providers := []Provider{Offline{}}
	var st *Stripe
	if cfg.StripeSecretKey != "" || cfg.StripeWebhookSecret != "" || cfg.StripeAPIBase != "" {
		var err error
		st, err = NewStripe(StripeConfig{SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase})
		if err != nil {
			return nil, err
		}
		providers = append(providers, st)
	}
	r := NewRegistryOf(providers...)
	r.stripe = st
	return r, nil
}

// NewRegistryOf builds a registry over given providers; for a method two
// providers take, the first wins.
func NewRegistryOf(providers ...Provider) *Registry {
	r := &Registry{byName: map[string]Provider{}, byMethod: map[Method]Provider{}}
	for _, p := range providers {
		r.byName[p.Name()] = p
		if s, ok := p.(*Stripe); ok && r.stripe == nil {
			r.stripe = s
		}
		for _, m := range p.Methods() {
			if _, taken := r.byMethod[m]; !taken {
				r.byMethod[m] = p
				r.methods = append(r.methods, m)
			}
		}
	}
	return r
}

// ForMethod is the provider that takes m. Errors: apperr Invalid at
// "payment.method" naming the methods this installation takes.
func (r *Registry) ForMethod(m Method) (Provider, error) {
	if p, ok := r.byMethod[m]; ok {
		return p, nil
	}
	return nil, apperr.Field("payment.method", "this installation does not take "+string(m)+"; it takes "+joinMethods(r.methods), string(m))
}

// Provider is the provider of that name (stored with a payment). Errors:
// apperr Internal when the provider is no longer configured, since a stored
// payment names it.
func (r *Registry) Provider(name string) (Provider, error) {
	if p, ok := r.byName[name]; ok {
		return p, nil
	}
	return nil, apperr.New(apperr.Internal, "payment provider %q is not configured", name)
}

// Methods lists the methods some provider takes, offline ones first.
func (r *Registry) Methods() []Method { return append([]Method(nil), r.methods...) }

// Stripe is the Stripe provider, for the webhook endpoint; nil when Stripe is
// not configured.
func (r *Registry) Stripe() *Stripe { return r.stripe }
