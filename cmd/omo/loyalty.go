package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/omo-platform/omo/internal/id"
)

// errLedgerUnsound is returned (exit status 1) when `omo loyalty check`
// finds violations.
var errLedgerUnsound = errors.New("the loyalty ledger breaks its invariants")

func loyaltyCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(env.stderr, "Usage: omo loyalty check [--tenant ID]")
		return fmt.Errorf("%w: expected 'loyalty check'", errUsage)
	}
	fs := env.flags("loyalty check", "Checks the points ledger: every entry balances, every cached balance equals the sum of "+
		"its postings and of its lots, no member balance is below zero, no natural key was applied twice. "+
		"Prints one line per violation and exits 1 if there is any; read-only, safe on a live database.")
	dbURL := env.dbFlag(fs)
	tenant := fs.String("tenant", "", "check one tenant (ten_…); every tenant by default")
	if ok, err := parse(fs, args[1:]); !ok {
		return err
	}
	tenantID := ""
	if *tenant != "" {
		var err error
		if tenantID, err = id.Parse(id.Tenant, *tenant); err != nil {
			return fmt.Errorf("%w: --tenant: %v", errUsage, err)
		}
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	bad, err := db.CheckLoyalty(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, b := range bad {
		fmt.Fprintln(env.stdout, b)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %d violations", errLedgerUnsound, len(bad))
	}
	fmt.Fprintln(env.stdout, "loyalty ledger sound")
	return nil
}
