package sqldb

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/location"
)

// numbered is the placeholders $first … $first+n-1. Inventory's lists are
// short (the SKUs of a cart or a page), so both engines take numbered
// parameters, which mix safely with the $1, $2 before them.
func numbered(first, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "$" + strconv.Itoa(first+i)
	}
	return strings.Join(parts, ", ")
}

// stringArgs appends strings to args.
func stringArgs(args []any, ss []string) []any {
	for _, s := range ss {
		args = append(args, s)
	}
	return args
}

// AvailableStock answers, per location id then SKU, the units a sales
// channel may sell now (on hand - reserved - that channel's safety stock,
// never below 0), for active (open) locations only. A SKU a location has
// never stocked is absent, which means 0. salesChannelCode "" applies no
// safety stock; an unknown code is NotFound. q is db.Read() or a Tx.
func (db *DB) AvailableStock(ctx context.Context, q Querier, tenantID, salesChannelCode string, skus []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	if len(skus) == 0 {
		return out, nil
	}
	rules, err := db.channelSafety(ctx, q, tenantID, salesChannelCode, skus)
	if err != nil {
		return nil, err
	}
	err = queryEach(ctx, q, `SELECT s.location_id, l.type, s.sku, s.on_hand, s.reserved FROM inventory_levels s
		JOIN locations l ON l.tenant_id = s.tenant_id AND l.id = s.location_id
		WHERE s.tenant_id = $1 AND l.status = 'open' AND s.sku IN (`+numbered(2, len(skus))+`)`,
		stringArgs([]any{tenantID}, skus), func(r Rows) error {
			var loc, typ, sku string
			var onHand, reserved int64
			if err := r.Scan(&loc, &typ, &sku, &onHand, &reserved); err != nil {
				return err
			}
			if out[loc] == nil {
				out[loc] = map[string]int64{}
			}
			out[loc][sku] = inventory.Available(onHand, reserved, inventory.SafetyStock(rules, sku, loc, typ))
			return nil
		})
	return out, err
}

// channelSafety loads one sales channel's safety rules that can apply to
// skus; none for code "".
func (db *DB) channelSafety(ctx context.Context, q Querier, tenantID, code string, skus []string) ([]inventory.SafetyRule, error) {
	if code == "" {
		return nil, nil
	}
	if !location.ValidCode(code) {
		return nil, apperr.New(apperr.NotFound, "no sales channel with code %q", code)
	}
	ch, err := db.channelByCode(ctx, q, tenantID, code)
	if err != nil {
		return nil, err
	}
	return loadSafety(ctx, q, tenantID, ch.ID, skus)
}

// loadSafety reads the safety rules of one channel (or every channel, "")
// for skus and for every SKU.
func loadSafety(ctx context.Context, q Querier, tenantID, channelID string, skus []string) ([]inventory.SafetyRule, error) {
	var rules []inventory.SafetyRule
	err := queryEach(ctx, q, `SELECT sales_channel_id, sku, location_id, location_type, quantity FROM inventory_safety_stock
		WHERE tenant_id = $1 AND ($2 = '' OR sales_channel_id = $2) AND sku IN ('', `+numbered(3, len(skus))+`)`,
		stringArgs([]any{tenantID, channelID}, skus), func(r Rows) error {
			var s inventory.SafetyRule
			err := r.Scan(&s.SalesChannelID, &s.SKU, &s.LocationID, &s.LocationType, &s.Quantity)
			rules = append(rules, s)
			return err
		})
	return rules, err
}

// StockLevel is the stock of a SKU at a location, with what each active
// sales channel may sell of it.
type StockLevel struct {
	TenantID     string
	SKU          string
	LocationID   string
	LocationType string
	LocationOpen bool // only open locations sell
	OnHand       int64
	Reserved     int64
	Available    int64 // on hand less reserved, never below 0
	Channels     []ChannelStock
	UpdatedAt    time.Time
}

// ChannelStock is what one sales channel may sell of a stock level.
type ChannelStock struct {
	SalesChannel string // code
	SafetyStock  int64
	Available    int64 // 0 at a location that is not open
}

// StockLevelFilter pages through stock levels in SKU, then location order.
type StockLevelFilter struct {
	TenantID   string
	SKU        string // optional
	LocationID string // optional
	Limit      int
	After      [2]string // cursor: the last SKU and location id of the previous page
}

// FindStockLevels lists stock levels with what each active sales channel
// may sell of them.
func (db *DB) FindStockLevels(ctx context.Context, f StockLevelFilter) ([]StockLevel, error) {
	var out []StockLevel
	err := queryEach(ctx, db.Read(), `SELECT s.sku, s.location_id, l.type, l.status, s.on_hand, s.reserved, s.updated_at
		FROM inventory_levels s JOIN locations l ON l.tenant_id = s.tenant_id AND l.id = s.location_id
		WHERE s.tenant_id = $1 AND ($2 = '' OR s.sku = $2) AND ($3 = '' OR s.location_id = $3) AND (s.sku > $4 OR (s.sku = $4 AND s.location_id > $5))
		ORDER BY s.sku, s.location_id LIMIT $6`, []any{f.TenantID, f.SKU, f.LocationID, f.After[0], f.After[1], f.Limit}, func(r Rows) error {
		l := StockLevel{TenantID: f.TenantID}
		var status string
		err := r.Scan(&l.SKU, &l.LocationID, &l.LocationType, &status, &l.OnHand, &l.Reserved, &l.UpdatedAt)
		l.LocationOpen, l.Available, l.UpdatedAt = status == "open", inventory.Available(l.OnHand, l.Reserved, 0), l.UpdatedAt.UTC()
		out = append(out, l)
		return err
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	return out, db.addChannelStock(ctx, f.TenantID, out)
}

// addChannelStock fills what each active sales channel may sell of levels.
func (db *DB) addChannelStock(ctx context.Context, tenantID string, levels []StockLevel) error {
	channels, err := activeChannels(ctx, db.Read(), tenantID)
	if err != nil {
		return err
	}
	skus := map[string]bool{}
	var list []string
	for _, l := range levels {
		if !skus[l.SKU] {
			skus[l.SKU] = true
			list = append(list, l.SKU)
		}
	}
	rules, err := loadSafety(ctx, db.Read(), tenantID, "", list)
	if err != nil {
		return err
	}
	byChannel := rulesByChannel(rules)
	for i, l := range levels {
		for _, ch := range channels {
			safety := inventory.SafetyStock(byChannel[ch.id], l.SKU, l.LocationID, l.LocationType)
			avail := int64(0)
			if l.LocationOpen {
				avail = inventory.Available(l.OnHand, l.Reserved, safety)
			}
			levels[i].Channels = append(levels[i].Channels, ChannelStock{SalesChannel: ch.code, SafetyStock: safety, Available: avail})
		}
	}
	return nil
}

func rulesByChannel(rules []inventory.SafetyRule) map[string][]inventory.SafetyRule {
	m := map[string][]inventory.SafetyRule{}
	for _, r := range rules {
		m[r.SalesChannelID] = append(m[r.SalesChannelID], r)
	}
	return m
}

type channelRef struct{ id, code string }

// activeChannels lists a tenant's active sales channels by code.
func activeChannels(ctx context.Context, q Querier, tenantID string) ([]channelRef, error) {
	var out []channelRef
	err := queryEach(ctx, q, `SELECT id, code FROM sales_channels WHERE tenant_id = $1 AND active ORDER BY code`, []any{tenantID}, func(r Rows) error {
		var c channelRef
		err := r.Scan(&c.id, &c.code)
		out = append(out, c)
		return err
	})
	return out, err
}
