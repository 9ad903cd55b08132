// Package auth holds API keys and scopes: how a key is minted, how it is
// stored (only its hash), and what a key may do.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

// Key kinds, shown as the key's prefix.
const (
	Secret      = "sk" // server-side, any scope it was given
	Publishable = "pk" // may be embedded in a storefront; read-mostly scopes
)

// Scopes known today. Later modules add theirs to AllScopes.
const (
	ScopeCustomersRead  = "customers:read"
	ScopeCustomersWrite = "customers:write"
	ScopeKeysRead       = "keys:read"
	ScopeKeysWrite      = "keys:write"
	ScopeTenantRead     = "tenant:read"
	ScopeTenantWrite    = "tenant:write"
	// Locations and sales channels.
	ScopeLocationsRead  = "locations:read"
	ScopeLocationsWrite = "locations:write"
	// Purchases and returns; transactions:write may also resolve or create
	// the customer a sale names by identifiers.
	ScopeTransactionsRead  = "transactions:read"
	ScopeTransactionsWrite = "transactions:write"
	// Behavioural events (the Segment-compatible tracking API) and batch imports.
	ScopeEventsRead   = "events:read"
	ScopeEventsWrite  = "events:write"
	ScopeImportsRead  = "imports:read"
	ScopeImportsWrite = "imports:write"
	// Loyalty: program, tiers and rules (write), balances, ledgers and
	// quotes (read), manual point adjustments (adjust).
	ScopeLoyaltyRead   = "loyalty:read"
	ScopeLoyaltyWrite  = "loyalty:write"
	ScopeLoyaltyAdjust = "loyalty:adjust"
	ScopeCouponsRedeem = "coupons:redeem"
	// Commerce: products, variants and price lists (catalog); stock,
	// movements and reservations (inventory); carts, checkout, orders,
	// fulfilment, returns and routing rules (orders).
	ScopeCatalogRead    = "catalog:read"
	ScopeCatalogWrite   = "catalog:write"
	ScopeInventoryRead  = "inventory:read"
	ScopeInventoryWrite = "inventory:write"
	ScopeOrdersRead     = "orders:read"
	ScopeOrdersWrite    = "orders:write"
	ScopeAll            = "*"
)

// AllScopes lists every scope a key may carry, for validation and docs.
var AllScopes = []string{ScopeCustomersRead, ScopeCustomersWrite, ScopeKeysRead, ScopeKeysWrite, ScopeTenantRead, ScopeTenantWrite,
	ScopeLocationsRead, ScopeLocationsWrite, ScopeTransactionsRead, ScopeTransactionsWrite,
	ScopeEventsRead, ScopeEventsWrite, ScopeImportsRead, ScopeImportsWrite,
	ScopeLoyaltyRead, ScopeLoyaltyWrite, ScopeLoyaltyAdjust, ScopeCouponsRedeem,
	ScopeCatalogRead, ScopeCatalogWrite, ScopeInventoryRead, ScopeInventoryWrite, ScopeOrdersRead, ScopeOrdersWrite}

// APIKey is the stored form of a key: never the secret itself.
type APIKey struct {
	TenantID   string
	ID         string
	Kind       string
	Name       string
	Hint       string // the last four characters, to tell keys apart
	Scopes     []string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	CreatedBy  string
	SecretHash []byte
}

// Generate returns a new secret of the given kind and its hash. The secret has
// 160 random bits, base32 so it survives copy and paste.
func Generate(kind string) (secret string, hash []byte) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err)) // crypto/rand never fails on Linux
	}
	body := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	secret = kind + "_" + body
	return secret, Hash(secret)
}

// Hash is the stored form of a secret. A fast hash is right here: keys carry
// 160 random bits, so there is nothing to brute-force.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// HashHex is Hash in hex, for logs and lookups.
func HashHex(secret string) string { return hex.EncodeToString(Hash(secret)) }

// KindOf returns the kind prefix of a secret, or "" when it has none.
func KindOf(secret string) string {
	for _, k := range []string{Secret, Publishable} {
		if strings.HasPrefix(secret, k+"_") {
			return k
		}
	}
	return ""
}

// ParseScopes reads a comma-separated scope list and rejects unknown scopes.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if p != ScopeAll && !slices.Contains(AllScopes, p) {
			return nil, apperr.Field("body.scopes", fmt.Sprintf("unknown scope %q; known: %s", p, strings.Join(AllScopes, ", ")), p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, apperr.Field("body.scopes", "at least one scope is required", s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Principal is who is calling: the tenant and the key.
type Principal struct {
	TenantID string
	KeyID    string
	Kind     string
	Scopes   []string
}

// Can reports whether the principal holds scope.
func (p Principal) Can(scope string) bool {
	return slices.Contains(p.Scopes, ScopeAll) || slices.Contains(p.Scopes, scope)
}

// Actor is who did something, for audit records: "key:<id>" or "system".
func (p Principal) Actor() string {
	if p.KeyID == "" {
		return "system"
	}
	return "key:" + p.KeyID
}

type principalKey struct{}

// WithPrincipal stores the caller in ctx.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller stored in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
