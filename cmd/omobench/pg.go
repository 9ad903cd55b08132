package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// checkLoopbackPostgres refuses a PostgreSQL URL that is not on this machine.
func checkLoopbackPostgres(raw string) error {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("--postgres-url: %w", err)
	}
	if ip := net.ParseIP(cfg.Host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--postgres-url must point at a loopback address such as 127.0.0.1, not %q", cfg.Host)
	}
	return nil
}

// createPGDatabase creates a fresh database next to the one adminURL names and
// returns its URL and a function that drops it.
func createPGDatabase(ctx context.Context, adminURL, name string) (string, func() error, error) {
	if err := checkLoopbackPostgres(adminURL); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}

// autovacuumOn reports the server's autovacuum setting.
func autovacuumOn(ctx context.Context, dbURL string) (bool, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v string
	if err := conn.QueryRow(ctx, "SHOW autovacuum").Scan(&v); err != nil {
		return false, err
	}
	return v == "on", nil
}

// startAnalyzer runs ANALYZE on the bench database every interval until the
// returned stop is called: what autovacuum's analyze would do on a server
// where it is on. Without it, on a server with autovacuum off, the planner
// keeps the plans it made for empty tables while they grow.
func startAnalyzer(ctx context.Context, dbURL string, every time.Duration, logf func(string, ...any)) (stop func() int) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan int)
	go func() {
		runs := 0
		defer func() { done <- runs }()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			logf("analyzer: %v", err)
			return
		}
		defer conn.Close(context.WithoutCancel(ctx))
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
				if ctx.Err() == nil {
					logf("analyzer: %v", err)
				}
				return
			}
			runs++
		}
	}()
	return func() int {
		cancel()
		return <-done
	}
}

// analyze runs one ANALYZE on the bench database.
func analyze(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}
