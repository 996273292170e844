package carbons

import (
	"context"
	"sync"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// Namespaces of the feature.
const (
	NS        = "urn:xmpp:carbons:2" // XEP-0280
	NSForward = "urn:xmpp:forward:0" // XEP-0297
)

// Feature is the message carbons module.
type Feature struct {
	host module.Host // set by Register, read-only afterwards

	mu      sync.Mutex
	enabled map[module.Session]struct{} // guarded by mu
	// disabled holds linked devices that sent <disable/> (they have
	// carbons by default); guarded by mu.
	disabled map[module.Session]struct{}
}

// New returns the feature.
func New() *Feature {
	return &Feature{enabled: make(map[module.Session]struct{}), disabled: make(map[module.Session]struct{})}
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "carbons" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	f.host = h
	h.AddDiscoFeature(NS)
	h.OnMessageRouted(f.routed)
	h.OnSessionEnded(f.forget)
	return h.HandleIQ(NS, module.ToServer, f.toggle)
}

// toggle answers <enable/> and <disable/> from a device.
func (f *Feature) toggle(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	q := iq.Children[0]
	if iq.Type() != "set" || (q.Name != "enable" && q.Name != "disable") {
		return nil, stanza.NewError(stanza.BadRequest, "send <enable/> or <disable/> in an iq set")
	}
	from, err := iq.From()
	if err != nil {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	s := f.host.Session(from)
	if s == nil {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	f.mu.Lock()
	if q.Name == "enable" {
		f.enabled[s] = struct{}{}
		delete(f.disabled, s)
	} else {
		delete(f.enabled, s)
		if module.LinkedDevice(s) != "" {
			f.disabled[s] = struct{}{}
		}
	}
	f.mu.Unlock()
	return nil, nil
}

// Enabled reports whether s gets carbons: it enabled them, or it is a
// linked device (docs/protocol/devices.md) that did not disable them.
func (f *Feature) Enabled(s module.Session) bool {
	if r, ok := s.(module.CarbonsSession); ok {
		return r.Carbons() // a device on another node, as its node decided
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.enabled[s]; ok {
		return true
	}
	_, off := f.disabled[s]
	return !off && module.LinkedDevice(s) != ""
}

func (f *Feature) forget(_ context.Context, s module.Session) {
	f.mu.Lock()
	delete(f.enabled, s)
	delete(f.disabled, s)
	f.mu.Unlock()
}

// routed sends the carbon copies of a message just delivered to a local
// user (module.MessageHook).
func (f *Feature) routed(_ context.Context, m *stanza.Element, to jid.JID, delivered []module.Session) {
	if !Eligible(m) { // first: a group's copies (groupchat) never are
		return
	}
	from, err := m.From()
	if err != nil || from.IsZero() || from.Bare() == to.Bare() {
		return
	}
	f.copyReceived(m, to.Bare(), delivered)
	if from.Local() != "" && from.Domain() == f.host.Domain() && !from.IsBare() {
		f.copySent(m, from)
	}
}

// copyReceived gives the recipient's carbon-enabled, available devices that
// did not get m a <received/> copy.
func (f *Feature) copyReceived(m *stanza.Element, user jid.JID, delivered []module.Session) {
	if f.host.SessionCount(user) <= len(delivered) {
		return // every device of the user got m itself: no list to make (every message asks)
	}
	for _, s := range f.host.Sessions(user) {
		if !s.Available() || contains(delivered, s) || !f.Enabled(s) {
			continue
		}
		s.Send(wrap("received", m, user, s.JID()))
	}
}

// copySent gives the sender's other carbon-enabled devices a <sent/> copy.
func (f *Feature) copySent(m *stanza.Element, sender jid.JID) {
	user := sender.Bare()
	if n := f.host.SessionCount(user); n == 0 || n == 1 && f.host.Session(sender) != nil {
		return // the sender has no other device: no list to make (every message asks)
	}
	for _, s := range f.host.Sessions(user) {
		if s.JID() == sender || !f.Enabled(s) {
			continue
		}
		s.Send(wrap("sent", m, user, s.JID()))
	}
}

func contains(list []module.Session, s module.Session) bool {
	for _, d := range list {
		if d == s {
			return true
		}
	}
	return false
}

// wrap builds the carbon copy of m for device to: from the account's bare
// JID, with m's type, the copy inside <kind><forwarded/></kind>.
func wrap(kind string, m *stanza.Element, user, to jid.JID) *stanza.Element {
	c := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", user.String(), "to", to.String())
	if t := m.Type(); t != "" {
		c.SetAttr("type", t)
	}
	fwd := stanza.NewElement(NSForward, "forwarded").AddChild(m.Copy())
	return c.AddChild(stanza.NewElement(NS, kind).AddChild(fwd))
}

// Eligible reports whether a message is copied (see the package doc).
func Eligible(m *stanza.Element) bool {
	typ := m.Type()
	switch typ {
	case "groupchat", "headline", "error":
		return false
	}
	worth := typ == "chat"
	for _, c := range m.Children {
		switch {
		case c.Space == NS: // <private/>, or a carbon itself
			return false
		case c.Space == stanza.NSHints && c.Name == "no-copy":
			return false
		case c.Space == stanza.NSClient && c.Name == "body",
			c.Space == stanza.NSReceipts, c.Space == stanza.NSMarkers, c.Space == stanza.NSChatStates,
			c.Space == stanza.NSJingleMessage: // a call answered on one device stops ringing on the others
			worth = true
		}
	}
	return worth
}
