package csi

import "github.com/parley-im/parley/internal/stanza"

// Carbons namespaces (XEP-0280, XEP-0297), to look inside carbon copies.
const (
	nsCarbons = "urn:xmpp:carbons:2"
	nsForward = "urn:xmpp:forward:0"
)

// maxHeld bounds the senders whose presence one inactive session holds;
// beyond it, presence from new senders goes out at once.
const maxHeld = 10_000

// hold is the module.Holder of one inactive session: the latest presence
// of each sender, in the order the senders first appeared. Its session
// calls it with the session's lock held, so it has no lock of its own.
type hold struct {
	order    []string                   // senders, first appearance first
	presence map[string]*stanza.Element // sender -> latest presence
}

func newHold() *hold { return &hold{presence: make(map[string]*stanza.Element)} }

// Hold implements module.Holder.
func (h *hold) Hold(st *stanza.Element) bool {
	switch st.Name {
	case stanza.KindPresence:
		if t := st.Type(); t != "" && t != "unavailable" {
			return false // subscription requests and errors go out at once
		}
		from := st.Attr("from")
		if _, seen := h.presence[from]; !seen {
			if len(h.order) >= maxHeld {
				return false
			}
			h.order = append(h.order, from)
		}
		h.presence[from] = st
		return true
	case stanza.KindMessage:
		return chatStateOnly(st) // dropped, not kept
	}
	return false
}

// Release implements module.Holder.
func (h *hold) Release() []*stanza.Element {
	out := make([]*stanza.Element, 0, len(h.order))
	for _, from := range h.order {
		out = append(out, h.presence[from])
	}
	h.order, h.presence = nil, make(map[string]*stanza.Element)
	return out
}

// chatStateOnly reports whether m (or the message inside a carbon copy)
// carries a chat state and nothing a user must see at once: no body,
// subject, receipt, marker or other payload.
func chatStateOnly(m *stanza.Element) bool {
	if m.Type() == "error" {
		return false
	}
	if inner := carbonInner(m); inner != nil {
		return chatStateOnly(inner)
	}
	state := false
	for _, c := range m.Children {
		switch c.Space {
		case stanza.NSChatStates:
			state = true
		case stanza.NSHints, stanza.NSDelay, stanza.NSSID:
		case stanza.NSClient:
			if c.Name != "thread" {
				return false
			}
		default:
			return false
		}
	}
	return state
}

// carbonInner returns the forwarded message of a carbon copy, or nil.
func carbonInner(m *stanza.Element) *stanza.Element {
	for _, kind := range []string{"received", "sent"} {
		if c := m.Child(nsCarbons, kind); c != nil {
			if fwd := c.Child(nsForward, "forwarded"); fwd != nil {
				return fwd.Child(stanza.NSClient, stanza.KindMessage)
			}
		}
	}
	return nil
}
