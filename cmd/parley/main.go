package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// app is what the commands take from the outside world. main fills it in;
// tests replace parts.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// runServer runs the chat server until ctx is cancelled, then shuts it
	// down cleanly.
	runServer func(ctx context.Context, cfg config.Config, log *slog.Logger, reload <-chan config.Config) error
	// runMedia runs a standalone media server the same way (nil: server.RunMedia).
	runMedia runMediaFunc
	// upgrades makes serve upgradable in place (parley upgrade, SIGUSR2):
	// it then runs the server itself, with cloudflare/tableflip, instead of
	// runServer. Only main sets it: tableflip allows one upgrader per process.
	upgrades bool
}

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, runServer: server.Run, upgrades: true}
	os.Exit(run(context.Background(), a, os.Args[1:]))
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// run executes the command line args and returns the exit status.
func run(ctx context.Context, a *app, args []string) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	printError(a.stderr, err)
	var fe *failure
	if errors.As(err, &fe) {
		return exitFailure
	}
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return exitUsage
}

// printError writes err as "parley: <message>", one line per line of the
// message (Validate reports several problems at once).
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "parley: %s\n", line)
	}
}

// failure marks an error of a command that ran (exit status 1), as opposed
// to a usage error (exit status 2).
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// usageError is a usage error found by a command itself.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }
