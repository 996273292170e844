package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/store/postgres"
)

func newDBCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the PostgreSQL store: migrate",
		Long: `Manage the PostgreSQL store of a Parley deployment (--store). The
embedded store in the data directory needs no management.`,
		Example: `  parley db migrate --store postgres://parley@db.example.org:5432/parley`,
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newDBMigrateCmd(a))
	return cmd
}

func newDBMigrateCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "migrate --store postgres://...",
		Short: "Bring a PostgreSQL store's schema up to this version of Parley",
		Long: `Apply the schema migrations this binary carries to the PostgreSQL database
named by --store (or the "store" key of --config, or PARLEY_STORE), in one
transaction under an advisory lock: several nodes may run it at once.
"parley serve --store ..." does the same at start; run this first to
upgrade a cluster's schema before its nodes.

The embedded store needs no migration.`,
		Example: `  parley db migrate --store postgres://parley@db.example.org:5432/parley`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if cfg.Store == "" {
				return usagef("missing --store: the PostgreSQL URL, postgres://user@host:5432/database (the embedded store needs no migration)")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			if err := postgres.Migrate(ctx, cfg.Store); err != nil {
				return fmt.Errorf("migrating the %s: %w", config.StoreDescription(cfg), err)
			}
			fmt.Fprintf(a.stdout, "the %s is up to date\n", config.StoreDescription(cfg))
			return nil
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.BindSome(cmd.Flags(), &cfg, "store")
	return cmd
}
