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
	"github.com/parley-im/parley/internal/gcpace"
	"github.com/parley-im/parley/internal/server"
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
domain localhost, and these listeners on 127.0.0.1:
  5222  XMPP clients, STARTTLS (--c2s)
  5223  XMPP clients, direct TLS (--c2s-tls)
  5224  Parley's binary protocol, TLS from the first byte (--native)
  5280  HTTP: the web client at /, XMPP and the binary protocol over
        WebSocket, /healthz, /metrics (--http)
  5281  media: file uploads and downloads (--media)
  3478  TURN/STUN relay for calls, UDP and TCP (--turn)
On first start it creates a self-signed TLS certificate in the data
directory unless --tls-cert and --tls-key are given.

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
			return serve(cmd.Context(), a, cfg, func() (config.Config, error) { return loadConfig(cmd.Flags()) })
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.Bind(cmd.Flags(), &cfg)
	cmd.Flags().SortFlags = false // the order of Config: the important ones first
	return cmd
}

// serve runs the server with signal handling: SIGINT/SIGTERM stop it,
// SIGHUP reloads the configuration (load reads it again).
func serve(parent context.Context, a *app, cfg config.Config, load func() (config.Config, error)) error {
	var level slog.LevelVar
	log := newLeveledLogger(cfg, a.stderr, &level)
	raiseFileLimit(log)
	ensureMinProcs(log, os.Getenv("GOMAXPROCS") != "")
	reload := make(chan config.Config)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHangup(hup, load, &level, log, reload)
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.GCPacing && os.Getenv("GOGC") == "" { // an operator's GOGC wins
		go gcpace.New(gcpace.Config{Log: log.With("component", "gcpace")}, nil).Run(ctx)
	}
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
	var err error
	if a.upgrades {
		err = serveUpgradable(ctx, a, cfg, log, reload)
	} else {
		err = a.runServer(ctx, cfg, log, reload)
	}
	close(returned)
	<-exited
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// serveUpgradable runs the server with live upgrades (parley upgrade and
// SIGUSR2); where they are not available, without.
func serveUpgradable(ctx context.Context, a *app, cfg config.Config, log *slog.Logger, reload <-chan config.Config) error {
	// Upgrades keep their pid file in the data directory, but a data
	// directory that cannot be created is the server's fatal error, not a
	// reason to warn that upgrades are off.
	if err := server.MakeDataDir(cfg.Data, log); err != nil {
		return err
	}
	upg, err := newUpgrader(cfg)
	if err != nil {
		log.Warn("live upgrades are off", "err", err)
		return a.runServer(ctx, cfg, log, reload)
	}
	stop := make(chan struct{})
	defer close(stop)
	go upgradeOnSignal(upg, log, stop)
	return server.RunWith(ctx, cfg, log, server.RunOptions{Reload: reload, Upgrader: upg})
}

// reloadOnHangup reads the configuration again on each SIGHUP: it sets
// the log level itself and hands the rest to the server.
func reloadOnHangup(hup <-chan os.Signal, load func() (config.Config, error), level *slog.LevelVar, log *slog.Logger, reload chan<- config.Config) {
	for range hup {
		cfg, err := load()
		if err != nil {
			log.Error("SIGHUP: the configuration is invalid; keeping the current one", "err", err)
			continue
		}
		level.Set(logLevel(cfg))
		log.Info("SIGHUP: reloading the configuration", "log_level", cfg.LogLevel)
		reload <- cfg
	}
}

func logLevel(cfg config.Config) slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	return level
}

// newLogger builds the logger described by cfg (validated), writing to w.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.LevelVar
	return newLeveledLogger(cfg, w, &level)
}

// newLeveledLogger is newLogger whose level can change later through level.
func newLeveledLogger(cfg config.Config, w io.Writer, level *slog.LevelVar) *slog.Logger {
	level.Set(logLevel(cfg))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
