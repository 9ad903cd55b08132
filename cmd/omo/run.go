package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `omo: the OMO retail platform (customers, loyalty, commerce, clienteling, marketing).

Usage:
  omo serve            run the API, job workers and scheduler
  omo migrate          bring the database schema up to date
  omo tenant create    create a tenant (a brand) and its first API key
  omo key create       mint an API key for a tenant
  omo loyalty check    check the points ledger's invariants
  omo openapi          print the OpenAPI 3.1 document
  omo version          print the version

Every command takes --db (env OMO_DATABASE_URL, default sqlite:./omo-data/omo.db).
Run "omo COMMAND --help" for a command's flags.
`

// run is the whole program: main only wires the process to it, so tests can
// run the real binary's logic in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	env := environment{getenv: getenv, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "serve":
		return serve(ctx, env, args[1:])
	case "migrate":
		return migrate(ctx, env, args[1:])
	case "tenant":
		return tenantCommand(ctx, env, args[1:])
	case "key":
		return keyCommand(ctx, env, args[1:])
	case "loyalty":
		return loyaltyCommand(ctx, env, args[1:])
	case "openapi":
		return openapi(env, args[1:])
	case "version", "--version":
		fmt.Fprintf(stdout, "omo %s\n", version)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// environment is the process's outside world, injected for tests.
type environment struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// envOr reads an OMO_* variable with a default.
func (e environment) envOr(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// flags makes a FlagSet whose errors and help go to stderr.
func (e environment) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: omo %s\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// dbFlag adds --db with its environment default.
func (e environment) dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", e.envOr("OMO_DATABASE_URL", "sqlite:./omo-data/omo.db"),
		"database: sqlite:PATH or postgres://… (env OMO_DATABASE_URL)")
}

// parse parses flags; --help is not an error.
func parse(fs *flag.FlagSet, args []string) (bool, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, nil
		}
		return false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	return true, nil
}
