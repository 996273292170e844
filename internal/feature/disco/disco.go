package disco

import (
	"context"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// Feature is the disco module.
type Feature struct{ host module.Host }

// New returns the disco feature.
func New() *Feature { return &Feature{} }

// Name implements module.Feature.
func (f *Feature) Name() string { return "disco" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host = h
	h.AddDiscoFeature(stanza.NSDiscoInfo)
	h.AddDiscoFeature(stanza.NSDiscoItems)
	for _, r := range []struct {
		ns string
		t  module.Target
		fn module.IQHandler
	}{
		{stanza.NSDiscoInfo, module.ToServer, f.serverInfo},
		{stanza.NSDiscoItems, module.ToServer, f.serverItems},
		{stanza.NSDiscoInfo, module.ToOwnAccount, f.accountInfo},
		{stanza.NSDiscoInfo, module.ToOtherAccount, f.accountInfo},
		{stanza.NSDiscoItems, module.ToOwnAccount, f.items},
		{stanza.NSDiscoItems, module.ToOtherAccount, f.items},
	} {
		if err := h.HandleIQ(r.ns, r.t, r.fn); err != nil {
			return err
		}
	}
	return nil
}

func (f *Feature) serverInfo(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "disco#info is get-only")
	}
	q := infoQuery(iq, "server", "im", "Parley")
	ext, _ := f.host.(module.DiscoExtender)
	if ext != nil {
		for _, id := range ext.DiscoIdentities() {
			q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", id.Category, "type", id.Type, "name", id.Name))
		}
	}
	for _, v := range f.host.DiscoFeatures() {
		q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", v))
	}
	if ext != nil {
		for _, form := range ext.DiscoForms() {
			q.AddChild(form.Copy())
		}
	}
	return stanza.Result(iq).AddChild(q), nil
}

func (f *Feature) accountInfo(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "disco#info is get-only")
	}
	q := infoQuery(iq, "account", "registered", "")
	q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", stanza.NSDiscoInfo))
	if ad, ok := f.host.(module.AccountDisco); ok {
		for _, id := range ad.AccountDiscoIdentities() {
			el := stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", id.Category, "type", id.Type)
			if id.Name != "" {
				el.SetAttr("name", id.Name)
			}
			q.AddChild(el)
		}
		for _, v := range ad.AccountDiscoFeatures() {
			q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", v))
		}
	}
	return stanza.Result(iq).AddChild(q), nil
}

func (f *Feature) items(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "disco#items is get-only")
	}
	q := stanza.NewElement(stanza.NSDiscoItems, "query")
	if node := iq.Children[0].Attr("node"); node != "" {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	return stanza.Result(iq).AddChild(q), nil
}

// serverItems lists the services features declared (module.DiscoItems).
func (f *Feature) serverItems(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	res, err := f.items(ctx, iq)
	if err != nil {
		return nil, err
	}
	if di, ok := f.host.(module.DiscoItems); ok {
		q := res.Child(stanza.NSDiscoItems, "query")
		for _, it := range di.ServerDiscoItems() {
			el := stanza.NewElement(stanza.NSDiscoItems, "item", "jid", it.JID)
			if it.Name != "" {
				el.SetAttr("name", it.Name)
			}
			q.AddChild(el)
		}
	}
	return res, nil
}

func infoQuery(iq *stanza.Element, category, typ, name string) *stanza.Element {
	q := stanza.NewElement(stanza.NSDiscoInfo, "query")
	if node := iq.Children[0].Attr("node"); node != "" {
		q.SetAttr("node", node)
	}
	id := stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", category, "type", typ)
	if name != "" {
		id.SetAttr("name", name)
	}
	return q.AddChild(id)
}
