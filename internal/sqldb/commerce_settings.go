package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/order"
)

// settingsTTL bounds how long another process's change to a tenant's
// commerce settings can go unseen; this process forgets on every change.
const settingsTTL = 5 * time.Second

type settingsCache struct {
	mu sync.Mutex
	m  map[string]cachedSettings
}

type cachedSettings struct {
	s  order.Settings
	at time.Time
}

// CommerceSettings returns the tenant's commerce settings (the defaults
// until it sets its own).
func (db *DB) CommerceSettings(ctx context.Context, tenantID string) (order.Settings, error) {
	c := &db.commerce
	c.mu.Lock()
	e, ok := c.m[tenantID]
	c.mu.Unlock()
	if ok && time.Since(e.at) < settingsTTL {
		return e.s, nil
	}
	s := order.DefaultSettings()
	var raw string
	err := db.Read().QueryRow(ctx, `SELECT settings FROM commerce_settings WHERE tenant_id = $1`, tenantID).Scan(&raw)
	switch {
	case errors.Is(err, ErrNoRows):
	case err != nil:
		return s, err
	default:
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return s, err
		}
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedSettings{}
	}
	c.m[tenantID] = cachedSettings{s: s, at: time.Now()}
	c.mu.Unlock()
	return s, nil
}

// PutCommerceSettings replaces the tenant's commerce settings.
func (db *DB) PutCommerceSettings(ctx context.Context, tenantID string, s order.Settings) (order.Settings, error) {
	if err := s.Validate("body"); err != nil {
		return s, err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return s, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO commerce_settings (tenant_id, settings, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`, tenantID, string(raw), tx.Now())
		return err
	})
	if err == nil {
		db.commerce.mu.Lock()
		delete(db.commerce.m, tenantID)
		db.commerce.mu.Unlock()
	}
	return s, err
}
