package ping

import (
	"context"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// Feature is the ping module.
type Feature struct{}

// New returns the ping feature.
func New() *Feature { return &Feature{} }

// Name implements module.Feature.
func (f *Feature) Name() string { return "ping" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	h.AddDiscoFeature(stanza.NSPing)
	return h.HandleIQ(stanza.NSPing, module.ToServer, pong)
}

func pong(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "")
	}
	return nil, nil // empty result
}
