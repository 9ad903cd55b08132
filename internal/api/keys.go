package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// KeyBody is an API key as shown; the secret appears only on creation.
type KeyBody struct {
	ID        string     `json:"id" example:"key_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Kind      string     `json:"kind" enum:"sk,pk"`
	Name      string     `json:"name"`
	Hint      string     `json:"hint" doc:"the last four characters of the secret"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	Secret    string     `json:"secret,omitempty" doc:"the key itself; shown once, at creation"`
	// SalesChannelID is where the tracking API records the key's online orders.
	SalesChannelID string `json:"sales_channel_id,omitempty" doc:"sch_…: the sales channel Order Completed events sent with this key are recorded in"`
}

func keyBody(k auth.APIKey) KeyBody {
	return KeyBody{ID: id.Format(id.Key, k.ID), Kind: k.Kind, Name: k.Name, Hint: k.Hint, Scopes: k.Scopes,
		CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

type createKeyInput struct {
	Body struct {
		Name         string   `json:"name,omitempty" maxLength:"200"`
		Kind         string   `json:"kind,omitempty" enum:"sk,pk" default:"sk" doc:"sk: secret, server-side; pk: publishable, for storefronts"`
		Scopes       []string `json:"scopes" minItems:"1" doc:"e.g. customers:read, customers:write, keys:write, tenant:read, tenant:write, events:write, or * for all"`
		SalesChannel string   `json:"sales_channel,omitempty" maxLength:"64" doc:"code of the sales channel that orders tracked with this key (Order Completed, Order Refunded) are recorded in"`
	}
}

type keyOutput struct{ Body KeyBody }

type keyIDInput struct {
	ID string `path:"id" doc:"key id, key_…"`
}

type listKeysInput struct{ PageParams }

type listKeysOutput struct{ Body Page[KeyBody] }

func (s *server) keyRoutes() {
	huma.Register(s.api, huma.Operation{OperationID: "create-key", Method: http.MethodPost, Path: "/v1/keys",
		Summary: "Create an API key", Tags: []string{"Keys"}, DefaultStatus: http.StatusCreated,
		Description: "Mints a key for this tenant. The secret is in the response once and never again; OMO stores only its hash. " +
			"A key can only grant scopes its creator holds."}, s.createKey)
	huma.Register(s.api, huma.Operation{OperationID: "list-keys", Method: http.MethodGet, Path: "/v1/keys",
		Summary: "List API keys", Tags: []string{"Keys"}, Description: "Newest first, revoked keys included."}, s.listKeys)
	huma.Register(s.api, huma.Operation{OperationID: "get-key", Method: http.MethodGet, Path: "/v1/keys/{id}",
		Summary: "Get an API key", Tags: []string{"Keys"}}, s.getKey)
	huma.Register(s.api, huma.Operation{OperationID: "revoke-key", Method: http.MethodDelete, Path: "/v1/keys/{id}",
		Summary: "Revoke an API key", Tags: []string{"Keys"},
		Description: "Revoked keys stop working at once in this process and within 10 seconds in others."}, s.revokeKey)
}

func (s *server) createKey(ctx context.Context, in *createKeyInput) (*keyOutput, error) {
	p, err := principal(ctx, auth.ScopeKeysWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	scopes, err := auth.ParseScopes(joinScopes(in.Body.Scopes))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	for _, sc := range scopes {
		if !p.Can(sc) || sc == auth.ScopeAll && !p.Can(auth.ScopeAll) {
			return nil, huma.Error403Forbidden("a key cannot grant the scope " + sc + ", which it does not hold itself")
		}
	}
	kind := in.Body.Kind
	if kind == "" {
		kind = auth.Secret
	}
	k, secret, err := s.db.CreateKey(ctx, sqldb.KeyParams{TenantID: p.TenantID, Kind: kind, Name: in.Body.Name, Scopes: scopes,
		CreatedBy: p.Actor(), SalesChannel: in.Body.SalesChannel})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	bodies, err := s.keyBodies(ctx, p.TenantID, []auth.APIKey{k})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	bodies[0].Secret = secret
	return &keyOutput{Body: bodies[0]}, nil
}

func joinScopes(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func (s *server) listKeys(ctx context.Context, in *listKeysInput) (*listKeysOutput, error) {
	p, err := principal(ctx, auth.ScopeKeysRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	keys, err := s.db.FindKeys(ctx, sqldb.KeyFilter{TenantID: p.TenantID, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	channels, err := s.db.FindKeySalesChannels(ctx, p.TenantID, keyIDs(keys))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listKeysOutput{Body: paginate(keys, in.limit(), func(k auth.APIKey) string { return k.ID }, func(k auth.APIKey) KeyBody {
		b := keyBody(k)
		b.SalesChannelID = id.Format(id.Channel, channels[k.ID])
		return b
	})}, nil
}

func (s *server) getKey(ctx context.Context, in *keyIDInput) (*keyOutput, error) {
	p, kid, err := principalWithID(ctx, auth.ScopeKeysRead, id.Key, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	k, err := s.db.FindKeyByID(ctx, p.TenantID, kid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	bodies, err := s.keyBodies(ctx, p.TenantID, []auth.APIKey{k})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &keyOutput{Body: bodies[0]}, nil
}

func (s *server) revokeKey(ctx context.Context, in *keyIDInput) (*keyOutput, error) {
	p, kid, err := principalWithID(ctx, auth.ScopeKeysWrite, id.Key, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	k, err := s.db.RevokeKey(ctx, p.TenantID, kid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	s.auth.forget(k.ID)
	return &keyOutput{Body: keyBody(k)}, nil
}

func keyIDs(keys []auth.APIKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}

// keyBodies shows keys with the sales channel each is bound to.
func (s *server) keyBodies(ctx context.Context, tenantID string, keys []auth.APIKey) ([]KeyBody, error) {
	channels, err := s.db.FindKeySalesChannels(ctx, tenantID, keyIDs(keys))
	if err != nil {
		return nil, err
	}
	out := make([]KeyBody, len(keys))
	for i, k := range keys {
		out[i] = keyBody(k)
		out[i].SalesChannelID = id.Format(id.Channel, channels[k.ID])
	}
	return out, nil
}
