package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/server"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/pebble"
)

const jidArg = "the user's address (for example alice@localhost)"

func newUserCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage user accounts: add, del, passwd, list",
		Long: `Manage the accounts of a Parley server.

These commands work whether or not "parley serve" is running on the data
directory: when it runs, they go through its admin socket
(<data>/admin.sock, or --admin-socket); when it does not, they open the
store in the data directory themselves. Give them the same --data (or
--config) as the server.

Passwords are never stored: Parley keeps SCRAM-SHA-1 and SCRAM-SHA-256 keys
only. They are never printed or logged either.`,
		Example: `  parley user add alice@localhost --password-stdin
  parley user passwd alice@localhost --password-stdin
  parley user list
  parley user del alice@localhost --data /var/lib/parley`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	pf := cmd.PersistentFlags()
	addConfigFileFlag(pf, &file)
	config.BindSome(pf, &cfg, "data", "admin-socket", "store")
	cmd.AddCommand(newUserAddCmd(a), newUserDelCmd(a), newUserPasswdCmd(a), newUserListCmd(a))
	return cmd
}

func newUserAddCmd(a *app) *cobra.Command {
	var pw passwordFlags
	cmd := &cobra.Command{
		Use:   "add JID (--password-stdin | --password PASSWORD)",
		Short: "Create an account",
		Long: `Create an account for JID, a bare address such as alice@localhost whose
domain is the one the server serves (--domain of "parley serve").

The password comes from standard input with --password-stdin (on a
terminal you are asked for it twice, without echo) or from --password,
which other users of this machine can see in the process list.`,
		Example: `  # Asks for the password
  parley user add alice@localhost --password-stdin

  # From a script or a password manager
  printf '%s\n' "$PASSWORD" | parley user add bob@localhost --password-stdin

  # Quick tests only: the password shows in ps and in your shell history
  parley user add carol@localhost --password 'not a secret'`,
		Args: exactArgs(1, jidArg),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg, user, err := userPrelude(cmd, args[0])
			if err != nil {
				return err
			}
			warnDomain(a, cfg, user)
			password, err := pw.get(cmd, a, user, true) // before opening the store: no lock held while typing
			if err != nil {
				return err
			}
			return withAccounts(cmd.Context(), a, cfg, true, func(ctx context.Context, acc admin.Accounts) error {
				if err := acc.CreateUser(ctx, user, password); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created user %s\n", user)
				return nil
			})
		}),
	}
	pw.bind(cmd.Flags())
	return cmd
}

func newUserDelCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "del JID",
		Aliases: []string{"delete", "rm"},
		Short:   "Delete an account and everything stored for it",
		Long: `Delete the account JID and everything stored for it: roster, messages
waiting for delivery, last activity. This cannot be undone.`,
		Example: `  parley user del alice@localhost`,
		Args:    exactArgs(1, jidArg),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg, user, err := userPrelude(cmd, args[0])
			if err != nil {
				return err
			}
			return withAccounts(cmd.Context(), a, cfg, false, func(ctx context.Context, acc admin.Accounts) error {
				if err := acc.DeleteUser(ctx, user); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted user %s\n", user)
				return nil
			})
		}),
	}
}

func newUserPasswdCmd(a *app) *cobra.Command {
	var pw passwordFlags
	cmd := &cobra.Command{
		Use:   "passwd JID (--password-stdin | --password PASSWORD)",
		Short: "Change an account's password",
		Long: `Set a new password for the account JID. Sessions already logged in stay
connected; the next login needs the new password.`,
		Example: `  parley user passwd alice@localhost --password-stdin`,
		Args:    exactArgs(1, jidArg),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg, user, err := userPrelude(cmd, args[0])
			if err != nil {
				return err
			}
			password, err := pw.get(cmd, a, user, true)
			if err != nil {
				return err
			}
			return withAccounts(cmd.Context(), a, cfg, false, func(ctx context.Context, acc admin.Accounts) error {
				if err := acc.SetPassword(ctx, user, password); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "changed the password of %s\n", user)
				return nil
			})
		}),
	}
	pw.bind(cmd.Flags())
	return cmd
}

func newUserListCmd(a *app) *cobra.Command {
	var domain string
	cmd := &cobra.Command{
		Use:     "list [--domain DOMAIN]",
		Aliases: []string{"ls"},
		Short:   "List accounts, one address per line",
		Long:    `Print the address of every account (of DOMAIN only, with --domain), sorted, one per line.`,
		Example: `  parley user list
  parley user list --domain chat.example.org --data /var/lib/parley`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			return withAccounts(cmd.Context(), a, cfg, false, func(ctx context.Context, acc admin.Accounts) error {
				users, err := acc.ListUsers(ctx, domain)
				if err != nil {
					return err
				}
				for _, u := range users {
					fmt.Fprintln(a.stdout, u)
				}
				if len(users) == 0 {
					fmt.Fprintln(a.stderr, "no users")
				}
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&domain, "domain", "", "list only the accounts of this domain (default: every domain)")
	return cmd
}

// userPrelude loads the configuration of a user subcommand and normalizes
// its JID argument.
func userPrelude(cmd *cobra.Command, arg string) (config.Config, string, error) {
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return config.Config{}, "", err
	}
	user, err := checkJID(arg)
	if err != nil {
		return config.Config{}, "", err
	}
	return cfg, user, nil
}

// withAccounts runs fn with the accounts of cfg's data directory: through
// the admin socket when a server answers there, else on the store opened
// directly (and created when create is set).
func withAccounts(ctx context.Context, a *app, cfg config.Config, create bool,
	fn func(ctx context.Context, acc admin.Accounts) error) error {
	log := newLogger(cfg, a.stderr)

	sock := config.AdminSocketPath(cfg)
	if _, err := os.Lstat(sock); err == nil {
		c, err := admin.Dial(sock)
		if err == nil {
			defer c.Close()
			log.Debug("using the running server's admin socket", "socket", sock)
			return fn(ctx, c)
		}
		log.Debug("admin socket does not answer; opening the store directly", "socket", sock, "err", err)
	}

	st, err := openStore(cfg, log, create)
	if err != nil {
		return err
	}
	err = fn(ctx, admin.StoreAccounts(st, auth.DefaultIterations))
	if cerr := st.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing the store: %w", cerr)
	}
	return err
}

// openStore opens cfg's store: PostgreSQL with --store, else the embedded
// store of the data directory.
func openStore(cfg config.Config, log *slog.Logger, create bool) (store.Store, error) {
	if cfg.Store != "" {
		return server.OpenStore(context.Background(), cfg, log)
	}
	dir := config.StoreDir(cfg)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("no Parley data in %s (wrong --data? \"parley user add\" or \"parley serve\" creates it)", cfg.Data)
		}
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("creating the data directory: %w", err)
		}
	}
	st, err := pebble.Open(dir, pebble.Options{Logger: log})
	if inUse := server.StoreInUse(cfg, err); inUse != "" {
		return nil, fmt.Errorf("%s, and no server answers on its admin socket %s "+
			"(is \"parley serve\" running with another --admin-socket? pass the same one)", inUse, config.AdminSocketPath(cfg))
	}
	if err != nil {
		return nil, fmt.Errorf("opening the store in %s: %w", dir, err)
	}
	return st, nil
}

// checkJID normalizes an account address, or explains what is wrong.
func checkJID(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return "", fmt.Errorf("invalid JID %q: an account address looks like alice@localhost (no /resource)", s)
	}
	return j.String(), nil
}

// warnDomain warns when an account is created outside the configured
// domain: it could not log in.
func warnDomain(a *app, cfg config.Config, user string) {
	j, err := jid.Parse(user)
	if err != nil || j.Domain() == cfg.Domain {
		return
	}
	fmt.Fprintf(a.stderr, "parley: warning: %s is not in the configured domain %q; it can log in only to a server run with --domain %s\n",
		user, cfg.Domain, j.Domain())
}

// passwordFlags are --password and --password-stdin.
type passwordFlags struct {
	value string
	stdin bool
}

func (p *passwordFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&p.value, "password", "",
		"the password (other local users can see it in the process list: prefer --password-stdin)")
	fs.BoolVar(&p.stdin, "password-stdin", false,
		"read the password from standard input, one line; on a terminal, ask for it without echo")
}

// get returns the password given by the flags. confirm asks twice on a
// terminal.
func (p *passwordFlags) get(cmd *cobra.Command, a *app, user string, confirm bool) (string, error) {
	given := cmd.Flags().Changed("password")
	var pw string
	switch {
	case given && p.stdin:
		return "", usagef("use either --password or --password-stdin, not both")
	case !given && !p.stdin:
		return "", usagef("missing the password: add --password-stdin (or --password PASSWORD)")
	case given:
		pw = p.value
	default:
		var err error
		if pw, err = readPassword(a, user, confirm); err != nil {
			return "", err
		}
	}
	if pw == "" {
		return "", errors.New("empty password refused")
	}
	return pw, nil
}
