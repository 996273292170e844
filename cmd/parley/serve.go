package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/config"
)

func newServeCmd(a *app) *cobra.Command {
	cfg := config.Default() // flag defaults; loadConfig builds the real value
	var file string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the chat server",
		Long: `Run the Parley chat server until it receives SIGINT (Ctrl-C) or SIGTERM,
then shut down cleanly: every session gets a proper stream end and the
store is flushed.

With no flags it runs on an embedded default: data in ./parley-data,
domain localhost, XMPP clients on 127.0.0.1:5222 (STARTTLS) and
127.0.0.1:5223 (direct TLS), HTTP (WebSocket, /healthz, /metrics) on
127.0.0.1:5280. On first start it creates a self-signed TLS certificate in
the data directory unless --tls-cert and --tls-key are given.

Every flag also has a PARLEY_* environment variable and a key in the TOML
file given with --config; flags win over the environment, which wins over
the file. See docs/configuration.md for the full reference.

While it runs, "parley user ..." on the same data directory goes through
the server's admin socket (<data>/admin.sock).`,
		Example: `  # Try it on this machine
  parley serve

  # A public server with a real certificate
  parley serve --domain chat.example.org --data /var/lib/parley \
    --c2s 0.0.0.0:5222 --c2s-tls 0.0.0.0:5223 \
    --tls-cert /etc/parley/fullchain.pem --tls-key /etc/parley/privkey.pem

  # The same from a file, with one setting overridden by the environment
  PARLEY_LOG_LEVEL=debug parley serve --config /etc/parley/parley.toml`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			return serve(cmd.Context(), a, cfg)
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.Bind(cmd.Flags(), &cfg)
	cmd.Flags().SortFlags = false // the order of Config: the important ones first
	return cmd
}

// serve runs the server with signal handling.
func serve(parent context.Context, a *app, cfg config.Config) error {
	log := newLogger(cfg, a.stderr)
	raiseFileLimit(log)
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	returned, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			if parent.Err() == nil {
				log.Info("signal received: shutting down (send it again to exit at once)")
			}
			stop() // a second signal gets the default behaviour: exit now
		case <-returned:
		}
	}()
	err := a.runServer(ctx, cfg, log)
	close(returned)
	<-exited
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// newLogger builds the logger described by cfg (validated), writing to w.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
