package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

var errGiveUp = errors.New("give up")

// ExecLater holds writes back on PostgreSQL until the next statement or the
// commit. What a transaction reads, what it commits and the errors it
// returns must be as if every write had run at once.
func TestExecLater(t *testing.T) {
	t.Parallel()
	const insert = `INSERT INTO loyalty_accounts (tenant_id, kind, owner, balance) VALUES ($1, $2, $3, $4)`
	balance := func(db *sqldb.DB, tenantID, owner string) (int64, error) {
		var b int64
		err := db.Read().QueryRow(context.Background(), `SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'test' AND owner = $2`,
			tenantID, owner).Scan(&b)
		return b, err
	}
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			db := sqldbtest.Open(t, e)
			tn := sqldbtest.Tenant(t, db).ID
			ctx := context.Background()
			for _, tc := range []struct {
				name    string
				fn      func(tx *sqldb.Tx) error
				owner   string
				want    int64 // committed balance; -1 for no row
				wantErr func(error) bool
			}{
				{name: "a read sees the writes queued before it", owner: "a", want: 7, fn: func(tx *sqldb.Tx) error {
					if err := tx.ExecLater(ctx, insert, tn, "test", "a", 5); err != nil {
						return err
					}
					if err := tx.ExecLater(ctx, `UPDATE loyalty_accounts SET balance = balance + 2 WHERE tenant_id = $1 AND kind = 'test' AND owner = 'a'`, tn); err != nil {
						return err
					}
					var b int64
					if err := tx.QueryRow(ctx, `SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = 'test' AND owner = 'a'`, tn).Scan(&b); err != nil {
						return err
					}
					if b != 7 {
						return errors.New("the read did not see the queued writes")
					}
					return nil
				}},
				{name: "a write queued last is committed", owner: "b", want: 3, fn: func(tx *sqldb.Tx) error {
					return tx.ExecLater(ctx, insert, tn, "test", "b", 3)
				}},
				{name: "a queued write that fails fails the transaction, with its cause", owner: "c", want: -1,
					wantErr: sqldb.IsUniqueViolation, fn: func(tx *sqldb.Tx) error {
						if err := tx.ExecLater(ctx, insert, tn, "test", "c", 1); err != nil {
							return err
						}
						return tx.ExecLater(ctx, insert, tn, "test", "c", 2) // same key
					}},
				{name: "a transaction that fails after its writes were sent commits none of them", owner: "d", want: -1,
					wantErr: func(err error) bool { return errors.Is(err, errGiveUp) }, fn: func(tx *sqldb.Tx) error {
						if err := tx.ExecLater(ctx, insert, tn, "test", "d", 1); err != nil {
							return err
						}
						var n int
						if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM loyalty_accounts WHERE tenant_id = $1 AND owner = 'd'`, tn).Scan(&n); err != nil || n != 1 {
							return fmt.Errorf("count %d: %v", n, err)
						}
						return errGiveUp
					}},
				{name: "a transaction that does nothing", owner: "e", want: -1, fn: func(*sqldb.Tx) error { return nil }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := db.WriteTx(ctx, tc.fn)
					if tc.wantErr == nil && err != nil {
						t.Fatal(err)
					}
					if tc.wantErr != nil && !tc.wantErr(err) {
						t.Fatalf("error %v", err)
					}
					got, err := balance(db, tn, tc.owner)
					if errors.Is(err, sqldb.ErrNoRows) {
						got, err = -1, nil
					}
					if err != nil || got != tc.want {
						t.Fatalf("committed balance %d (%v), want %d", got, err, tc.want)
					}
				})
			}
		})
	}
}
