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

// AppendEncoded appends st's encoding to dst (router.AppendCodec).
func (c xmlCodec) AppendEncoded(dst []byte, st *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, st, stanza.NSClient)
}

// StoresClientXML implements session.StoredXMLCodec: Encode is the XML
// stream's encoding of a stanza, which the offline drain writes as is.
func (c xmlCodec) StoresClientXML() bool { return true }

func (c xmlCodec) Decode(b []byte) (*stanza.Element, error) {
	return xmlstream.ParseElement(b, stanza.NSClient, c.limits)
}
