package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/omo-platform/omo/internal/api"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

func openMigrated(ctx context.Context, url string) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, url, sqldb.Options{})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, env environment, args []string) error {
	fs := env.flags("migrate", "Applies every pending migration (forward-only) for OMO and its job queue.")
	dbURL := env.dbFlag(fs)
	if ok, err := parse(fs, args); !ok {
		return err
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "schema at version %d (%s)\n", v, db.Engine())
	return nil
}

func tenantCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(env.stderr, "Usage: omo tenant create --name NAME")
		return fmt.Errorf("%w: expected 'tenant create'", errUsage)
	}
	fs := env.flags("tenant create", "Creates a tenant (a brand) and prints its id and a secret API key with every scope, "+
		"shown only this once, as one JSON object.")
	dbURL := env.dbFlag(fs)
	name := fs.String("name", "", "the brand's name (required)")
	if ok, err := parse(fs, args[1:]); !ok {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return fmt.Errorf("%w: --name is required", errUsage)
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.CreateTenant(ctx, *name)
	if err != nil {
		return err
	}
	k, secret, err := db.CreateKey(ctx, sqldb.KeyParams{TenantID: t.ID, Kind: auth.Secret, Name: "initial key",
		Scopes: []string{auth.ScopeAll}, CreatedBy: "cli"})
	if err != nil {
		return err
	}
	return printJSON(env, map[string]any{"tenant_id": id.Format(id.Tenant, t.ID), "name": t.Name,
		"key_id": id.Format(id.Key, k.ID), "api_key": secret, "scopes": k.Scopes})
}

func keyCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(env.stderr, "Usage: omo key create --tenant ID --scopes a,b")
		return fmt.Errorf("%w: expected 'key create'", errUsage)
	}
	fs := env.flags("key create", "Mints an API key for a tenant and prints it once, as JSON. Scopes: "+
		strings.Join(auth.AllScopes, ", ")+", or * for all.")
	dbURL := env.dbFlag(fs)
	tenantID := fs.String("tenant", "", "tenant id, ten_… (required)")
	scopes := fs.String("scopes", "", "comma-separated scopes (required)")
	kind := fs.String("kind", auth.Secret, "sk (secret) or pk (publishable)")
	name := fs.String("name", "", "a label for the key")
	channel := fs.String("sales-channel", "", "code of the sales channel that orders tracked with this key are recorded in (tracking API)")
	if ok, err := parse(fs, args[1:]); !ok {
		return err
	}
	sc, err := auth.ParseScopes(*scopes)
	if err != nil {
		return fmt.Errorf("%w: --scopes: %v", errUsage, err)
	}
	tid, err := id.Parse(id.Tenant, *tenantID)
	if err != nil {
		return fmt.Errorf("%w: --tenant: %v", errUsage, err)
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	k, secret, err := db.CreateKey(ctx, sqldb.KeyParams{TenantID: tid, Kind: *kind, Name: *name, Scopes: sc, CreatedBy: "cli",
		SalesChannel: *channel})
	if err != nil {
		return err
	}
	return printJSON(env, map[string]any{"tenant_id": id.Format(id.Tenant, tid), "key_id": id.Format(id.Key, k.ID),
		"api_key": secret, "scopes": k.Scopes, "kind": k.Kind})
}

func openapi(env environment, args []string) error {
	fs := env.flags("openapi", "Prints the OpenAPI 3.1 document of the HTTP API.")
	if ok, err := parse(fs, args); !ok {
		return err
	}
	raw, err := json.MarshalIndent(api.OpenAPI(version), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.stdout, string(raw))
	return err
}

func printJSON(env environment, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
