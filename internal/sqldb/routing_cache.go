package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/routing"
)

// routingTTL bounds how long another process's change to a tenant's routing
// rules, locations or capacities goes unseen; this process forgets its own
// changes at once.
const routingTTL = 5 * time.Second

// routingCache keeps what every checkout routes by: the active rule set and
// the location list. Both change rarely; capacity used is read live.
type routingCache struct {
	mu    sync.Mutex
	rules map[string]cachedRoutingRules
	locs  map[string]cachedRoutingLocations
}

type cachedRoutingRules struct {
	rules   routing.RuleSet
	version int
	at      time.Time
}

type cachedRoutingLocations struct {
	locs []routingLocation
	at   time.Time
}

// routingLocation is a location as routing sees it, with its time zone for
// the local day of its capacity.
type routingLocation struct {
	routing.Location
	zone *time.Location
}

// ActiveRoutingRules returns the tenant's active rule set and its version (a
// built-in default, version 0, when none), cached briefly by version: after
// routingTTL the active version is read again and the rules reloaded only if
// it changed. The rule set is shared: callers must not modify it.
func (db *DB) ActiveRoutingRules(ctx context.Context, tenantID string) (routing.RuleSet, int, error) {
	c := &db.routing
	c.mu.Lock()
	e, ok := c.rules[tenantID]
	c.mu.Unlock()
	if ok && time.Since(e.at) < routingTTL {
		return e.rules, e.version, nil
	}
	version, err := activeRoutingVersion(ctx, db.Read(), tenantID)
	if err != nil {
		return routing.RuleSet{}, 0, err
	}
	if !ok || e.version != version {
		e = cachedRoutingRules{rules: routing.DefaultRuleSet(), version: version}
		if version > 0 {
			v, err := findRoutingVersion(ctx, db.Read(), tenantID, version)
			if err != nil {
				return routing.RuleSet{}, 0, err
			}
			e.rules = v.Rules
		}
	}
	e.at = time.Now()
	c.mu.Lock()
	if c.rules == nil {
		c.rules = map[string]cachedRoutingRules{}
	}
	c.rules[tenantID] = e
	c.mu.Unlock()
	return e.rules, e.version, nil
}

// activeRoutingVersion is the tenant's active version, 0 for none.
func activeRoutingVersion(ctx context.Context, q Querier, tenantID string) (int, error) {
	var active *int
	err := q.QueryRow(ctx, `SELECT active_version FROM routing_rule_heads WHERE tenant_id = $1`, tenantID).Scan(&active)
	if errors.Is(err, ErrNoRows) || (err == nil && active == nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return *active, nil
}

func (db *DB) forgetRoutingRules(tenantID string) {
	db.routing.mu.Lock()
	delete(db.routing.rules, tenantID)
	db.routing.mu.Unlock()
}

// forgetRoutingLocations drops a tenant's cached location list after a
// change to a location or a capacity.
func (db *DB) forgetRoutingLocations(tenantID string) {
	db.routing.mu.Lock()
	delete(db.routing.locs, tenantID)
	db.routing.mu.Unlock()
}

// routingLocationList returns the tenant's locations in code order, through
// the cache. The slice is shared: callers copy before changing an element.
func (db *DB) routingLocationList(ctx context.Context, q Querier, tenantID string) ([]routingLocation, error) {
	c := &db.routing
	c.mu.Lock()
	e, ok := c.locs[tenantID]
	c.mu.Unlock()
	if ok && time.Since(e.at) < routingTTL {
		return e.locs, nil
	}
	locs, err := db.loadRoutingLocations(ctx, q, tenantID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.locs == nil {
		c.locs = map[string]cachedRoutingLocations{}
	}
	c.locs[tenantID] = cachedRoutingLocations{locs: locs, at: time.Now()}
	c.mu.Unlock()
	return locs, nil
}

func (db *DB) loadRoutingLocations(ctx context.Context, q Querier, tenantID string) ([]routingLocation, error) {
	var out []routingLocation
	err := queryEach(ctx, q, `SELECT l.id, l.code, l.type, l.address, l.latitude, l.longitude, l.status, l.time_zone,
			COALESCE(c.daily_capacity, 0)
		FROM locations l LEFT JOIN location_capacities c ON c.tenant_id = l.tenant_id AND c.location_id = l.id
		WHERE l.tenant_id = $1 ORDER BY l.code`, []any{tenantID}, func(r Rows) error {
		var l routingLocation
		var addr, status, zone string
		var lat, lng *float64
		if err := r.Scan(&l.ID, &l.Code, &l.Type, &addr, &lat, &lng, &status, &zone, &l.DailyCapacity); err != nil {
			return err
		}
		var a struct{ Country string }
		if err := json.Unmarshal([]byte(addr), &a); err != nil {
			return fmt.Errorf("sqldb: location %s address: %w", l.Code, err)
		}
		l.Country, l.Active, l.zone = a.Country, status == "open", db.timeZone(zone)
		if lat != nil && lng != nil {
			l.Point = &routing.Point{Latitude: *lat, Longitude: *lng}
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// timeZone is a location's zone (loaded once per process); a zone that
// does not load counts as UTC.
func (db *DB) timeZone(name string) *time.Location {
	z, err := location.Zone(name)
	if err != nil {
		return time.UTC
	}
	return z
}
