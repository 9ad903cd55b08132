package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// MigrationsFS returns the migrations of an engine, for checks that both
// engines' migrations stay in step.
func MigrationsFS(e Engine) fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations/"+string(e))
	if err != nil {
		panic(err)
	}
	return sub
}

// Migrate brings the schema up to date: OMO's own tables (goose) and River's
// job tables. It is safe to run from several processes at once on PostgreSQL
// (goose takes a session lock) and is forward-only.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.migrateOwn(ctx); err != nil {
		return err
	}
	return db.migrateRiver(ctx)
}

func (db *DB) migrateOwn(ctx context.Context) error {
	var sqlDB *sql.DB
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{}
	if db.engine == Postgres {
		sqlDB = stdlib.OpenDBFromPool(db.pool)
		defer sqlDB.Close()
		dialect = goose.DialectPostgres
	} else {
		sqlDB = db.writer
	}
	p, err := goose.NewProvider(dialect, sqlDB, MigrationsFS(db.engine), opts...)
	if err != nil {
		return fmt.Errorf("sqldb: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqldb: migrate: %w", err)
	}
	return nil
}

func (db *DB) migrateRiver(ctx context.Context) error {
	if db.engine == Postgres {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(db.writer), nil)
	if err != nil {
		return err
	}
	// The writer pool has one connection; database/sql makes the batcher wait for it.
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// Version reports the schema version of OMO's own migrations.
func (db *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	err := db.Read().QueryRow(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version").Scan(&v)
	return v, err
}
