package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/location"
)

// SafetyStockRule is a stored safety stock rule.
type SafetyStockRule struct {
	inventory.SafetyRule
	TenantID     string
	SalesChannel string // code
	Actor        string
	UpdatedAt    time.Time
}

// SafetyStockParams names a rule (and, to set it, its quantity).
type SafetyStockParams struct {
	TenantID         string
	SalesChannelCode string
	SKU              string // "" = every SKU
	LocationID       string // "" = by LocationType
	LocationType     string // "" = every location type
	Quantity         int64
	Actor
}

// safetyRule resolves the channel code and checks the rule; a missing channel or
// location is a field error.
func (db *DB) safetyRule(ctx context.Context, p SafetyStockParams) (inventory.SafetyRule, error) {
	r := inventory.SafetyRule{SKU: p.SKU, LocationID: p.LocationID, LocationType: p.LocationType, Quantity: p.Quantity}
	if p.SalesChannelCode != "" {
		if !location.ValidCode(p.SalesChannelCode) {
			return r, apperr.Field("body.sales_channel", "no sales channel with this code", p.SalesChannelCode)
		}
		ch, err := findChannel(ctx, db.Read(), p.TenantID, "code", p.SalesChannelCode)
		if err != nil {
			return r, apperr.Field("body.sales_channel", err.Error(), p.SalesChannelCode)
		}
		r.SalesChannelID = ch.ID
	}
	if err := r.Validate("body", location.Types); err != nil {
		return r, err
	}
	if r.LocationID != "" {
		if _, err := findLocation(ctx, db.Read(), p.TenantID, "id", r.LocationID); err != nil {
			return r, apperr.Field("body.location_id", err.Error(), id.Format(id.Location, r.LocationID))
		}
	}
	return r, nil
}

// SetSafetyStock creates or replaces a safety stock rule.
func (db *DB) SetSafetyStock(ctx context.Context, p SafetyStockParams) (SafetyStockRule, error) {
	r, err := db.safetyRule(ctx, p)
	if err != nil {
		return SafetyStockRule{}, err
	}
	out := SafetyStockRule{SafetyRule: r, TenantID: p.TenantID, SalesChannel: p.SalesChannelCode, Actor: p.Actor.Actor, UpdatedAt: db.Now()}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inventory_safety_stock (tenant_id, sales_channel_id, sku, location_id, location_type, quantity, actor, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, sales_channel_id, sku, location_id, location_type)
			DO UPDATE SET quantity = excluded.quantity, actor = excluded.actor, updated_at = excluded.updated_at`,
			p.TenantID, r.SalesChannelID, r.SKU, r.LocationID, r.LocationType, r.Quantity, out.Actor, out.UpdatedAt)
		return err
	})
	return out, err
}

// DeleteSafetyStock removes a rule; NotFound when there is none.
func (db *DB) DeleteSafetyStock(ctx context.Context, p SafetyStockParams) error {
	r, err := db.safetyRule(ctx, p)
	if err != nil {
		return err
	}
	return db.WriteTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM inventory_safety_stock WHERE tenant_id = $1 AND sales_channel_id = $2 AND sku = $3
			AND location_id = $4 AND location_type = $5`, p.TenantID, r.SalesChannelID, r.SKU, r.LocationID, r.LocationType)
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "no safety stock rule for sales channel %q with this SKU and location", p.SalesChannelCode)
		}
		return err
	})
}

// SafetyStockFilter pages through a tenant's safety stock rules.
type SafetyStockFilter struct {
	TenantID         string
	SalesChannelCode string // optional
	SKU              string // optional: the rules for this SKU and for every SKU
	Limit            int
	After            string // cursor: ruleKey of the last rule
}

// Key orders rules for paging: channel code, SKU, location, type.
func (r SafetyStockRule) Key() string {
	return strings.Join([]string{r.SalesChannel, r.SKU, r.LocationID, r.LocationType}, "\x1f")
}

// FindSafetyStock lists safety stock rules by channel code, SKU, location.
func (db *DB) FindSafetyStock(ctx context.Context, f SafetyStockFilter) ([]SafetyStockRule, error) {
	after := strings.Split(f.After, "\x1f")
	if len(after) != 4 {
		after = []string{"", "", "", ""}
	}
	var out []SafetyStockRule
	err := queryEach(ctx, db.Read(), `SELECT c.code, s.sales_channel_id, s.sku, s.location_id, s.location_type, s.quantity, s.actor, s.updated_at
		FROM inventory_safety_stock s JOIN sales_channels c ON c.tenant_id = s.tenant_id AND c.id = s.sales_channel_id
		WHERE s.tenant_id = $1 AND ($2 = '' OR c.code = $2) AND ($3 = '' OR s.sku IN ('', $3))
		AND (c.code, s.sku, s.location_id, s.location_type) > ($4, $5, $6, $7)
		ORDER BY c.code, s.sku, s.location_id, s.location_type LIMIT $8`,
		[]any{f.TenantID, f.SalesChannelCode, f.SKU, after[0], after[1], after[2], after[3], f.Limit}, func(r Rows) error {
			s := SafetyStockRule{TenantID: f.TenantID}
			err := r.Scan(&s.SalesChannel, &s.SalesChannelID, &s.SKU, &s.LocationID, &s.LocationType, &s.Quantity, &s.Actor, &s.UpdatedAt)
			s.UpdatedAt = s.UpdatedAt.UTC()
			out = append(out, s)
			return err
		})
	return out, err
}

// LowStockThreshold is a stored low-stock threshold.
type LowStockThreshold struct {
	inventory.ThresholdRule
	TenantID  string
	Actor     string
	UpdatedAt time.Time
}

// Key orders thresholds for paging.
func (t LowStockThreshold) Key() string { return t.SKU + "\x1f" + t.LocationID }

// ThresholdParams names a threshold: SKU or every SKU (""), location or
// every location (""); both "" is the tenant's default.
type ThresholdParams struct {
	TenantID   string
	SKU        string
	LocationID string
	LowStock   int64
	Actor
}

func (db *DB) checkThreshold(ctx context.Context, p *ThresholdParams) error {
	p.SKU = strings.TrimSpace(p.SKU)
	if p.SKU != "" && !inventory.ValidSKU(p.SKU) {
		return apperr.Field("body.sku", fmt.Sprintf("a SKU of at most %d bytes, or none for every SKU", inventory.MaxSKU), p.SKU)
	}
	if p.LowStock < 0 || p.LowStock > inventory.MaxQuantity {
		return apperr.Field("body.low_stock", "units available at or below which the stock is low, 0 or more", p.LowStock)
	}
	if p.LocationID != "" {
		if _, err := findLocation(ctx, db.Read(), p.TenantID, "id", p.LocationID); err != nil {
			return apperr.Field("body.location_id", err.Error(), id.Format(id.Location, p.LocationID))
		}
	}
	return nil
}

// SetLowStockThreshold creates or replaces a threshold.
func (db *DB) SetLowStockThreshold(ctx context.Context, p ThresholdParams) (LowStockThreshold, error) {
	if err := db.checkThreshold(ctx, &p); err != nil {
		return LowStockThreshold{}, err
	}
	out := LowStockThreshold{ThresholdRule: inventory.ThresholdRule{SKU: p.SKU, LocationID: p.LocationID, LowStock: p.LowStock},
		TenantID: p.TenantID, Actor: p.Actor.Actor, UpdatedAt: db.Now()}
	err := db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inventory_thresholds (tenant_id, sku, location_id, low_stock, actor, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, sku, location_id)
			DO UPDATE SET low_stock = excluded.low_stock, actor = excluded.actor, updated_at = excluded.updated_at`,
			p.TenantID, p.SKU, p.LocationID, p.LowStock, out.Actor, out.UpdatedAt)
		return err
	})
	return out, err
}

// DeleteLowStockThreshold removes a threshold; NotFound when there is none.
func (db *DB) DeleteLowStockThreshold(ctx context.Context, p ThresholdParams) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM inventory_thresholds WHERE tenant_id = $1 AND sku = $2 AND location_id = $3`,
			p.TenantID, strings.TrimSpace(p.SKU), p.LocationID)
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "no low-stock threshold for this SKU and location")
		}
		return err
	})
}

// FindLowStockThresholds lists a tenant's thresholds by SKU and location.
func (db *DB) FindLowStockThresholds(ctx context.Context, tenantID string, limit int, after string) ([]LowStockThreshold, error) {
	a := strings.SplitN(after, "\x1f", 2)
	if len(a) != 2 {
		a = []string{"", ""}
	}
	var out []LowStockThreshold
	err := queryEach(ctx, db.Read(), `SELECT sku, location_id, low_stock, actor, updated_at FROM inventory_thresholds
		WHERE tenant_id = $1 AND (sku, location_id) > ($2, $3) ORDER BY sku, location_id LIMIT $4`,
		[]any{tenantID, a[0], a[1], limit}, func(r Rows) error {
			t := LowStockThreshold{TenantID: tenantID}
			err := r.Scan(&t.SKU, &t.LocationID, &t.LowStock, &t.Actor, &t.UpdatedAt)
			t.UpdatedAt = t.UpdatedAt.UTC()
			out = append(out, t)
			return err
		})
	return out, err
}

// loadThresholds reads the thresholds that can apply to skus.
func loadThresholds(ctx context.Context, q Querier, tenantID string, skus []string) ([]inventory.ThresholdRule, error) {
	var out []inventory.ThresholdRule
	err := queryEach(ctx, q, `SELECT sku, location_id, low_stock FROM inventory_thresholds WHERE tenant_id = $1 AND sku IN ('', `+
		numbered(2, len(skus))+`)`, stringArgs([]any{tenantID}, skus), func(r Rows) error {
		var t inventory.ThresholdRule
		err := r.Scan(&t.SKU, &t.LocationID, &t.LowStock)
		out = append(out, t)
		return err
	})
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	return out, err
}
