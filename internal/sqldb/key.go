package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
)

// KeyParams describe a key to mint.
type KeyParams struct {
	TenantID  string
	Kind      string // auth.Secret or auth.Publishable
	Name      string
	Scopes    []string
	CreatedBy string
	// SalesChannel is the code of the sales channel the key records online
	// orders in (Order Completed sent with it through the tracking API); "" for none.
	SalesChannel string
}

// KeyFilter pages through a tenant's keys, newest first.
type KeyFilter struct {
	TenantID string
	Limit    int
	After    string // cursor: the last key id of the previous page
}

// CreateKey mints a key and returns it with its secret, which is never stored.
func (db *DB) CreateKey(ctx context.Context, p KeyParams) (auth.APIKey, string, error) {
	if p.Kind != auth.Secret && p.Kind != auth.Publishable {
		return auth.APIKey{}, "", apperr.Field("kind", "kind must be sk (secret) or pk (publishable)", p.Kind)
	}
	if len(p.Scopes) == 0 {
		return auth.APIKey{}, "", apperr.Field("scopes", "at least one scope is required", nil)
	}
	secret, hash := auth.Generate(p.Kind)
	k := auth.APIKey{TenantID: p.TenantID, ID: id.New(), Kind: p.Kind, Name: p.Name, Hint: secret[len(secret)-4:],
		Scopes: p.Scopes, CreatedAt: db.Now(), CreatedBy: p.CreatedBy, SecretHash: hash}
	err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := findTenant(ctx, tx, p.TenantID); err != nil {
			return err
		}
		var channelID *string
		if p.SalesChannel != "" {
			ch, err := findChannel(ctx, tx, p.TenantID, "code", p.SalesChannel)
			if apperr.Is(err, apperr.NotFound) {
				return apperr.Field("body.sales_channel", "no sales channel has this code; create it with POST /v1/sales_channels", p.SalesChannel)
			}
			if err != nil {
				return err
			}
			channelID = &ch.ID
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (tenant_id, id, kind, name, hint, scopes, secret_hash, created_by, created_at, sales_channel_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			k.TenantID, k.ID, k.Kind, k.Name, k.Hint, strings.Join(k.Scopes, ","), k.SecretHash, k.CreatedBy, k.CreatedAt, channelID)
		return err
	})
	if err != nil {
		return auth.APIKey{}, "", err
	}
	return k, secret, nil
}

const keyColumns = `tenant_id, id, kind, name, hint, scopes, created_by, created_at, revoked_at`

func scanKey(r Row) (auth.APIKey, error) {
	var k auth.APIKey
	var scopes string
	err := r.Scan(&k.TenantID, &k.ID, &k.Kind, &k.Name, &k.Hint, &scopes, &k.CreatedBy, &k.CreatedAt, &k.RevokedAt)
	k.Scopes = strings.Split(scopes, ",")
	return k, err
}

// FindKeyBySecret returns the live key with this secret, or Unauthorized.
func (db *DB) FindKeyBySecret(ctx context.Context, secret string) (auth.APIKey, error) {
	k, err := scanKey(db.readPoint().QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE secret_hash = $1`, auth.Hash(secret)))
	if errors.Is(err, ErrNoRows) || err == nil && k.RevokedAt != nil {
		return auth.APIKey{}, apperr.New(apperr.Unauthorized, "the API key is not valid or was revoked")
	}
	if err != nil {
		return auth.APIKey{}, fmt.Errorf("sqldb: find key: %w", err)
	}
	return k, nil
}

// FindKeys lists a tenant's keys, newest first, revoked ones included.
func (db *DB) FindKeys(ctx context.Context, f KeyFilter) ([]auth.APIKey, error) {
	after := f.After
	if after == "" {
		after = "~" // sorts after every UUID
	}
	rows, err := db.Read().Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE tenant_id = $1 AND id < $2
		ORDER BY id DESC LIMIT $3`, f.TenantID, after, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqldb: find keys: %w", err)
	}
	defer rows.Close()
	var out []auth.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// FindKeyByID returns one key of a tenant.
func (db *DB) FindKeyByID(ctx context.Context, tenantID, keyID string) (auth.APIKey, error) {
	k, err := scanKey(db.Read().QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, keyID))
	if errors.Is(err, ErrNoRows) {
		return k, apperr.New(apperr.NotFound, "no API key with id %s", id.Format(id.Key, keyID))
	}
	return k, err
}

// RevokeKey revokes a key; revoking twice is not an error.
func (db *DB) RevokeKey(ctx context.Context, tenantID, keyID string) (auth.APIKey, error) {
	now := db.Now()
	err := db.WriteTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3`,
			now, tenantID, keyID)
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "no API key with id %s", id.Format(id.Key, keyID))
		}
		return err
	})
	if err != nil {
		return auth.APIKey{}, err
	}
	return db.FindKeyByID(ctx, tenantID, keyID)
}

// FindKeySalesChannels returns the sales channel id each of a tenant's keys
// is bound to, for the keys that have one.
func (db *DB) FindKeySalesChannels(ctx context.Context, tenantID string, keyIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keyIDs) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, k := range keyIDs {
		args = append(args, k)
	}
	parts := make([]string, len(keyIDs))
	for i := range keyIDs {
		parts[i] = fmt.Sprintf("$%d", i+2)
	}
	err := queryEach(ctx, db.Read(), `SELECT id, sales_channel_id FROM api_keys WHERE tenant_id = $1 AND sales_channel_id IS NOT NULL
		AND id IN (`+strings.Join(parts, ", ")+`)`, args, func(r Rows) error {
		var k, ch string
		err := r.Scan(&k, &ch)
		out[k] = ch
		return err
	})
	return out, err
}
