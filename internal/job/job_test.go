package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/job"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// TestErasedJob_ScrubsAuditLog erases a customer and waits for the job that
// the erasure enqueued in its own transaction to scrub the audit log.
func TestErasedJob_ScrubsAuditLog(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			db, err := sqldb.Open(ctx, sqldbtest.URL(t, e), sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.UseJobs(sqldb.JobOptions{Workers: job.Workers(db), MaxWorkers: 2}); err != nil {
				t.Fatal(err)
			}
			if err := db.StartJobs(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.StopJobs(ctx)
			tn := sqldbtest.Tenant(t, db)
			name := "Secret Name"
			res, err := db.Identify(ctx, sqldb.IdentifyParams{TenantID: tn.ID, Identifiers: customer.IdentifierInput{Email: "erase-me@shop.hk"},
				Traits: customer.Traits{FirstName: &name}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.EraseCustomer(ctx, tn.ID, res.Profile.ID, sqldb.Actor{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				export, err := db.ExportCustomer(ctx, tn.ID, res.Profile.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !leaks(export.Audit) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("the erasure job did not scrub the audit log: %+v", export.Audit)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

func leaks(entries []sqldb.AuditEntry) bool {
	for _, e := range entries {
		for _, c := range e.Changes {
			for _, v := range []any{c.Before, c.After} {
				if s, ok := v.(string); ok && (strings.Contains(s, "erase-me") || strings.Contains(s, "Secret")) {
					return true
				}
			}
		}
	}
	return false
}
