//go:build !unix

package main

import (
	"errors"
	"log/slog"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// newUpgrader: no live upgrades without Unix file descriptor passing.
func newUpgrader(config.Config) (server.Upgrader, error) {
	return nil, errors.New("live upgrades are not available on this platform")
}

func upgradeOnSignal(server.Upgrader, *slog.Logger, <-chan struct{}) {}
