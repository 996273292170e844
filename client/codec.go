package client

import (
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// codec is the wire encoding of a stream: XML today, Parley's binary
// encoding beside it.
type codec interface {
	appendOpen(dst []byte, domain string) []byte
	appendStanza(dst []byte, el *stanza.Element) []byte
	appendClose(dst []byte) []byte
	feed(b []byte)
	// next returns the next complete stanza; ok false means more input is
	// needed; ended reports the end of the stream.
	next() (el *stanza.Element, ended bool, ok bool, err error)
	reset()
}

type xmlCodec struct{ p *xmlstream.Parser }

func newXMLCodec() *xmlCodec { return &xmlCodec{p: xmlstream.NewParser(xmlstream.DefaultLimits())} }

func (c *xmlCodec) appendOpen(dst []byte, domain string) []byte {
	return xmlstream.AppendStreamHeader(dst, xmlstream.StreamHeader{To: domain, Version: "1.0", DefaultNS: stanza.NSClient})
}

func (c *xmlCodec) appendStanza(dst []byte, el *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, el, stanza.NSClient)
}

func (c *xmlCodec) appendClose(dst []byte) []byte { return xmlstream.AppendStreamEnd(dst) }
func (c *xmlCodec) feed(b []byte)                 { c.p.Feed(b) }
func (c *xmlCodec) reset()                        { c.p.Reset() }

func (c *xmlCodec) next() (*stanza.Element, bool, bool, error) {
	for {
		tok, err := c.p.Next()
		if err == xmlstream.ErrNeedMore {
			return nil, false, false, nil
		}
		if err != nil {
			return nil, false, false, err
		}
		switch tok.Kind {
		case xmlstream.Stanza:
			return tok.Element, false, true, nil
		case xmlstream.StreamEnd:
			return nil, true, true, nil
		}
	}
}
