package sqldb

import (
	"context"
	"sync"
	"time"

	"github.com/omo-platform/omo/internal/location"
)

// placeTTL bounds how long another process's change to a location or sales
// channel can go unseen; this process forgets its entries on every change.
const placeTTL = 5 * time.Second

// placeCache keeps the locations and sales channels that sales and quotes
// name by code: every sale looks up both, and they change rarely.
type placeCache struct {
	mu       sync.Mutex
	channels map[[2]string]cachedPlace[location.SalesChannel]
	places   map[[2]string]cachedPlace[location.Location]
}

type cachedPlace[T any] struct {
	v  T
	at time.Time
}

// channelByCode finds a sales channel by code through the cache.
func (db *DB) channelByCode(ctx context.Context, q Querier, tenantID, code string) (location.SalesChannel, error) {
	c := &db.places
	k := [2]string{tenantID, code}
	c.mu.Lock()
	e, ok := c.channels[k]
	c.mu.Unlock()
	if ok && time.Since(e.at) < placeTTL {
		return e.v, nil
	}
	ch, err := findChannel(ctx, q, tenantID, "code", code)
	if err == nil {
		c.mu.Lock()
		if c.channels == nil {
			c.channels = map[[2]string]cachedPlace[location.SalesChannel]{}
		}
		c.channels[k] = cachedPlace[location.SalesChannel]{v: ch, at: time.Now()}
		c.mu.Unlock()
	}
	return ch, err
}

// locationByCode finds a location by code through the cache.
func (db *DB) locationByCode(ctx context.Context, q Querier, tenantID, code string) (location.Location, error) {
	c := &db.places
	k := [2]string{tenantID, code}
	c.mu.Lock()
	e, ok := c.places[k]
	c.mu.Unlock()
	if ok && time.Since(e.at) < placeTTL {
		return e.v, nil
	}
	l, err := findLocation(ctx, q, tenantID, "code", code)
	if err == nil {
		c.mu.Lock()
		if c.places == nil {
			c.places = map[[2]string]cachedPlace[location.Location]{}
		}
		c.places[k] = cachedPlace[location.Location]{v: l, at: time.Now()}
		c.mu.Unlock()
	}
	return l, err
}

// forgetPlaces drops a tenant's cached places after a change (codes can
// change too, so all of them).
func (db *DB) forgetPlaces(tenantID string) {
	db.forgetRoutingLocations(tenantID)
	c := &db.places
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.channels {
		if k[0] == tenantID {
			delete(c.channels, k)
		}
	}
	for k := range c.places {
		if k[0] == tenantID {
			delete(c.places, k)
		}
	}
}
