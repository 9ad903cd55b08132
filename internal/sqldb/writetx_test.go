package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestWriteTx_FailuresRollBackAlone hammers WriteTx from many goroutines; a
// third of the calls fail (some by panicking) after writing. Exactly the
// successful writes must be there: on SQLite they share group commits, so a
// failing call must undo only its own savepoint.
func TestWriteTx_FailuresRollBackAlone(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tn := sqldbtest.Tenant(t, db)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := map[string]bool{}
		for i := 0; i < 90; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				name := fmt.Sprintf("w%03d", i)
				err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
					if _, err := tx.Exec(ctx, `INSERT INTO customer_search_terms (tenant_id, term, customer_id) VALUES ($1, $2, $3)`,
						tn.ID, name, name); err != nil {
						return err
					}
					switch i % 6 {
					case 1:
						return errors.New("business rule says no")
					case 4:
						panic("bug in a write")
					}
					return nil
				})
				mu.Lock()
				ok[name] = err == nil
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		var stored []string
		rows, err := db.Read().Query(ctx, `SELECT term FROM customer_search_terms WHERE tenant_id = $1 ORDER BY term`, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			stored = append(stored, s)
		}
		rows.Close()
		want := 0
		for name, good := range ok {
			if good {
				want++
			}
			found := false
			for _, s := range stored {
				found = found || s == name
			}
			if found != good {
				t.Errorf("%s: acknowledged=%v but stored=%v", name, good, found)
			}
		}
		if want != 60 || len(stored) != 60 {
			t.Fatalf("want 60 acknowledged and stored writes, got %d acknowledged, %d stored", want, len(stored))
		}
	})
}

// A caller whose request ends while its write runs stops at its next
// statement, and what it wrote is rolled back; a statement already running
// is not interrupted (the writer's statements run without the request's
// cancellation).
func TestWriteTx_ACallerThatHasGoneStopsAtItsNextStatement(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		tn := sqldbtest.Tenant(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		ran := 0
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for _, term := range []string{"gone-1", "gone-2"} {
				if _, err := tx.Exec(ctx, `INSERT INTO customer_search_terms (tenant_id, term, customer_id) VALUES ($1, $2, $3)`,
					tn.ID, term, term); err != nil {
					return err
				}
				ran++
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || ran != 1 {
			t.Fatalf("WriteTx: %v after %d statements, want context.Canceled after 1", err, ran)
		}
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM customer_search_terms WHERE tenant_id = $1`, tn.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows left by the cancelled write: %d (%v), want 0", n, err)
		}
	})
}
