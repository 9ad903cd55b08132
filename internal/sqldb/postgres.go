package sqldb

import (
	"context"
	"fmt"
	"runtime"

	"github.com/jackc/pgx/v5/pgxpool"
)

func openPostgres(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("sqldb: bad PostgreSQL URL: %w", err)
	}
	n := int32(opts.ReadConns)
	if n <= 0 {
		n = int32(max(8, 4*runtime.NumCPU()))
	}
	cfg.MaxConns = n
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqldb: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqldb: connect: %w", err)
	}
	return &DB{engine: Postgres, pool: pool}, nil
}
