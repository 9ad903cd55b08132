package sqldb

import (
	"context"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/tenant"
)

// tenantCache keeps tenant settings for a few seconds: they are read on every
// identify and change rarely. Changes made through this process apply at once.
type tenantCache struct {
	mu      sync.Mutex
	entries map[string]tenantEntry
}

type tenantEntry struct {
	t  tenant.Tenant
	at time.Time
}

const tenantCacheTTL = 5 * time.Second

func (db *DB) tenant(ctx context.Context, tenantID string) (tenant.Tenant, error) {
	c := &db.tenants
	c.mu.Lock()
	e, ok := c.entries[tenantID]
	c.mu.Unlock()
	if ok && time.Since(e.at) < tenantCacheTTL {
		return e.t, nil
	}
	t, err := db.FindTenantByID(ctx, tenantID)
	if err != nil {
		return t, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]tenantEntry{}
	}
	c.entries[tenantID] = tenantEntry{t: t, at: time.Now()}
	c.mu.Unlock()
	return t, nil
}

func (db *DB) tenantSettings(ctx context.Context, tenantID string) (tenant.Settings, error) {
	t, err := db.tenant(ctx, tenantID)
	return t.Settings, err
}

func (db *DB) forgetTenant(tenantID string) {
	db.tenants.mu.Lock()
	delete(db.tenants.entries, tenantID)
	db.tenants.mu.Unlock()
}
