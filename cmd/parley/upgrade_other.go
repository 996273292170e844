//go:build !unix

package main

import (
	"log/slog"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// newUpgrader: no live upgrades without Unix file descriptor passing.
func newUpgrader(config.Config) (server.Upgrader, error) { return nil, errNoUpgrades }

func upgradeOnSignal(server.Upgrader, *slog.Logger, <-chan struct{}) {}
