package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestSQLite_PointReadsHaveTheirOwnPool: a lookup still answers while every
// connection of the other reads is held (a report or an export streaming its
// rows), because point reads have a pool of their own.
func TestSQLite_PointReadsHaveTheirOwnPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := sqldbtest.URL(t, sqldb.SQLite)
	db, err := sqldb.Open(ctx, url, sqldb.Options{ReadConns: 1, PointReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tn := sqldbtest.Tenant(t, db).ID
	res, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn, Identifiers: customer.IdentifierInput{Email: "pool@mail.hk"}})
	if err != nil {
		t.Fatal(err)
	}
	// The one connection of the other reads, held by an open result set.
	held, err := db.Read().Query(ctx, `SELECT id FROM customers WHERE tenant_id = $1`, tn)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if !held.Next() {
		t.Fatal("the held read found no customer")
	}
	type answer struct {
		p   *sqldb.Profile
		err error
	}
	found := make(chan answer, 1)
	go func() {
		p, err := db.FindCustomerByID(ctx, tn, res.Profile.ID)
		found <- answer{p, err}
	}()
	select {
	case a := <-found:
		if a.err != nil {
			t.Fatal(a.err)
		}
		if a.p.ID != res.Profile.ID {
			t.Fatalf("found %s, want %s", a.p.ID, res.Profile.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lookup waited for the held connection of the other reads")
	}
}
