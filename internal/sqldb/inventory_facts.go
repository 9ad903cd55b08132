package sqldb

import (
	"context"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/inventory"
)

// StockFact is a low-stock or back-in-stock fact.
type StockFact struct {
	TenantID        string
	ID              string
	Kind            string // inventory.FactLowStock or inventory.FactBackInStock
	SKU             string
	LocationID      string // low stock: the location; back in stock: the location whose change made it
	SalesChannel    string // back in stock: the channel (code) that can sell again
	AvailableBefore int64  // low stock: at the location; back in stock: the channel's total over open locations
	AvailableAfter  int64
	Threshold       *int64 // low stock only
	Cause           string // what changed the stock: movement:…, reservation:…, release:…
	OccurredAt      time.Time
}

// stockChange is one stock level's change within one operation.
type stockChange struct {
	sku, locationID              string
	onHandBefore, reservedBefore int64
	onHandAfter, reservedAfter   int64
}

func (c stockChange) availableBefore() int64 {
	return inventory.Available(c.onHandBefore, c.reservedBefore, 0)
}

func (c stockChange) availableAfter() int64 {
	return inventory.Available(c.onHandAfter, c.reservedAfter, 0)
}

// stockChanges collects an operation's level changes; a level changed twice
// keeps its first "before" and its last "after".
type stockChanges struct {
	list []stockChange
	at   map[[2]string]int
}

func (s *stockChanges) add(c stockChange) {
	k := [2]string{c.sku, c.locationID}
	if i, ok := s.at[k]; ok {
		s.list[i].onHandAfter, s.list[i].reservedAfter = c.onHandAfter, c.reservedAfter
		return
	}
	if s.at == nil {
		s.at = map[[2]string]int{}
	}
	s.at[k] = len(s.list)
	s.list = append(s.list, c)
}

// recordFacts detects the low-stock and back-in-stock facts of an
// operation's changes, stores them in its transaction, and enqueues one
// inventory.facts job for them. cause names the operation.
func recordFacts(ctx context.Context, tx *Tx, tenantID, cause string, changes *stockChanges) error {
	var down, up []stockChange
	for _, c := range changes.list {
		switch b, a := c.availableBefore(), c.availableAfter(); {
		case a < b:
			down = append(down, c)
		case a > b:
			up = append(up, c)
		}
	}
	facts, err := lowStockFacts(ctx, tx, tenantID, down)
	if err != nil {
		return err
	}
	back, err := backInStockFacts(ctx, tx, tenantID, up)
	if err != nil || len(facts)+len(back) == 0 {
		return err
	}
	return storeFacts(ctx, tx, tenantID, cause, append(facts, back...))
}

func skusOf(changes []stockChange) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range changes {
		if !seen[c.sku] {
			seen[c.sku] = true
			out = append(out, c.sku)
		}
	}
	return out
}

// lowStockFacts: the changes that took a location's available units to
// its threshold or below.
func lowStockFacts(ctx context.Context, tx *Tx, tenantID string, down []stockChange) ([]StockFact, error) {
	if len(down) == 0 {
		return nil, nil
	}
	rules, err := loadThresholds(ctx, tx, tenantID, skusOf(down))
	if err != nil {
		return nil, err
	}
	var out []StockFact
	for _, c := range down {
		t := inventory.Threshold(rules, c.sku, c.locationID)
		if inventory.LowStock(c.availableBefore(), c.availableAfter(), t) {
			out = append(out, StockFact{Kind: inventory.FactLowStock, SKU: c.sku, LocationID: c.locationID,
				AvailableBefore: c.availableBefore(), AvailableAfter: c.availableAfter(), Threshold: &t})
		}
	}
	return out, nil
}

// openLevel is a stock level at an open location.
type openLevel struct {
	sku, locationID, locationType string
	onHand, reserved              int64
}

// backInStockFacts: for each SKU that gained available units and each
// active sales channel, whether the channel's total over open locations went
// from 0 to more.
func backInStockFacts(ctx context.Context, tx *Tx, tenantID string, up []stockChange) ([]StockFact, error) {
	if len(up) == 0 {
		return nil, nil
	}
	channels, err := activeChannels(ctx, tx, tenantID)
	if err != nil || len(channels) == 0 {
		return nil, err
	}
	skus := skusOf(up)
	rules, err := loadSafety(ctx, tx, tenantID, "", skus)
	if err != nil {
		return nil, err
	}
	levels, err := openLevels(ctx, tx, tenantID, skus)
	if err != nil {
		return nil, err
	}
	byChannel := rulesByChannel(rules)
	var out []StockFact
	for _, sku := range skus {
		for _, ch := range channels {
			before, after, where := channelTotals(byChannel[ch.id], levels, up, sku)
			if where != "" && inventory.BackInStock(before, after) {
				out = append(out, StockFact{Kind: inventory.FactBackInStock, SKU: sku, LocationID: where, SalesChannel: ch.code,
					AvailableBefore: before, AvailableAfter: after})
			}
		}
	}
	return out, nil
}

// channelTotals adds up what a channel may sell of a SKU over open
// locations after the changes, and before them (the changed levels at their
// earlier values). where is the first open location whose change raised it.
func channelTotals(rules []inventory.SafetyRule, levels []openLevel, up []stockChange, sku string) (before, after int64, where string) {
	for _, l := range levels {
		if l.sku != sku {
			continue
		}
		safety := inventory.SafetyStock(rules, sku, l.locationID, l.locationType)
		now := inventory.Available(l.onHand, l.reserved, safety)
		was := now
		for _, c := range up {
			if c.sku == sku && c.locationID == l.locationID {
				was = inventory.Available(c.onHandBefore, c.reservedBefore, safety)
				if now > was && where == "" {
					where = l.locationID
				}
			}
		}
		before, after = before+was, after+now
	}
	return before, after, where
}

func openLevels(ctx context.Context, q Querier, tenantID string, skus []string) ([]openLevel, error) {
	var out []openLevel
	err := queryEach(ctx, q, `SELECT s.sku, s.location_id, l.type, s.on_hand, s.reserved FROM inventory_levels s
		JOIN locations l ON l.tenant_id = s.tenant_id AND l.id = s.location_id
		WHERE s.tenant_id = $1 AND l.status = 'open' AND s.sku IN (`+numbered(2, len(skus))+`) ORDER BY s.sku, s.location_id`,
		stringArgs([]any{tenantID}, skus), func(r Rows) error {
			var l openLevel
			err := r.Scan(&l.sku, &l.locationID, &l.locationType, &l.onHand, &l.reserved)
			out = append(out, l)
			return err
		})
	return out, err
}

func storeFacts(ctx context.Context, tx *Tx, tenantID, cause string, facts []StockFact) error {
	now := tx.Now()
	ids := make([]string, 0, len(facts))
	for _, f := range facts {
		f.ID = id.New()
		if _, err := tx.Exec(ctx, `INSERT INTO inventory_facts (tenant_id, id, kind, sku, location_id, sales_channel, available_before,
			available_after, threshold, cause, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			tenantID, f.ID, f.Kind, f.SKU, f.LocationID, f.SalesChannel, f.AvailableBefore, f.AvailableAfter, f.Threshold, cause, now); err != nil {
			return err
		}
		ids = append(ids, f.ID)
	}
	return tx.Enqueue(ctx, inventory.FactsJob{TenantID: tenantID, FactIDs: ids}, nil)
}

// StockFactFilter pages through facts, oldest first.
type StockFactFilter struct {
	TenantID string
	Kind     string // optional
	SKU      string // optional
	Limit    int
	After    string // cursor: the last fact id of the previous page
}

// FindStockFacts lists low-stock and back-in-stock facts in the order they
// were recorded, so a consumer can read on from its last cursor.
func (db *DB) FindStockFacts(ctx context.Context, f StockFactFilter) ([]StockFact, error) {
	var out []StockFact
	err := queryEach(ctx, db.Read(), `SELECT id, kind, sku, location_id, sales_channel, available_before, available_after, threshold,
		cause, occurred_at FROM inventory_facts WHERE tenant_id = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR sku = $3) AND id > $4
		ORDER BY id LIMIT $5`, []any{f.TenantID, f.Kind, f.SKU, f.After, f.Limit}, func(r Rows) error {
		s := StockFact{TenantID: f.TenantID}
		err := r.Scan(&s.ID, &s.Kind, &s.SKU, &s.LocationID, &s.SalesChannel, &s.AvailableBefore, &s.AvailableAfter, &s.Threshold,
			&s.Cause, &s.OccurredAt)
		s.OccurredAt = s.OccurredAt.UTC()
		out = append(out, s)
		return err
	})
	return out, err
}
