package version

import (
	"context"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// Feature is the software-version module.
type Feature struct{ version string }

// New returns the feature answering with the given version string.
func New(version string) *Feature { return &Feature{version: version} }

// Name implements module.Feature.
func (f *Feature) Name() string { return "version" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	h.AddDiscoFeature(stanza.NSVersion)
	return h.HandleIQ(stanza.NSVersion, module.ToServer, f.answer)
}

func (f *Feature) answer(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "")
	}
	q := stanza.NewElement(stanza.NSVersion, "query")
	name := stanza.NewElement(stanza.NSVersion, "name")
	name.Text = "Parley"
	ver := stanza.NewElement(stanza.NSVersion, "version")
	ver.Text = f.version
	q.AddChild(name).AddChild(ver)
	return stanza.Result(iq).AddChild(q), nil
}
