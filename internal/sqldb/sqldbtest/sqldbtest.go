// Package sqldbtest opens real databases for tests: a fresh SQLite file per
// test, and, when OMO_TEST_POSTGRES_URL is set, a PostgreSQL database shared
// by the test binary (tests isolate themselves by tenant).
//
// OMO_TEST_ENGINES picks engines ("sqlite", "postgres", or both comma
// separated); by default SQLite, plus PostgreSQL when its URL is set.
package sqldbtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/tenant"
)

// Engines lists the engines tests run on.
func Engines() []sqldb.Engine {
	if v := os.Getenv("OMO_TEST_ENGINES"); v != "" {
		var out []sqldb.Engine
		for _, e := range strings.Split(v, ",") {
			out = append(out, sqldb.Engine(strings.TrimSpace(e)))
		}
		return out
	}
	out := []sqldb.Engine{sqldb.SQLite}
	if os.Getenv("OMO_TEST_POSTGRES_URL") != "" {
		out = append(out, sqldb.Postgres)
	}
	return out
}

// Run runs f once per engine as a subtest named after the engine.
func Run(t *testing.T, f func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) {
			f(t, Open(t, e))
		})
	}
}

// URL returns a database URL for engine e, ready and migrated: a new SQLite
// file, or the shared PostgreSQL test database.
func URL(t testing.TB, e sqldb.Engine) string {
	t.Helper()
	if e == sqldb.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "omo.db")
	}
	u, err := sharedPostgres()
	if err != nil {
		t.Fatalf("sqldbtest: %v", err)
	}
	return u
}

// Open returns a migrated database with an insert-only job client.
func Open(t testing.TB, e sqldb.Engine) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, URL(t, e), sqldb.Options{})
	if err != nil {
		t.Fatalf("sqldbtest: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if e == sqldb.SQLite {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("sqldbtest: migrate: %v", err)
		}
	}
	if err := db.UseJobs(sqldb.JobOptions{}); err != nil {
		t.Fatalf("sqldbtest: jobs: %v", err)
	}
	return db
}

// Tenant creates a tenant with default settings and returns it.
func Tenant(t testing.TB, db *sqldb.DB) tenant.Tenant {
	t.Helper()
	tn, err := db.CreateTenant(context.Background(), fmt.Sprintf("Test Brand %d", rand.Int()))
	if err != nil {
		t.Fatalf("sqldbtest: tenant: %v", err)
	}
	return tn
}

var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error
)

// sharedPostgres creates and migrates one database per test binary.
func sharedPostgres() (string, error) {
	pgOnce.Do(func() { pgURL, pgErr = createPostgres() })
	return pgURL, pgErr
}

func createPostgres() (string, error) {
	base := os.Getenv("OMO_TEST_POSTGRES_URL")
	if base == "" {
		return "", fmt.Errorf("OMO_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", base, err)
	}
	defer admin.Close(ctx)
	dropStale(ctx, admin)
	name := fmt.Sprintf("omo_test_%d_%d", time.Now().Unix(), rand.IntN(1_000_000))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	db, err := sqldb.Open(ctx, u.String(), sqldb.Options{})
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	return u.String(), nil
}

// dropStale removes test databases left by runs more than two hours old.
func dropStale(ctx context.Context, admin *pgx.Conn) {
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'omo_test_%'")
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	cutoff := time.Now().Add(-2 * time.Hour).Unix()
	for _, n := range names {
		var ts int64
		if _, err := fmt.Sscanf(n, "omo_test_%d_", &ts); err == nil && ts < cutoff {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
		}
	}
}
