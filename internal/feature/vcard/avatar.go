package vcard

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// XEP-0084 avatar nodes, read for XEP-0153 compatibility.
const (
	nodeAvatarData = "urn:xmpp:avatar:data"
	nodeAvatarMeta = "urn:xmpp:avatar:metadata"
)

// addAvatarPhoto gives a vCard without a PHOTO the user's current XEP-0084
// avatar, so that clients that only know vCard avatars (XEP-0153) see the
// one published over PEP. Any failure leaves v as it is.
func (f *Feature) addAvatarPhoto(ctx context.Context, user jid.JID, v *stanza.Element) {
	if v.Child(NS, "PHOTO") != nil {
		return
	}
	meta, err := f.st.GetPEPItems(ctx, user.String(), nodeAvatarMeta, 1)
	if err != nil || len(meta) == 0 {
		return
	}
	md, err := f.codec.Decode(meta[0].Payload)
	if err != nil {
		return
	}
	info := md.Child(nodeAvatarMeta, "info")
	if info == nil {
		return
	}
	data, err := f.st.GetPEPItems(ctx, user.String(), nodeAvatarData, 0)
	if err != nil {
		return
	}
	for _, it := range data {
		if it.ID != info.Attr("id") {
			continue
		}
		d, err := f.codec.Decode(it.Payload)
		if err != nil || d.Text == "" {
			return
		}
		typ := stanza.NewElement(NS, "TYPE")
		typ.Text = info.Attr("type")
		bin := stanza.NewElement(NS, "BINVAL")
		bin.Text = d.Text
		v.AddChild(stanza.NewElement(NS, "PHOTO").AddChild(typ).AddChild(bin))
		return
	}
}
