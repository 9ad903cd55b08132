package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/inventory"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// stockWorld is a tenant with a store (Causeway Bay), a warehouse, a
// closed store, and two sales channels (web, pos), on a movable clock.
type stockWorld struct {
	t                        *testing.T
	db                       *sqldb.DB
	clock                    *clock
	tenantID                 string
	store, warehouse, closed string
}

func openStock(t *testing.T, e sqldb.Engine) *stockWorld {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)}
	db, err := sqldb.Open(ctx, sqldbtest.URL(t, e), sqldb.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if e == sqldb.SQLite {
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UseJobs(sqldb.JobOptions{}); err != nil {
		t.Fatal(err)
	}
	w := &stockWorld{t: t, db: db, clock: c, tenantID: sqldbtest.Tenant(t, db).ID}
	w.store = w.location("CWB", location.TypeStore, "open")
	w.warehouse = w.location("WH-KT", location.TypeWarehouse, "open")
	w.closed = w.location("OLD", location.TypeStore, "closed")
	for _, code := range []string{"pos", "web"} {
		if _, err := db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: w.tenantID, Code: code, Type: code,
			Names: map[string]string{"en": code}, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *stockWorld) location(code, typ, status string) string {
	w.t.Helper()
	l, err := w.db.CreateLocation(context.Background(), location.Location{TenantID: w.tenantID, Code: code, Type: typ,
		Names: map[string]string{"en": code}, TimeZone: "Asia/Hong_Kong", Currency: "HKD", Status: status})
	if err != nil {
		w.t.Fatal(err)
	}
	return l.ID
}

// move records one movement and fails the test on error.
func (w *stockWorld) move(kind, sku, loc string, qty int64) sqldb.StockMovementRecord {
	w.t.Helper()
	recs, err := w.tryMove(sqldb.StockMovement{Kind: kind, SKU: sku, LocationID: loc, Quantity: qty, Reason: reasonFor(kind)})
	if err != nil {
		w.t.Fatalf("%s %d %s: %v", kind, qty, sku, err)
	}
	return recs[0]
}

func reasonFor(kind string) string {
	if kind == inventory.KindAdjustment {
		return "correction"
	}
	return ""
}

func (w *stockWorld) tryMove(ms ...sqldb.StockMovement) ([]sqldb.StockMovementRecord, error) {
	return w.db.RecordMovements(context.Background(), sqldb.MovementsParams{TenantID: w.tenantID, Movements: ms})
}

// hold reserves in a transaction of its own.
func (w *stockWorld) hold(h sqldb.StockHold) (string, error) {
	h.TenantID = w.tenantID
	var rid string
	err := w.db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		var err error
		rid, err = sqldb.ReserveStock(context.Background(), tx, h)
		return err
	})
	return rid, err
}

// level returns on hand and reserved of a SKU at a location.
func (w *stockWorld) level(sku, loc string) (onHand, reserved int64) {
	w.t.Helper()
	ls, err := w.db.FindStockLevels(context.Background(), sqldb.StockLevelFilter{TenantID: w.tenantID, SKU: sku, LocationID: loc, Limit: 2})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(ls) == 0 {
		return 0, 0
	}
	return ls[0].OnHand, ls[0].Reserved
}

// available asks what a channel may sell of a SKU, per location.
func (w *stockWorld) available(channel, sku string) map[string]int64 {
	w.t.Helper()
	m, err := w.db.AvailableStock(context.Background(), w.db.Read(), w.tenantID, channel, []string{sku})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]int64{}
	for loc, skus := range m {
		if n, ok := skus[sku]; ok {
			out[loc] = n
		}
	}
	return out
}

// check runs the stock invariants; every scenario ends with it.
func (w *stockWorld) check() {
	w.t.Helper()
	bad, err := w.db.CheckInventory(context.Background(), w.tenantID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, b := range bad {
		w.t.Error("invariant:", b)
	}
}

func (w *stockWorld) facts(kind string) []sqldb.StockFact {
	w.t.Helper()
	fs, err := w.db.FindStockFacts(context.Background(), sqldb.StockFactFilter{TenantID: w.tenantID, Kind: kind, Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	return fs
}

// TestInventory_OversellRace: 500 concurrent holds of one unit of a SKU
// with 10 on hand produce exactly 10 reservations and 490 clean conflicts.
func TestInventory_OversellRace(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openStock(t, e)
			w.move(inventory.KindReceipt, "HOT-TEE", w.warehouse, 10)
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				ok, short int
				other     []error
			)
			start := make(chan struct{})
			for i := range 500 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := w.hold(sqldb.StockHold{Ref: fmt.Sprintf("cart-%d", i), SalesChannel: "web",
						ExpiresAt: w.clock.Now().Add(15 * time.Minute), Lines: []sqldb.StockHoldLine{{SKU: "HOT-TEE", LocationID: w.warehouse, Quantity: 1}}})
					var s *sqldb.StockShortage
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case apperr.Is(err, apperr.Conflict) && errors.As(err, &s) && s.Available == 0 && s.SKU == "HOT-TEE":
						short++
					default:
						other = append(other, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if ok != 10 || short != 490 || len(other) > 0 {
				t.Fatalf("%d held, %d short, other errors %v", ok, short, other)
			}
			if onHand, reserved := w.level("HOT-TEE", w.warehouse); onHand != 10 || reserved != 10 {
				t.Errorf("on hand %d, reserved %d; want 10 and 10", onHand, reserved)
			}
			if got := w.available("web", "HOT-TEE")[w.warehouse]; got != 0 {
				t.Errorf("web may sell %d", got)
			}
			w.check()
		})
	}
}

func TestInventory_HoldIsAllOrNoneInsideTheCallersTransaction(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := openStockOn(t, db)
		w.move(inventory.KindReceipt, "TEE", w.store, 3)
		w.move(inventory.KindReceipt, "CAP", w.store, 1)
		ctx := context.Background()
		var first error
		var second string
		// Checkout tries the store for both lines, is refused on the cap, and
		// goes on in the same transaction with the tee alone.
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, first = sqldb.ReserveStock(ctx, tx, sqldb.StockHold{TenantID: w.tenantID, Ref: "order-1",
				Lines: []sqldb.StockHoldLine{{"TEE", w.store, 2}, {"CAP", w.store, 2}}})
			var err error
			second, err = sqldb.ReserveStock(ctx, tx, sqldb.StockHold{TenantID: w.tenantID, Ref: "order-1",
				Lines: []sqldb.StockHoldLine{{"TEE", w.store, 2}}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var s *sqldb.StockShortage
		if !errors.As(first, &s) || s.SKU != "CAP" || s.Available != 1 || s.Requested != 2 || s.Line != 1 || s.LocationID != w.store {
			t.Fatalf("first hold: %v (%+v)", first, s)
		}
		if e, _ := apperr.As(first); e == nil || e.Kind != apperr.Conflict || e.Fields[0].Location != "body.lines[1].quantity" {
			t.Errorf("first hold's error: %#v", e)
		}
		if _, reserved := w.level("TEE", w.store); reserved != 2 {
			t.Errorf("TEE reserved %d, want 2 (the refused hold's tee given back)", reserved)
		}
		if _, reserved := w.level("CAP", w.store); reserved != 0 {
			t.Errorf("CAP reserved %d", reserved)
		}
		r, err := db.FindReservationByID(ctx, w.tenantID, second)
		if err != nil || len(r.Lines) != 1 || r.Status != sqldb.ReservationHeld || r.ExpiresAt != nil {
			t.Errorf("reservation %+v, %v", r, err)
		}
		// The same ref and lines again is a retry; other lines are a Conflict.
		if again, err := w.hold(sqldb.StockHold{Ref: "order-1", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 1}, {"TEE", w.store, 1}}}); err != nil || again != second {
			t.Errorf("retry: %s, %v; want %s", again, err, second)
		}
		if _, err := w.hold(sqldb.StockHold{Ref: "order-1", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 1}}}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("other lines under the same ref: %v", err)
		}
		// A closed location holds nothing; an unknown one is a field error.
		if _, err := w.hold(sqldb.StockHold{Ref: "x", Lines: []sqldb.StockHoldLine{{"TEE", w.closed, 1}}}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("closed location: %v", err)
		}
		if _, err := w.hold(sqldb.StockHold{Ref: "x", Lines: []sqldb.StockHoldLine{{"TEE", "0190f0c2-a1b2-7c3d-8e9f-0a1b2c3d4e5f", 1}}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unknown location: %v", err)
		}
		if _, err := w.hold(sqldb.StockHold{Ref: "x", SalesChannel: "tmall", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 1}}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unknown sales channel: %v", err)
		}
		w.check()
	})
}

// openStockOn builds the stock world on a database opened by sqldbtest
// (its clock is the real one).
func openStockOn(t *testing.T, db *sqldb.DB) *stockWorld {
	t.Helper()
	w := &stockWorld{t: t, db: db, clock: &clock{t: time.Now()}, tenantID: sqldbtest.Tenant(t, db).ID}
	w.store = w.location("CWB", location.TypeStore, "open")
	w.warehouse = w.location("WH-KT", location.TypeWarehouse, "open")
	w.closed = w.location("OLD", location.TypeStore, "closed")
	for _, code := range []string{"pos", "web"} {
		if _, err := db.CreateSalesChannel(context.Background(), location.SalesChannel{TenantID: w.tenantID, Code: code, Type: code,
			Names: map[string]string{"en": code}, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// TestInventory_ExpiredHoldsRelease: an associate holds a size for a VIP
// for 24 hours; the job releases it once the time has passed, and the web
// shop can sell the size again (a back-in-stock fact).
func TestInventory_ExpiredHoldsRelease(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			w := openStock(t, e)
			ctx := context.Background()
			w.move(inventory.KindReceipt, "DRESS-S", w.store, 1)
			vip, err := w.hold(sqldb.StockHold{Ref: "vip-amy", Reason: "VIP fitting", Actor: "user:associate-7",
				ExpiresAt: w.clock.Now().Add(24 * time.Hour), Lines: []sqldb.StockHoldLine{{"DRESS-S", w.store, 1}}})
			if err != nil {
				t.Fatal(err)
			}
			cart, err := w.hold(sqldb.StockHold{Ref: "cart-9", ExpiresAt: w.clock.Now().Add(time.Hour),
				Lines: []sqldb.StockHoldLine{{"DRESS-S", w.store, 1}}})
			if !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("a cart took the VIP's dress: %s %v", cart, err)
			}
			w.clock.Add(23 * time.Hour)
			if n, err := w.db.ReleaseExpiredReservations(ctx, w.clock.Now(), w.tenantID); err != nil || n != 0 {
				t.Fatalf("released %d early (%v)", n, err)
			}
			w.clock.Add(time.Hour)
			if n, err := w.db.ReleaseExpiredReservations(ctx, w.clock.Now(), w.tenantID); err != nil || n != 1 {
				t.Fatalf("released %d, want 1 (%v)", n, err)
			}
			r, err := w.db.FindReservationByID(ctx, w.tenantID, vip)
			if err != nil || r.Status != sqldb.ReservationExpired || r.Lines[0].Status != "released" || r.Actor != "user:associate-7" {
				t.Fatalf("after expiry: %+v %v", r, err)
			}
			if _, reserved := w.level("DRESS-S", w.store); reserved != 0 {
				t.Errorf("reserved %d after expiry", reserved)
			}
			back := w.facts(inventory.FactBackInStock) // the receipt's two, then the release's two
			if len(back) != 4 || back[2].SKU != "DRESS-S" || back[2].AvailableBefore != 0 || back[2].AvailableAfter != 1 ||
				back[2].Cause != "release:"+vip || back[2].LocationID != w.store || back[3].SalesChannel != "web" {
				t.Errorf("back-in-stock facts %+v", back)
			}
			// Committing an expired hold is refused; the ref is free again.
			err = w.db.WriteTx(ctx, func(tx *sqldb.Tx) error { return sqldb.CommitReservation(ctx, tx, w.tenantID, vip, "", "ship-1") })
			if !apperr.Is(err, apperr.Conflict) {
				t.Errorf("commit after expiry: %v", err)
			}
			if _, err := w.hold(sqldb.StockHold{Ref: "vip-amy", Lines: []sqldb.StockHoldLine{{"DRESS-S", w.store, 1}}}); err != nil {
				t.Errorf("hold again: %v", err)
			}
			w.check()
		})
	}
}

func TestInventory_SafetyStockPerChannel(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := openStockOn(t, db)
		ctx := context.Background()
		w.move(inventory.KindReceipt, "TEE", w.store, 5)
		w.move(inventory.KindReceipt, "TEE", w.warehouse, 5)
		w.move(inventory.KindReceipt, "TEE", w.closed, 9)
		w.move(inventory.KindReceipt, "CAP", w.store, 5)
		// Store floor stock is not sold online below 3; the cap is exempt.
		for _, p := range []sqldb.SafetyStockParams{
			{SalesChannelCode: "web", LocationType: location.TypeStore, Quantity: 3},
			{SalesChannelCode: "web", SKU: "CAP", LocationID: w.store, Quantity: 0},
		} {
			p.TenantID = w.tenantID
			if _, err := db.SetSafetyStock(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if web := w.available("web", "TEE"); len(web) != 2 || web[w.store] != 2 || web[w.warehouse] != 5 {
			t.Errorf("web may sell %v", web)
		}
		if pos := w.available("pos", "TEE"); pos[w.store] != 5 {
			t.Errorf("pos may sell %v", pos)
		}
		if all := w.available("", "TEE"); len(all) != 2 { // the closed store sells nothing
			t.Errorf("no channel: %v", all)
		}
		if web := w.available("web", "CAP"); web[w.store] != 5 {
			t.Errorf("web may sell %v caps", web)
		}
		_, err := w.hold(sqldb.StockHold{Ref: "web-1", SalesChannel: "web", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 3}}})
		var s *sqldb.StockShortage
		if !errors.As(err, &s) || s.Available != 2 {
			t.Fatalf("web took floor stock: %v", err)
		}
		if _, err := w.hold(sqldb.StockHold{Ref: "web-1", SalesChannel: "web", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 2}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.hold(sqldb.StockHold{Ref: "pos-1", SalesChannel: "pos", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 3}}}); err != nil {
			t.Fatalf("the till could not sell the floor stock: %v", err)
		}
		levels, err := db.FindStockLevels(ctx, sqldb.StockLevelFilter{TenantID: w.tenantID, SKU: "TEE", LocationID: w.store, Limit: 10})
		if err != nil || len(levels) != 1 {
			t.Fatal(levels, err)
		}
		want := []sqldb.ChannelStock{{SalesChannel: "pos", SafetyStock: 0, Available: 0}, {SalesChannel: "web", SafetyStock: 3, Available: 0}}
		if l := levels[0]; l.OnHand != 5 || l.Reserved != 5 || l.Available != 0 || fmt.Sprint(l.Channels) != fmt.Sprint(want) {
			t.Errorf("level %+v", l)
		}
		rules, err := db.FindSafetyStock(ctx, sqldb.SafetyStockFilter{TenantID: w.tenantID, SalesChannelCode: "web", Limit: 10})
		if err != nil || len(rules) != 2 || rules[0].SKU != "" || rules[1].SKU != "CAP" {
			t.Errorf("rules %+v %v", rules, err)
		}
		if _, err := db.SetSafetyStock(ctx, sqldb.SafetyStockParams{TenantID: w.tenantID, SalesChannelCode: "tmall", Quantity: 1}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unknown channel: %v", err)
		}
		w.check()
	})
}

func TestInventory_TransfersAreAtomic(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := openStockOn(t, db)
		ctx := context.Background()
		w.move(inventory.KindReceipt, "TEE", w.warehouse, 10)
		w.move(inventory.KindReceipt, "CAP", w.warehouse, 1)
		transfer := func(key string, lines ...sqldb.TransferLine) (sqldb.Transfer, error) {
			return db.TransferStock(ctx, sqldb.TransferParams{TenantID: w.tenantID, FromLocationID: w.warehouse, ToLocationID: w.store,
				Lines: lines, Reference: "TO-1", Key: key, Actor: sqldb.Actor{Actor: "test"}})
		}
		// The cap line cannot go: neither line moves.
		if _, err := transfer("", sqldb.TransferLine{"TEE", 4}, sqldb.TransferLine{"CAP", 2}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("short transfer: %v", err)
		}
		if onHand, _ := w.level("TEE", w.store); onHand != 0 {
			t.Fatalf("half a transfer applied: %d tees at the store", onHand)
		}
		tr, err := transfer("TO-1", sqldb.TransferLine{"TEE", 4}, sqldb.TransferLine{"CAP", 1})
		if err != nil || len(tr.Movements) != 4 || tr.Duplicate {
			t.Fatalf("transfer: %+v %v", tr, err)
		}
		again, err := transfer("TO-1", sqldb.TransferLine{"TEE", 4}, sqldb.TransferLine{"CAP", 1})
		if err != nil || !again.Duplicate || again.ID != tr.ID {
			t.Errorf("resend: %+v %v (first %s)", again, err, tr.ID)
		}
		if _, err := transfer("TO-1", sqldb.TransferLine{"TEE", 4}, sqldb.TransferLine{"SOCK", 1}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("the key with other lines: %v", err)
		}
		if a, _ := w.level("TEE", w.warehouse); a != 6 {
			t.Errorf("warehouse tees %d", a)
		}
		if b, _ := w.level("TEE", w.store); b != 4 {
			t.Errorf("store tees %d", b)
		}
		// Reserved units do not leave.
		if _, err := w.hold(sqldb.StockHold{Ref: "o-1", Lines: []sqldb.StockHoldLine{{"TEE", w.warehouse, 5}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := transfer("", sqldb.TransferLine{"TEE", 2}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("transferred reserved units: %v", err)
		}
		if _, err := transfer("", sqldb.TransferLine{"TEE", 1}); err != nil {
			t.Errorf("the unreserved unit: %v", err)
		}
		w.check()
	})
}

func TestInventory_MovementsApplyOnce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := openStockOn(t, db)
		receipt := sqldb.StockMovement{Kind: inventory.KindReceipt, SKU: "TEE", LocationID: w.store, Quantity: 12, Reference: "GRN-77", Key: "GRN-77:1"}
		first, err := w.tryMove(receipt)
		if err != nil || first[0].Duplicate || first[0].OnHandAfter != 12 {
			t.Fatalf("receipt: %+v %v", first, err)
		}
		again, err := w.tryMove(receipt)
		if err != nil || !again[0].Duplicate || again[0].ID != first[0].ID {
			t.Fatalf("resend: %+v %v", again, err)
		}
		other := receipt
		other.Quantity = 13
		if _, err := w.tryMove(other); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("the key with another quantity: %v", err)
		}
		// A count sets on hand; sent again after a sale it changes nothing.
		count := sqldb.StockMovement{Kind: inventory.KindCount, SKU: "TEE", LocationID: w.store, Quantity: 10, Reason: "cycle_count", Key: "COUNT-1:TEE"}
		if recs, err := w.tryMove(count); err != nil || recs[0].Quantity != -2 {
			t.Fatalf("count: %+v %v", recs, err)
		}
		w.move(inventory.KindSale, "TEE", w.store, 1)
		if recs, err := w.tryMove(count); err != nil || !recs[0].Duplicate {
			t.Fatalf("count resent: %+v %v", recs, err)
		}
		if onHand, _ := w.level("TEE", w.store); onHand != 9 {
			t.Errorf("on hand %d, want 9", onHand)
		}
		// A batch is all or none: the bad sale undoes the good receipt.
		_, err = w.tryMove(sqldb.StockMovement{Kind: inventory.KindReceipt, SKU: "CAP", LocationID: w.store, Quantity: 5},
			sqldb.StockMovement{Kind: inventory.KindSale, SKU: "TEE", LocationID: w.store, Quantity: 10})
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("oversold at the till: %v", err)
		}
		if onHand, _ := w.level("CAP", w.store); onHand != 0 {
			t.Errorf("half a batch applied: %d caps", onHand)
		}
		_, err = w.tryMove(sqldb.StockMovement{Kind: inventory.KindAdjustment, SKU: "TEE", LocationID: w.store, Quantity: -1})
		if e, _ := apperr.As(err); e == nil || e.Fields[0].Location != "body.movements[0].reason" {
			t.Errorf("adjustment without a reason: %v", err)
		}
		journal, err := db.FindStockMovements(context.Background(), sqldb.StockMovementFilter{TenantID: w.tenantID, SKU: "TEE", Limit: 10})
		if err != nil || len(journal) != 3 || journal[0].Kind != inventory.KindSale || journal[2].Key != "GRN-77:1" {
			t.Errorf("journal %+v %v", journal, err)
		}
		w.check()
	})
}

func TestInventory_CommitAndRelease(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := openStockOn(t, db)
		ctx := context.Background()
		w.move(inventory.KindReceipt, "TEE", w.store, 3)
		w.move(inventory.KindReceipt, "TEE", w.warehouse, 3)
		rid, err := w.hold(sqldb.StockHold{Ref: "order-7", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 1}, {"TEE", w.warehouse, 2}}})
		if err != nil {
			t.Fatal(err)
		}
		tx := func(f func(tx *sqldb.Tx) error) error { return db.WriteTx(ctx, f) }
		// The store hands over its tee; the warehouse line is still held.
		if err := tx(func(tx *sqldb.Tx) error { return sqldb.CommitReservation(ctx, tx, w.tenantID, rid, w.store, "shp-1") }); err != nil {
			t.Fatal(err)
		}
		if err := tx(func(tx *sqldb.Tx) error { return sqldb.CommitReservation(ctx, tx, w.tenantID, rid, w.store, "shp-1") }); err != nil {
			t.Errorf("a retried commit: %v", err)
		}
		if onHand, reserved := w.level("TEE", w.store); onHand != 2 || reserved != 0 {
			t.Errorf("store: %d on hand, %d reserved", onHand, reserved)
		}
		sales, _ := db.FindStockMovements(ctx, sqldb.StockMovementFilter{TenantID: w.tenantID, Kind: inventory.KindSale, Limit: 5})
		if len(sales) != 1 || sales[0].Reference != "shp-1" || sales[0].ReservationID != rid || sales[0].Quantity != -1 {
			t.Errorf("sales %+v", sales)
		}
		r, _ := db.FindReservationByID(ctx, w.tenantID, rid)
		if r.Status != sqldb.ReservationHeld {
			t.Errorf("status %s with the warehouse line held", r.Status)
		}
		// The customer cancels the rest.
		if err := tx(func(tx *sqldb.Tx) error { return sqldb.ReleaseReservation(ctx, tx, w.tenantID, rid, "") }); err != nil {
			t.Fatal(err)
		}
		if err := tx(func(tx *sqldb.Tx) error { return sqldb.ReleaseReservation(ctx, tx, w.tenantID, rid, "") }); err != nil {
			t.Errorf("a second release: %v", err)
		}
		if _, reserved := w.level("TEE", w.warehouse); reserved != 0 {
			t.Errorf("warehouse reserved %d", reserved)
		}
		r, _ = db.FindReservationByID(ctx, w.tenantID, rid)
		if r.Status != sqldb.ReservationCommitted || r.Lines[0].Status != "committed" || r.Lines[1].Status != "released" {
			t.Errorf("reservation %+v", r)
		}
		err = tx(func(tx *sqldb.Tx) error {
			return sqldb.CommitReservation(ctx, tx, w.tenantID, rid, w.warehouse, "shp-2")
		})
		if !apperr.Is(err, apperr.Conflict) {
			t.Errorf("commit of a released line: %v", err)
		}
		// A till sells a unit a cart holds: the cart's commit is refused.
		held, err := w.hold(sqldb.StockHold{Ref: "cart-2", Lines: []sqldb.StockHoldLine{{"TEE", w.store, 2}}})
		if err != nil {
			t.Fatal(err)
		}
		w.move(inventory.KindSale, "TEE", w.store, 1)
		err = tx(func(tx *sqldb.Tx) error { return sqldb.CommitReservation(ctx, tx, w.tenantID, held, "", "shp-3") })
		if !apperr.Is(err, apperr.Conflict) {
			t.Errorf("committed more than on hand: %v", err)
		}
		if got := w.available("", "TEE")[w.store]; got != 0 {
			t.Errorf("available %d with more reserved than on hand", got)
		}
		// Returns restock through RecordMovement.
		if err := tx(func(tx *sqldb.Tx) error {
			return sqldb.RecordMovement(ctx, tx, sqldb.StockMovement{TenantID: w.tenantID, Kind: inventory.KindReturn, SKU: "TEE",
				LocationID: w.store, Quantity: 1, Reference: "rtn-1", Key: "return:rtn-1:1"})
		}); err != nil {
			t.Fatal(err)
		}
		if err := tx(func(tx *sqldb.Tx) error { return sqldb.CommitReservation(ctx, tx, w.tenantID, held, "", "shp-3") }); err != nil {
			t.Errorf("commit after the return: %v", err)
		}
		if err := tx(func(tx *sqldb.Tx) error {
			return sqldb.ReleaseReservation(ctx, tx, w.tenantID, "0190f0c2-a1b2-7c3d-8e9f-0a1b2c3d4e5f", "")
		}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown reservation: %v", err)
		}
		w.check()
	})
}

func TestInventory_Facts(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := openStockOn(t, db)
		ctx := context.Background()
		if _, err := db.SetLowStockThreshold(ctx, sqldb.ThresholdParams{TenantID: w.tenantID, SKU: "TEE", LowStock: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetSafetyStock(ctx, sqldb.SafetyStockParams{TenantID: w.tenantID, SalesChannelCode: "web", LocationID: w.store, Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		w.move(inventory.KindReceipt, "TEE", w.store, 4)
		w.move(inventory.KindReceipt, "CAP", w.store, 7)
		// Both channels could not sell the tee before the receipt.
		back := w.facts(inventory.FactBackInStock)
		if len(back) != 4 || back[0].SalesChannel != "pos" || back[0].AvailableAfter != 4 || back[1].SalesChannel != "web" || back[1].AvailableAfter != 3 {
			t.Fatalf("back in stock: %+v", back)
		}
		w.move(inventory.KindSale, "TEE", w.store, 1) // 3 left: above 2
		w.move(inventory.KindSale, "TEE", w.store, 1) // 2 left: low
		w.move(inventory.KindSale, "TEE", w.store, 1) // still low: no new fact
		if _, err := w.hold(sqldb.StockHold{Ref: "cart", Lines: []sqldb.StockHoldLine{{"CAP", w.store, 2}}}); err != nil {
			t.Fatal(err)
		}
		low := w.facts(inventory.FactLowStock)
		if len(low) != 2 || low[0].SKU != "TEE" || low[0].AvailableBefore != 3 || low[0].AvailableAfter != 2 || *low[0].Threshold != 2 ||
			low[1].SKU != "CAP" || low[1].AvailableAfter != 5 || *low[1].Threshold != inventory.DefaultLowStock {
			t.Fatalf("low stock: %+v", low)
		}
		// The last tee sells (web could sell none of it already: safety 1);
		// a receipt at the warehouse makes both channels able to sell again.
		w.move(inventory.KindSale, "TEE", w.store, 1)
		w.move(inventory.KindReceipt, "TEE", w.warehouse, 1)
		back = w.facts(inventory.FactBackInStock)
		if len(back) != 6 || back[4].LocationID != w.warehouse || back[5].SalesChannel != "web" || back[5].AvailableBefore != 0 {
			t.Errorf("back in stock after selling out: %+v", back[4:])
		}
		// One inventory.facts job per change that recorded facts.
		var jobs int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'inventory.facts' AND CAST(args AS TEXT) LIKE $1`,
			"%"+w.tenantID+"%").Scan(&jobs); err != nil || jobs != 5 {
			t.Errorf("%d facts jobs (%v), want 5", jobs, err)
		}
		page, err := db.FindStockFacts(ctx, sqldb.StockFactFilter{TenantID: w.tenantID, Limit: 3, After: back[0].ID})
		if err != nil || len(page) != 3 || page[0].ID <= back[0].ID {
			t.Errorf("page after the first fact: %+v %v", page, err)
		}
		w.check()
	})
}
