package sqldb

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/routing"
)

// MaxDailyCapacity caps a location's daily capacity.
const MaxDailyCapacity = 1_000_000

// LocationCapacity is a location's daily capacity and what it used on one
// local day.
type LocationCapacity struct {
	LocationID    string
	LocationCode  string
	DailyCapacity int64 // 0: no limit
	Day           string
	UsedToday     int64
}

// RoutingLocations loads the tenant's locations as routing sees them, with
// today's capacity used. The location list is cached for routingTTL (it is
// on the checkout path); capacity used is read live through q, so a caller
// inside a transaction sees its own counts.
func (db *DB) RoutingLocations(ctx context.Context, q Querier, tenantID string, at time.Time) ([]routing.Location, error) {
	list, err := db.routingLocationList(ctx, q, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]routing.Location, len(list))
	days := make([]string, len(list))
	lo, hi := "", ""
	for i, l := range list {
		out[i] = l.Location
		if l.DailyCapacity > 0 {
			days[i] = routingDay(at, l.zone)
			lo, hi = earlierDay(lo, days[i]), max(hi, days[i])
		}
	}
	if hi == "" {
		return out, nil // no location has a limit: nothing to read
	}
	used := map[[2]string]int64{}
	err = queryEach(ctx, q, `SELECT location_id, day, used FROM location_capacity_usage
		WHERE tenant_id = $1 AND day >= $2 AND day <= $3`, []any{tenantID, lo, hi}, func(r Rows) error {
		var loc, day string
		var n int64
		err := r.Scan(&loc, &day, &n)
		used[[2]string{loc, day}] = n
		return err
	})
	for i := range out {
		if days[i] != "" {
			out[i].UsedToday = used[[2]string{out[i].ID, days[i]}]
		}
	}
	return out, err
}

func earlierDay(a, b string) string {
	if a == "" || b < a {
		return b
	}
	return a
}

// routingDay is the calendar day of at in a location's time zone.
func routingDay(at time.Time, zone *time.Location) string { return at.In(zone).Format(time.DateOnly) }

// UseCapacity counts one more order at each location on the local day of at,
// inside the caller's transaction. A location whose daily capacity is full
// is a Conflict (the caller routes again, or refuses); an unknown location is
// NotFound. The limit is read in the same statement as the increment, so
// concurrent checkouts never count past it.
func UseCapacity(ctx context.Context, tx *Tx, tenantID string, locationIDs []string, at time.Time) error {
	ids := slices.Clone(locationIDs)
	slices.Sort(ids) // one lock order for every caller
	for _, locID := range slices.Compact(ids) {
		l, err := tx.db.routingLocation(ctx, tx, tenantID, locID)
		if err != nil {
			return err
		}
		day := routingDay(at, l.zone)
		n, err := tx.Exec(ctx, `INSERT INTO location_capacity_usage (tenant_id, location_id, day, used) VALUES ($1, $2, $3, 1)
			ON CONFLICT (tenant_id, location_id, day) DO UPDATE SET used = location_capacity_usage.used + 1
			WHERE location_capacity_usage.used < COALESCE((SELECT c.daily_capacity FROM location_capacities c
				WHERE c.tenant_id = $1 AND c.location_id = $2 AND c.daily_capacity > 0), location_capacity_usage.used + 1)`,
			tenantID, locID, day)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.Conflict, "location %s has used its daily capacity for %s; route the order again", l.Code, day)
		}
	}
	return nil
}

// ReleaseCapacity gives back one order at each location on the local day of
// at (an order cancelled before fulfilment), inside the caller's transaction.
// A day already at zero stays at zero.
func ReleaseCapacity(ctx context.Context, tx *Tx, tenantID string, locationIDs []string, at time.Time) error {
	ids := slices.Clone(locationIDs)
	slices.Sort(ids)
	for _, locID := range slices.Compact(ids) {
		l, err := tx.db.routingLocation(ctx, tx, tenantID, locID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE location_capacity_usage SET used = used - 1
			WHERE tenant_id = $1 AND location_id = $2 AND day = $3 AND used > 0`, tenantID, locID, routingDay(at, l.zone)); err != nil {
			return err
		}
	}
	return nil
}

// routingLocation finds one location through the cached list, reading the
// list again once when the location is not in it (it may be new).
func (db *DB) routingLocation(ctx context.Context, q Querier, tenantID, locationID string) (routingLocation, error) {
	for fresh := false; ; fresh = true {
		list, err := db.routingLocationList(ctx, q, tenantID)
		if err != nil {
			return routingLocation{}, err
		}
		for _, l := range list {
			if l.ID == locationID {
				return l, nil
			}
		}
		if fresh {
			return routingLocation{}, apperr.New(apperr.NotFound, "no location with id %s", id.Format(id.Location, locationID))
		}
		db.forgetRoutingLocations(tenantID)
	}
}

// SetLocationCapacity sets how many orders a location fulfils per local day
// (0: no limit). An unknown location is NotFound.
func (db *DB) SetLocationCapacity(ctx context.Context, tenantID, locationID string, daily int64) (LocationCapacity, error) {
	if daily < 0 || daily > MaxDailyCapacity {
		return LocationCapacity{}, apperr.Field("body.daily_capacity", "0 (no limit) to 1000000 orders a day", daily)
	}
	defer db.forgetRoutingLocations(tenantID)
	err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := findLocation(ctx, tx, tenantID, "id", locationID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO location_capacities (tenant_id, location_id, daily_capacity, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, location_id) DO UPDATE SET daily_capacity = excluded.daily_capacity, updated_at = excluded.updated_at`,
			tenantID, locationID, daily, tx.Now())
		return err
	})
	if err != nil {
		return LocationCapacity{}, err
	}
	return db.FindLocationCapacity(ctx, tenantID, locationID, db.Now())
}

// FindLocationCapacity returns a location's daily capacity and what it used
// on the local day of at, read live. An unknown location is NotFound.
func (db *DB) FindLocationCapacity(ctx context.Context, tenantID, locationID string, at time.Time) (LocationCapacity, error) {
	q := db.Read()
	l, err := findLocation(ctx, q, tenantID, "id", locationID)
	if err != nil {
		return LocationCapacity{}, err
	}
	c := LocationCapacity{LocationID: l.ID, LocationCode: l.Code, Day: routingDay(at, db.timeZone(l.TimeZone))}
	err = q.QueryRow(ctx, `SELECT daily_capacity FROM location_capacities WHERE tenant_id = $1 AND location_id = $2`,
		tenantID, locationID).Scan(&c.DailyCapacity)
	if err != nil && !errors.Is(err, ErrNoRows) {
		return c, err
	}
	err = q.QueryRow(ctx, `SELECT used FROM location_capacity_usage WHERE tenant_id = $1 AND location_id = $2 AND day = $3`,
		tenantID, locationID, c.Day).Scan(&c.UsedToday)
	if errors.Is(err, ErrNoRows) {
		err = nil
	}
	return c, err
}
