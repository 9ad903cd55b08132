package sqldb_test

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/routing"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

var routingActor = sqldb.Actor{Actor: "key:test"}

func TestRouting_RuleVersions(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tenant := sqldbtest.Tenant(t, db).ID
		rs, v, err := db.ActiveRoutingRules(ctx, tenant)
		if err != nil || v != 0 || !reflect.DeepEqual(rs, routing.DefaultRuleSet()) {
			t.Fatalf("a new tenant: version %d, %v, %+v", v, err, rs)
		}
		draft := routing.DefaultRuleSet()
		draft.AllowSplit, draft.MaxShipments = false, 1
		d, err := db.CreateRoutingRules(ctx, sqldb.RoutingRulesParams{TenantID: tenant, Rules: draft, Note: "no splits"}, routingActor)
		if err != nil || d.Version != 1 || d.Status != sqldb.RoutingDraft {
			t.Fatalf("draft: %+v, %v", d, err)
		}
		if _, v, _ := db.ActiveRoutingRules(ctx, tenant); v != 0 {
			t.Fatalf("a draft became active: version %d", v)
		}
		ranked := routing.DefaultRuleSet()
		ranked.Ranking = []string{"HK-WH-01"}
		a, err := db.CreateRoutingRules(ctx, sqldb.RoutingRulesParams{TenantID: tenant, Rules: ranked, Activate: true}, routingActor)
		if err != nil || a.Version != 2 || a.Status != sqldb.RoutingActive || a.ActivatedAt == nil {
			t.Fatalf("replace: %+v, %v", a, err)
		}
		if rs, v, _ := db.ActiveRoutingRules(ctx, tenant); v != 2 || !reflect.DeepEqual(rs, ranked) {
			t.Fatalf("active after replace: version %d %+v", v, rs)
		}
		if _, err := db.ActivateRoutingRules(ctx, tenant, 1, sqldb.Actor{Actor: "key:other"}); err != nil {
			t.Fatal(err)
		}
		if rs, v, _ := db.ActiveRoutingRules(ctx, tenant); v != 1 || rs.AllowSplit {
			t.Fatalf("active after activating the draft: version %d %+v", v, rs)
		}
		vs, err := db.FindRoutingRuleVersions(ctx, sqldb.RoutingRuleFilter{TenantID: tenant, Limit: 10})
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[0].Status != sqldb.RoutingRetired ||
			vs[1].Status != sqldb.RoutingActive || vs[1].Note != "no splits" || vs[1].ActivatedBy != "key:other" || vs[1].Actor != "key:test" {
			t.Fatalf("versions: %+v, %v", vs, err)
		}
		if page, _ := db.FindRoutingRuleVersions(ctx, sqldb.RoutingRuleFilter{TenantID: tenant, Limit: 10, Before: 2}); len(page) != 1 || page[0].Version != 1 {
			t.Fatalf("page before 2: %+v", page)
		}
		// Activating the active version again changes nothing.
		again, err := db.ActivateRoutingRules(ctx, tenant, 1, routingActor)
		if err != nil || again.ActivatedBy != "key:other" {
			t.Fatalf("activate twice: %+v, %v", again, err)
		}
		if _, err := db.ActivateRoutingRules(ctx, tenant, 3, routingActor); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown version: %v", err)
		}
		bad := routing.DefaultRuleSet()
		bad.Strategy = []string{"cheapest"}
		if _, err := db.CreateRoutingRules(ctx, sqldb.RoutingRulesParams{TenantID: tenant, Rules: bad}, routingActor); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("invalid rules: %v", err)
		}
		other := sqldbtest.Tenant(t, db).ID
		if _, err := db.FindRoutingRuleVersion(ctx, other, 1); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another tenant's version: %v", err)
		}
		if _, v, _ := db.ActiveRoutingRules(ctx, other); v != 0 {
			t.Fatalf("another tenant's active version: %d", v)
		}
	})
}

// TestRouting_ConcurrentVersionsAreNumberedOnce writes drafts from many
// goroutines: every one gets its own version number.
func TestRouting_ConcurrentVersionsAreNumberedOnce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tenant := sqldbtest.Tenant(t, db).ID
		var wg sync.WaitGroup
		seen := make([]atomic.Int32, 21)
		for range 20 {
			wg.Go(func() {
				v, err := db.CreateRoutingRules(ctx, sqldb.RoutingRulesParams{TenantID: tenant, Rules: routing.DefaultRuleSet()}, routingActor)
				if err != nil {
					t.Error(err)
					return
				}
				seen[v.Version].Add(1)
			})
		}
		wg.Wait()
		for v := 1; v <= 20; v++ {
			if seen[v].Load() != 1 {
				t.Errorf("version %d handed out %d times", v, seen[v].Load())
			}
		}
	})
}

// routingShop creates a Hong Kong store with coordinates, a closed
// Singapore store and a London warehouse, and returns their ids.
func routingShop(t *testing.T, db *sqldb.DB, tenant string) (hk, sg, uk string) {
	t.Helper()
	ctx := context.Background()
	mk := func(code, typ, zone, country, status string, c *location.Coordinates) string {
		l, err := db.CreateLocation(ctx, location.Location{TenantID: tenant, Code: code, Type: typ, Names: map[string]string{"en": code},
			TimeZone: zone, Currency: "HKD", Status: status, Address: location.Address{Country: country}, Coordinates: c})
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	hk = mk("HK-CWB-01", location.TypeStore, "Asia/Hong_Kong", "HK", "open", &location.Coordinates{Latitude: 22.28, Longitude: 114.184})
	sg = mk("SG-ORC-01", location.TypeStore, "Asia/Singapore", "SG", "temporarily_closed", nil)
	uk = mk("UK-WH-01", location.TypeWarehouse, "Europe/London", "GB", "open", nil)
	return hk, sg, uk
}

func TestRouting_LocationsAndCapacity(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tenant := sqldbtest.Tenant(t, db).ID
		hk, sg, uk := routingShop(t, db, tenant)
		// 17:00 UTC on 10 March is already 11 March in Hong Kong, still 10 March in London.
		at := time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			id string
			n  int64
		}{{hk, 2}, {uk, 1}} {
			if _, err := db.SetLocationCapacity(ctx, tenant, c.id, c.n); err != nil {
				t.Fatal(err)
			}
		}
		use := func(ids ...string) error {
			return db.WriteTx(ctx, func(tx *sqldb.Tx) error { return sqldb.UseCapacity(ctx, tx, tenant, ids, at) })
		}
		if err := use(hk, uk, hk); err != nil { // a location named twice counts once
			t.Fatal(err)
		}
		if err := use(hk, sg); err != nil { // sg has no limit
			t.Fatal(err)
		}
		// HK is full; the whole call rolls back, so London keeps its count.
		if err := use(uk, hk); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("over capacity: %v", err)
		}
		locs, err := db.RoutingLocations(ctx, db.Read(), tenant, at)
		if err != nil {
			t.Fatal(err)
		}
		want := []routing.Location{
			{ID: hk, Code: "HK-CWB-01", Type: "store", Country: "HK", Point: &routing.Point{Latitude: 22.28, Longitude: 114.184},
				Active: true, DailyCapacity: 2, UsedToday: 2},
			{ID: sg, Code: "SG-ORC-01", Type: "store", Country: "SG"},
			{ID: uk, Code: "UK-WH-01", Type: "warehouse", Country: "GB", Active: true, DailyCapacity: 1, UsedToday: 1},
		}
		if !reflect.DeepEqual(locs, want) {
			t.Fatalf("routing locations\n got %+v\nwant %+v", locs, want)
		}
		// The next Hong Kong day starts with nothing used.
		if next, _ := db.RoutingLocations(ctx, db.Read(), tenant, at.Add(24*time.Hour)); next[0].UsedToday != 0 {
			t.Fatalf("next day: %+v", next[0])
		}
		if c, err := db.FindLocationCapacity(ctx, tenant, hk, at); err != nil || c.Day != "2026-03-11" || c.UsedToday != 2 {
			t.Fatalf("capacity %+v, %v", c, err)
		}
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { return sqldb.ReleaseCapacity(ctx, tx, tenant, []string{hk}, at) }); err != nil {
			t.Fatal(err)
		}
		if err := use(hk); err != nil {
			t.Fatalf("after a release: %v", err)
		}
		// Closing a location shows at once; an unknown one is NotFound.
		if _, err := db.UpdateLocation(ctx, tenant, hk, func(l *location.Location) { l.Status = "closed" }); err != nil {
			t.Fatal(err)
		}
		if locs, _ := db.RoutingLocations(ctx, db.Read(), tenant, at); locs[0].Active {
			t.Fatal("a closed location is still active for routing")
		}
		if err := use("0190f0c2-a1b2-7c3d-8e9f-0a1b2c3d4e5f"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown location: %v", err)
		}
		if _, err := db.SetLocationCapacity(ctx, tenant, hk, -1); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("negative capacity: %v", err)
		}
		other := sqldbtest.Tenant(t, db).ID
		if _, err := db.SetLocationCapacity(ctx, other, hk, 5); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another tenant's location: %v", err)
		}
	})
}

// TestRouting_CapacityUnderConcurrency has 40 checkouts race for a location
// that takes 10 orders a day: exactly 10 count.
func TestRouting_CapacityUnderConcurrency(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tenant := sqldbtest.Tenant(t, db).ID
		hk, _, _ := routingShop(t, db, tenant)
		if _, err := db.SetLocationCapacity(ctx, tenant, hk, 10); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)
		var ok, full atomic.Int32
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { return sqldb.UseCapacity(ctx, tx, tenant, []string{hk}, at) })
				switch {
				case err == nil:
					ok.Add(1)
				case apperr.Is(err, apperr.Conflict):
					full.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		c, err := db.FindLocationCapacity(ctx, tenant, hk, at)
		if ok.Load() != 10 || full.Load() != 30 || err != nil || c.UsedToday != 10 {
			t.Fatalf("%d counted, %d refused, used %d (%v)", ok.Load(), full.Load(), c.UsedToday, err)
		}
	})
}
