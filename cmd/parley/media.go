package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// mediaFlags are the settings "parley media" takes.
var mediaFlags = []string{
	"data", "media", "media-url", "media-secret-file", "media-max-file-size", "media-quota", "media-retention",
	"media-s3-endpoint", "media-s3-bucket", "media-s3-region", "media-s3-access-key", "media-s3-secret-key-file",
	"trusted-proxies", "metrics-allow", "log-level", "log-format",
}

// mediaHelp describes the settings the media server uses for less than
// serve.
var mediaHelp = map[string]string{
	"data":            "data directory: the signing secret (media/secret, created on first start, unless --media-secret-file), the files (media/blobs, unless --media-s3-endpoint) and partial uploads (media/staging)",
	"media":           "the media HTTP listener, host:port: uploads, downloads, /metrics and /healthz (required)",
	"media-url":       "public URL of this server as clients reach it (https://media.example.org), the one the chat servers' --media-url names; empty means http://<--media>",
	"trusted-proxies": "comma-separated networks (CIDR) of the reverse proxies in front of --media; a request from one of them comes from the right-most X-Forwarded-For address that is not itself in these networks, for --metrics-allow; empty: every client is its socket's address",
	"metrics-allow":   "comma-separated networks (CIDR) of the clients that may read /metrics on --media, by their address as --trusted-proxies resolves it; others get 403; empty allows none",
}

func newMediaCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "media",
		Short: "Run a standalone media server (file uploads and downloads)",
		Long: `Run only the media HTTP API: uploads to the signed slots that chat servers
hand out (XEP-0363), and downloads. "parley serve" already runs one on
--media; run "parley media" on another host to move the file traffic off the
chat servers. It shares two things with them: the signing secret (copy
<data>/media/secret, or give every server the same --media-secret-file)
and the blob storage (the same S3 bucket, or the same directory).

Set --media-url on the chat servers to this server's public URL. /metrics
and /healthz are served on the same listener. See docs/media.md.`,
		Example: `  parley media --data /var/lib/parley-media --media 0.0.0.0:5281 \
    --media-secret-file /etc/parley/media-secret \
    --media-s3-endpoint https://s3.example.org --media-s3-bucket parley-media \
    --media-s3-access-key AKIA... --media-s3-secret-key-file /etc/parley/s3-secret`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			return runMedia(cmd.Context(), a, cfg)
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.BindSome(cmd.Flags(), &cfg, mediaFlags...)
	for flag, help := range mediaHelp {
		config.Describe(cmd.Flags(), flag, help)
	}
	cmd.Flags().SortFlags = false
	return cmd
}

func runMedia(parent context.Context, a *app, cfg config.Config) error {
	run := a.runMedia
	if run == nil {
		run = server.RunMedia
	}
	return runStandalone(parent, a, cfg, run)
}

// runStandalone runs a standalone service (media, TURN) until SIGINT or
// SIGTERM; stopping by signal is not an error.
func runStandalone(parent context.Context, a *app, cfg config.Config, run runMediaFunc) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cfg, newLogger(cfg, a.stderr))
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// runMediaFunc is the signature of server.RunMedia.
type runMediaFunc = func(ctx context.Context, cfg config.Config, log *slog.Logger) error
