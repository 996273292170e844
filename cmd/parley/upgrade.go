package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/config"
)

func newUpgradeCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Replace the running server by a new binary without downtime",
		Long: `Ask the server running on this data directory (through its admin socket,
<data>/admin.sock, mode 0600: only who can administer the server can upgrade
it) to start its binary again: the new process inherits every listening
socket, so no connection is refused during the switch. Replace the binary
file first (install it under the same path), then run this.

The old process stops accepting once the new one is ready, asks each device
to acknowledge what it received and to reconnect after a delay spread over
the devices (so that they do not log in all at once), closes the store and
exits; the new process opens the store and starts accepting. Nothing a
device or a sender was told is acknowledged is lost or delivered twice. If
the new binary fails to start, the old process keeps serving and this
command fails. SIGUSR2 to the server does the same (SIGHUP reloads the
configuration). See docs/operations.md.

It prints the old and the new process ids once the new process answers on
the admin socket (it has opened the store and serves).`,
		Example: `  install -m 0755 parley-new /usr/local/bin/parley && parley upgrade --data /var/lib/parley
  parley upgrade --config /etc/parley/parley.toml`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return upgrade(ctx, a, cfg)
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.BindSome(cmd.Flags(), &cfg, "data", "admin-socket")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up waiting for the new process after this long")
	return cmd
}

// upgrade asks the server for a live upgrade and waits until the new
// process serves its admin socket.
func upgrade(ctx context.Context, a *app, cfg config.Config) error {
	sock := config.AdminSocketPath(cfg)
	c, err := admin.Dial(sock)
	if err != nil {
		return fmt.Errorf("no server answers on %s (is it running?): %w", sock, err)
	}
	old, err := c.Info(ctx)
	if err != nil {
		c.Close()
		return err
	}
	start := time.Now()
	pid, err := c.Upgrade(ctx)
	c.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "new process %d is ready; process %d hands off its sessions\n", pid, old.PID)
	cur, err := waitForPID(ctx, sock, pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "upgraded: process %d (%s) -> %d (%s), serving after %v\n",
		old.PID, old.Version, cur.PID, cur.Version, time.Since(start).Round(time.Millisecond))
	return nil
}

// waitForPID polls the admin socket until the process pid answers.
func waitForPID(ctx context.Context, sock string, pid int) (admin.Info, error) {
	for {
		if c, err := admin.Dial(sock); err == nil {
			info, err := c.Info(ctx)
			c.Close()
			if err == nil && info.PID == pid {
				return info, nil
			}
		}
		select {
		case <-ctx.Done():
			return admin.Info{}, fmt.Errorf("the new process %d did not answer on %s: %w", pid, sock, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logUpgradeResult logs the outcome of an upgrade requested by a signal.
func logUpgradeResult(log *slog.Logger, pid int, err error) {
	if err != nil {
		log.Error("SIGUSR2: live upgrade failed; still serving", "err", err)
		return
	}
	log.Info("SIGUSR2: the new process is ready; handing off", "pid", pid)
}
