package stanza

import "github.com/parley-im/parley/internal/jid"

// IsStanza reports whether e is a top-level message, presence or iq in the
// client namespace.
func IsStanza(e *Element) bool {
	if e.Space != NSClient {
		return false
	}
	switch e.Name {
	case KindMessage, KindPresence, KindIQ:
		return true
	}
	return false
}

// ID returns the id attribute.
func (e *Element) ID() string { return e.Attr("id") }

// Type returns the type attribute.
func (e *Element) Type() string { return e.Attr("type") }

// To parses the to attribute; a missing attribute gives the zero JID.
func (e *Element) To() (jid.JID, error) { return parseAddr(e.Attr("to")) }

// From parses the from attribute; a missing attribute gives the zero JID.
// The copies of a shared element (a group post's) share their post's
// parsed from.
func (e *Element) From() (jid.JID, error) {
	if e.Shared != nil {
		if p, ok := e.Shared.fromOf(e); ok {
			return p.jid, p.err
		}
	}
	return parseAddr(e.Attr("from"))
}

// parseAddr parses an address attribute; empty gives the zero JID.
func parseAddr(s string) (jid.JID, error) {
	if s == "" {
		return jid.JID{}, nil
	}
	return jid.Parse(s)
}

// NewIQ returns an iq stanza.
func NewIQ(typ, id string) *Element {
	return NewElement(NSClient, KindIQ, "type", typ, "id", id)
}

// NewMessage returns a message stanza addressed to to.
func NewMessage(typ string, to jid.JID) *Element {
	m := NewElement(NSClient, KindMessage)
	if typ != "" {
		m.SetAttr("type", typ)
	}
	m.SetAttr("to", to.String())
	return m
}

// Body returns the message body text, or "".
func (e *Element) Body() string { return e.ChildText(NSClient, "body") }

// Result returns an empty iq result for the request iq: id kept, from and to
// swapped.
func Result(req *Element) *Element {
	r := NewElement(NSClient, KindIQ, "type", "result", "id", req.ID())
	if from := req.Attr("to"); from != "" {
		r.SetAttr("from", from)
	}
	if to := req.Attr("from"); to != "" {
		r.SetAttr("to", to)
	}
	return r
}

// ErrorReply returns the error response to st (RFC 6120 section 8.3): the
// same kind, id and payload, type "error", from and to swapped, with the
// error child appended. It returns nil when st is itself an error (errors
// are never answered with errors) or an iq result.
func ErrorReply(st *Element, err *Error) *Element {
	typ := st.Type()
	if typ == "error" || (st.Name == KindIQ && typ == "result") {
		return nil
	}
	r := &Element{Space: st.Space, Name: st.Name}
	r.SetAttr("type", "error")
	if id := st.ID(); id != "" {
		r.SetAttr("id", id)
	}
	if from := st.Attr("to"); from != "" {
		r.SetAttr("from", from)
	}
	if to := st.Attr("from"); to != "" {
		r.SetAttr("to", to)
	}
	// Keep the original payload for iq requests (helps clients match up) but
	// not for messages with a body (no need to echo a whole message back).
	if st.Name == KindIQ {
		r.Children = append(r.Children, st.Children...)
	}
	r.Children = append(r.Children, err.Element())
	return r
}
