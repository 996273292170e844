package client

import (
	"errors"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// codec is the wire encoding of a stream: XML today, Parley's binary
// encoding beside it.
type codec interface {
	appendOpen(dst []byte, domain string) []byte
	appendStanza(dst []byte, el *stanza.Element) []byte
	appendClose(dst []byte) []byte
	// appendKeepAlive appends the encoding's smallest keep-alive.
	appendKeepAlive(dst []byte) []byte
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

// appendKeepAlive appends RFC 6120's whitespace keep-alive (section 4.6.1).
func (c *xmlCodec) appendKeepAlive(dst []byte) []byte { return append(dst, ' ') }
func (c *xmlCodec) feed(b []byte)                     { c.p.Feed(b) }
func (c *xmlCodec) reset()                            { c.p.Reset() }

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

// binaryCodec is Parley's binary encoding (docs/protocol/binary.md): our
// preamble once, then frames; the stream opens, and restarts after
// authentication, with an <open/> frame as in RFC 7395.
type binaryCodec struct {
	enc          *binary.Encoder
	dec          *binary.Decoder
	preambleSent bool
}

func newBinaryCodec(domain string) (*binaryCodec, error) {
	enc, err := binary.NewEncoder(binary.Preamble{Version: binary.Version, Dictionary: binary.LatestDictionary, Strings: []string{domain}})
	if err != nil {
		return nil, err
	}
	return &binaryCodec{enc: enc, dec: binary.NewDecoder(binary.DefaultLimits())}, nil
}

func (c *binaryCodec) appendOpen(dst []byte, domain string) []byte {
	if !c.preambleSent {
		c.preambleSent = true
		dst = c.enc.AppendPreamble(dst)
	}
	return c.enc.AppendStanza(dst, stanza.NewElement(stanza.NSFraming, "open", "to", domain, "version", "1.0"))
}

func (c *binaryCodec) appendStanza(dst []byte, el *stanza.Element) []byte {
	return c.enc.AppendStanza(dst, el)
}

func (c *binaryCodec) appendClose(dst []byte) []byte {
	dst = c.enc.AppendStanza(dst, stanza.NewElement(stanza.NSFraming, "close"))
	return binary.AppendStreamEnd(dst)
}

func (c *binaryCodec) appendKeepAlive(dst []byte) []byte { return binary.AppendKeepAlive(dst) }
func (c *binaryCodec) feed(b []byte)                     { c.dec.Feed(b) }
func (c *binaryCodec) reset()                            {} // framed: a restart is just a new <open/>

func (c *binaryCodec) next() (*stanza.Element, bool, bool, error) {
	for {
		tok, err := c.dec.Next()
		if errors.Is(err, binary.ErrNeedMore) {
			return nil, false, false, nil
		}
		if err != nil {
			return nil, false, false, err
		}
		switch {
		case tok.Kind == binary.StreamEnd:
			return nil, true, true, nil
		case tok.Kind != binary.Stanza:
			continue // the server's preamble
		case tok.Element.Space == stanza.NSFraming && tok.Element.Name == "open":
			continue // the server's stream header: the features follow
		case tok.Element.Space == stanza.NSFraming && tok.Element.Name == "close":
			return nil, true, true, nil
		}
		return tok.Element, false, true, nil
	}
}
