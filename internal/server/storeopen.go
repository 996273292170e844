package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

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
	if inUse := StoreInUse(cfg, err); inUse != "" {
		return nil, fmt.Errorf("%s: is \"parley serve\" already running on this data directory? (\"parley user\" works alongside it)", inUse)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the %s: %w", config.StoreDescription(cfg), err)
	}
	return st, nil
}

// StoreInUse explains err, from opening cfg's embedded store, when it
// means that another process holds the store's lock: the store is in use,
// by the process the data directory's pid file names if it runs. It
// returns "" for other errors. serve and "parley user" both say it.
func StoreInUse(cfg config.Config, err error) string {
	if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK) {
		return ""
	}
	msg := "the store in " + config.StoreDir(cfg) + " is in use by another process"
	if pid := runningPID(config.PIDFilePath(cfg)); pid > 0 {
		msg += fmt.Sprintf(" (pid %d, from %s)", pid, config.PIDFilePath(cfg))
	}
	return msg
}

// runningPID returns the process id in the pid file at path if that
// process runs, else 0: a server that stopped leaves its pid file behind.
func runningPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return 0
	}
	// Signal 0 checks that the process exists; EPERM means it does, as another user's.
	if err := p.Signal(syscall.Signal(0)); err != nil && !errors.Is(err, os.ErrPermission) {
		return 0
	}
	return pid
}
