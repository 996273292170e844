package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/store/postgres"
)

// OpenStore opens the store cfg names: the embedded Pebble store in the
// data directory (created if missing), or PostgreSQL (migrated to the
// current schema first). The caller closes it.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	return openStore(ctx, cfg, log, nil)
}

// openStore is OpenStore with the embedded store on fs (nil: the operating
// system's file system; tests inject disk faults through it).
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, fs vfs.FS) (store.Store, error) {
	if cfg.Store != "" {
		st, err := postgres.Open(ctx, cfg.Store, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("opening the %s: %w", config.StoreDescription(cfg), err)
		}
		return st, nil
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	st, err := pebble.Open(config.StoreDir(cfg), pebble.Options{Logger: log, MinFreeBytes: uint64(cfg.MinFreeDiskMB) << 20, FS: fs})
	if err != nil {
		return nil, fmt.Errorf("opening the %s: %w", config.StoreDescription(cfg), err)
	}
	return st, nil
}
