package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the server configuration",
		Long: `Inspect the configuration "parley serve" would run with. See
docs/configuration.md for every setting.`,
		Example: `  parley config check --config /etc/parley/parley.toml`,
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newConfigCheckCmd(a))
	return cmd
}

func newConfigCheckCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "check [--config FILE] [serve flags]",
		Short: "Validate a configuration and print the effective values as TOML",
		Long: `Load the configuration exactly as "parley serve" does (defaults, then the
file given with --config or PARLEY_CONFIG, then PARLEY_* environment
variables, then flags), validate it, check that the files it names (TLS
certificate and key, component, webhook and S3 secrets) can be read and
loaded, and print the result as a TOML file.

The exit status is 0 when the configuration is valid, 1 when it is not,
with every problem listed, each naming the key of the file, the variable or
the flag that set the value. The output is a complete configuration file: a
good start for your own.`,
		Example: `  parley config check --config /etc/parley/parley.toml
  PARLEY_DOMAIN=chat.example.org parley config check > parley.toml
  parley config check --domain chat.example.org --c2s 0.0.0.0:5222`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			// What serve would fail on at start: the files the configuration names.
			if err := errors.Join(err, server.CheckFiles(cfg)); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "# Effective Parley configuration: valid.")
			fmt.Fprintln(a.stdout, "# (defaults < config file < PARLEY_* environment < flags)")
			fmt.Fprintln(a.stdout)
			fmt.Fprint(a.stdout, cfg.TOML())
			return nil
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.Bind(cmd.Flags(), &cfg)
	cmd.Flags().SortFlags = false
	return cmd
}
