package privacy

import (
	"context"
	"strings"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// Namespaces and nodes the filter looks at.
const (
	nsPubSub      = "http://jabber.org/protocol/pubsub"       // XEP-0060
	nsPubSubEvent = "http://jabber.org/protocol/pubsub#event" // XEP-0060
	avatarNodes   = "urn:xmpp:avatar:"                        // XEP-0084 data and metadata nodes
)

// filter enforces the settings on a stanza routed to a local user
// (module.RouteFilter). from is the sender, to the recipient.
func (f *Feature) filter(ctx context.Context, st *stanza.Element, from, to jid.JID) (bool, *stanza.Error) {
	if from.IsZero() || from.Bare() == to.Bare() {
		return true, nil // one's own devices see everything
	}
	switch st.Name {
	case stanza.KindPresence:
		return f.presenceAllowed(ctx, st, from, to), nil
	case stanza.KindIQ:
		return f.iqAllowed(ctx, st, from, to)
	case stanza.KindMessage:
		return f.messageAllowed(ctx, st, from, to), nil
	}
	return true, nil
}

func (f *Feature) local(j jid.JID) bool { return j.Local() != "" && j.Domain() == f.host.Domain() }

// presenceAllowed hides a local user's available presence from those
// outside their online audience.
func (f *Feature) presenceAllowed(ctx context.Context, p *stanza.Element, from, to jid.JID) bool {
	if p.Type() != "" || !f.local(from) {
		return true
	}
	return f.sees(ctx, from, to, onlineAudience(f.Settings(ctx, from)))
}

// iqAllowed refuses last-activity and avatar requests to a user's bare JID
// from outside the audience of the setting.
func (f *Feature) iqAllowed(ctx context.Context, iq *stanza.Element, from, to jid.JID) (bool, *stanza.Error) {
	if iq.Type() != "get" || !to.IsBare() || len(iq.Children) != 1 {
		return true, nil
	}
	q := iq.Children[0]
	switch {
	case q.Space == stanza.NSLast:
		if !f.sees(ctx, to, from, f.Settings(ctx, to).LastSeen) {
			return false, stanza.NewError(stanza.Forbidden, "this user's last seen is private")
		}
	case q.Space == nsPubSub && isAvatarNode(q.Child(nsPubSub, "items")):
		if !f.sees(ctx, to, from, f.Settings(ctx, to).Photo) {
			return false, stanza.NewError(stanza.Forbidden, "this user's profile photo is private")
		}
	}
	return true, nil
}

// messageAllowed drops read markers of and to users who turned read
// receipts off, and avatar notifications to those outside the photo
// audience.
func (f *Feature) messageAllowed(ctx context.Context, m *stanza.Element, from, to jid.JID) bool {
	if isReadMarker(m) {
		if f.local(from) && f.Settings(ctx, from).ReadReceiptsOff {
			return false
		}
		return !f.Settings(ctx, to).ReadReceiptsOff
	}
	if ev := m.Child(nsPubSubEvent, "event"); ev != nil && f.local(from) && isAvatarNode(ev.Child(nsPubSubEvent, "items")) {
		return f.sees(ctx, from, to, f.Settings(ctx, from).Photo)
	}
	return true
}

// isReadMarker reports whether m is a "displayed" or "acknowledged" chat
// marker (XEP-0333) without a body.
func isReadMarker(m *stanza.Element) bool {
	if m.Child(stanza.NSClient, "body") != nil || m.Type() == "error" {
		return false
	}
	return m.Child(stanza.NSMarkers, "displayed") != nil || m.Child(stanza.NSMarkers, "acknowledged") != nil
}

func isAvatarNode(items *stanza.Element) bool {
	return items != nil && strings.HasPrefix(items.Attr("node"), avatarNodes)
}
