//go:build unix

package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// upgradeTimeout bounds how long the new binary has to become ready (bind
// its listeners, check its configuration) before the upgrade is abandoned.
const upgradeTimeout = time.Minute

// flipper is the server.Upgrader of parley serve: cloudflare/tableflip
// passes the listening sockets to the new process; the new process's pid
// comes from the pid file it writes when it is ready (<data>/parley.pid).
type flipper struct {
	*tableflip.Upgrader
	pidFile string
}

// newUpgrader returns the process's upgrader (one per process: tableflip
// allows no second one). cfg's data directory must exist.
func newUpgrader(cfg config.Config) (server.Upgrader, error) {
	pidFile, err := filepath.Abs(config.PIDFilePath(cfg))
	if err != nil {
		return nil, err
	}
	upg, err := tableflip.New(tableflip.Options{UpgradeTimeout: upgradeTimeout, PIDFile: pidFile})
	if err != nil {
		return nil, err
	}
	return &flipper{Upgrader: upg, pidFile: pidFile}, nil
}

// Upgrade starts the new binary and returns its pid once it is ready.
func (f *flipper) Upgrade() (int, error) {
	if err := f.Upgrader.Upgrade(); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(f.pidFile)
	if err != nil {
		return 0, fmt.Errorf("reading the new process's pid: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// upgradeOnSignal starts an upgrade on each SIGUSR2 until stop is closed.
func upgradeOnSignal(upg server.Upgrader, log *slog.Logger, stop <-chan struct{}) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR2)
	defer signal.Stop(sig)
	for {
		select {
		case <-stop:
			return
		case <-sig:
			log.Info("SIGUSR2: live upgrade")
			pid, err := upg.Upgrade()
			logUpgradeResult(log, pid, err)
		}
	}
}
