package server

import (
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// xmlCodec stores queued stanzas in their XML form.
type xmlCodec struct{ limits xmlstream.Limits }

func (c xmlCodec) Encode(st *stanza.Element) []byte {
	return xmlstream.AppendElement(nil, st, stanza.NSClient)
}

func (c xmlCodec) Decode(b []byte) (*stanza.Element, error) {
	return xmlstream.ParseElement(b, stanza.NSClient, c.limits)
}

// CopyEncoder implements groups.CopyEncoder: m's start tag and children
// are encoded once for all its copies.
func (c xmlCodec) CopyEncoder(m *stanza.Element) func(to string, sid *stanza.Element) []byte {
	t := xmlstream.NewCopyTemplate(m, stanza.NSClient)
	return func(to string, sid *stanza.Element) []byte {
		return t.Append(make([]byte, 0, t.Size()), "to", to, sid)
	}
}
