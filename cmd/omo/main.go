// Command omo runs the OMO retail platform: one binary for the API, the job
// workers and the scheduler, on embedded SQLite or on PostgreSQL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "omo:", err)
		os.Exit(exitCode(err))
	}
}
