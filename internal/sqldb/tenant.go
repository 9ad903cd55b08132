package sqldb

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
)

// CreateTenant adds a brand with default settings.
func (db *DB) CreateTenant(ctx context.Context, name string) (tenant.Tenant, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return tenant.Tenant{}, apperr.Field("name", "a tenant needs a name of 1 to 200 characters", name)
	}
	t := tenant.Tenant{ID: id.New(), Name: name, Settings: tenant.DefaultSettings(), CreatedAt: db.Now(),
		Pepper: make([]byte, 32)}
	if _, err := rand.Read(t.Pepper); err != nil {
		return tenant.Tenant{}, err
	}
	settings, _ := json.Marshal(t.Settings)
	err := db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, settings, pepper, created_at) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, t.Name, string(settings), t.Pepper, t.CreatedAt)
		return err
	})
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("sqldb: create tenant: %w", err)
	}
	return t, nil
}

// FindTenantByID returns a tenant or a NotFound error.
func (db *DB) FindTenantByID(ctx context.Context, tenantID string) (tenant.Tenant, error) {
	return findTenant(ctx, db.Read(), tenantID)
}

func findTenant(ctx context.Context, q Querier, tenantID string) (tenant.Tenant, error) {
	var t tenant.Tenant
	var settings string
	err := q.QueryRow(ctx, `SELECT id, name, settings, pepper, created_at FROM tenants WHERE id = $1`, tenantID).
		Scan(&t.ID, &t.Name, &settings, &t.Pepper, &t.CreatedAt)
	if errors.Is(err, ErrNoRows) {
		return t, apperr.New(apperr.NotFound, "no tenant with id %s", id.Format(id.Tenant, tenantID))
	}
	if err != nil {
		return t, fmt.Errorf("sqldb: find tenant: %w", err)
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return t, fmt.Errorf("sqldb: tenant settings: %w", err)
	}
	t.Settings = t.Settings.WithDefaults()
	return t, nil
}

// UpdateTenantSettings replaces a tenant's settings.
func (db *DB) UpdateTenantSettings(ctx context.Context, tenantID string, s tenant.Settings) (tenant.Tenant, error) {
	raw, _ := json.Marshal(s.WithDefaults())
	err := db.WriteTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `UPDATE tenants SET settings = $1 WHERE id = $2`, string(raw), tenantID)
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "no tenant with id %s", id.Format(id.Tenant, tenantID))
		}
		return err
	})
	if err != nil {
		return tenant.Tenant{}, err
	}
	db.forgetTenant(tenantID)
	return db.FindTenantByID(ctx, tenantID)
}
