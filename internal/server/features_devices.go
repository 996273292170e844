package server

import (
	"github.com/parley-im/parley/internal/feature/devices"
)

// devicesFeature builds linked devices (QR-code pairing, list, revoke)
// from the configuration; it is also the c2s layer's Pairer.
func (s *Server) devicesFeature() (*devices.Feature, error) {
	opts := devices.DefaultOptions()
	opts.MaxDevices = s.cfg.MaxLinkedDevices
	opts.Rotation = s.cfg.PairingRotation
	opts.Timeout = s.cfg.PairingTimeout
	return devices.New(s.store, opts)
}
