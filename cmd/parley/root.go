package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/parley-im/parley/internal/config"
)

// newRootCmd builds the whole command tree.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "parley",
		Short: "Parley: a messaging server that speaks XMPP",
		Long: `Parley is a messaging server: standard XMPP (so existing apps such as
Conversations, Gajim or profanity work), store-and-forward delivery with
sent/delivered/seen ticks, and an embedded store, so it needs nothing else
to run.

Start a server on this machine with the defaults (data in ./parley-data,
domain localhost, listeners on 127.0.0.1), create two users, and connect an
XMPP app as alice@localhost: see the examples below, and "parley <command>
--help" for each command.`,
		Example: `  parley serve
  parley user add alice@localhost --password-stdin
  parley user add bob@localhost --password-stdin`,
		Version:       versionLine(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRunE,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err }) // a usage error: exit 2
	root.AddCommand(newServeCmd(a), newMediaCmd(a), newTurnCmd(a), newUserCmd(a), newConfigCmd(a), newVersionCmd(a), newBenchCmd(a), newDBCmd(a), newBackupCmd(a), newRestoreCmd(a))
	root.AddCommand(newUpgradeCmd(a))
	root.AddCommand(newChatCmd(a), newSendCmd(a), newListenCmd(a), newGroupCmd(a))
	root.AddCommand(newLinkCmd(a), newPairCmd(a), newDevicesCmd(a))
	strictHelp(root)
	return root
}

// strictHelp makes "parley help TOPIC" a usage error when TOPIC names no
// command, as "parley TOPIC" is, where cobra's help command prints the
// root's help and succeeds.
func strictHelp(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	help, _, err := root.Find([]string{"help"})
	if err != nil || help == root {
		return
	}
	show := help.Run
	help.Run = nil
	help.RunE = func(c *cobra.Command, args []string) error {
		cmd, rest, err := root.Find(args)
		if err != nil || len(rest) > 0 {
			return usagef("unknown help topic %q%s", strings.Join(args, " "), suggestion(cmd, rest))
		}
		show(c, args)
		return nil
	}
}

// runE adapts a command body: its errors are failures (exit status 1)
// unless they are usage errors.
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		if _, ok := err.(*usageError); ok {
			return err
		}
		return &failure{err: err}
	}
}

// addConfigFileFlag registers --config on fs.
func addConfigFileFlag(fs *pflag.FlagSet, path *string) {
	fs.StringVar(path, config.FileFlag, "",
		"read settings from this TOML file (env "+config.FileEnv+"); flags and PARLEY_* variables override it")
}

// loadConfig loads a configuration: defaults, the file named by --config
// or PARLEY_CONFIG, the environment and the flags of fs set on the command
// line; then validates it. Its error lists every problem; the
// configuration is returned even then, as far as it loaded.
func loadConfig(fs *pflag.FlagSet) (config.Config, error) {
	path := os.Getenv(config.FileEnv)
	if fl := fs.Lookup(config.FileFlag); fl != nil && fl.Changed {
		path = fl.Value.String()
	}
	return config.LoadValid(path, fs)
}

// exactArgs requires n positional arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return usagef("missing %s", what)
		case len(args) > n:
			return usagef("too many arguments: %s (want only %s)", strings.Join(args[n:], " "), what)
		}
		return nil
	}
}

// groupRunE is the RunE of a command that only groups subcommands: with no
// argument it prints the help, otherwise the argument is an unknown command
// (a usage error, where cobra would print the help and succeed).
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return usagef("unknown command %q for %q%s", args[0], cmd.CommandPath(), suggestion(cmd, args))
}

// suggestion proposes the subcommand of cmd that args[0], an unknown one,
// was probably meant to be: " (did you mean ...?)", or "".
func suggestion(cmd *cobra.Command, args []string) string {
	if cmd == nil || len(args) == 0 {
		return ""
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return ""
}
