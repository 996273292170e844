package c2s

import (
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
	"github.com/parley-im/parley/internal/wire/xmlstream"
	"sync/atomic"
)

// framing encodes what the server sends, for one kind of connection.
type framing interface {
	// appendOpen encodes the server's stream header.
	appendOpen(dst []byte, h xmlstream.StreamHeader) []byte
	// appendElement encodes one top-level element.
	appendElement(dst []byte, e *stanza.Element) []byte
	// appendClose encodes the end of the stream, after the stream error if any.
	appendClose(dst []byte, err *stanza.StreamError) []byte
}

// tcpFraming is an XML stream: one header, then elements, then the end tag.
type tcpFraming struct{}

func (tcpFraming) appendOpen(dst []byte, h xmlstream.StreamHeader) []byte {
	return xmlstream.AppendStreamHeader(dst, h)
}

func (tcpFraming) appendElement(dst []byte, e *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, e, stanza.NSClient)
}

func (tcpFraming) appendClose(dst []byte, err *stanza.StreamError) []byte {
	if err != nil {
		dst = xmlstream.AppendElement(dst, err.Element(), stanza.NSClient)
	}
	return xmlstream.AppendStreamEnd(dst)
}

// wsFraming is RFC 7395: every element is a complete WebSocket text message,
// the stream is opened with <open/> and closed with <close/>.
type wsFraming struct{}

func (wsFraming) appendOpen(dst []byte, h xmlstream.StreamHeader) []byte {
	open := stanza.NewElement(stanza.NSFraming, "open", "from", h.From, "id", h.ID, "version", "1.0")
	if h.Lang != "" {
		open.Attrs = append(open.Attrs, stanza.Attr{Space: stanza.NSXML, Name: "lang", Value: h.Lang})
	}
	return wsFraming{}.appendElement(dst, open)
}

func (wsFraming) appendElement(dst []byte, e *stanza.Element) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, wsMaxHeader)...) // room for the frame header
	dst = xmlstream.AppendElement(dst, e, "")
	return wsFinishFrame(dst, start, wsOpText)
}

func (f wsFraming) appendClose(dst []byte, err *stanza.StreamError) []byte {
	if err != nil {
		dst = f.appendElement(dst, err.Element())
	}
	dst = f.appendElement(dst, stanza.NewElement(stanza.NSFraming, "close"))
	return wsAppendFrame(dst, wsOpClose, []byte{0x03, 0xe8}) // 1000: normal closure
}

// binaryFraming is Parley's binary encoding: the server's preamble once,
// then the same elements as RFC 7395 (<open/>, stanzas, <close/>), each in
// a length-prefixed frame; over WebSocket each write is a binary message.
type binaryFraming struct {
	enc          *binary.Encoder
	preambleSent atomic.Bool // written once, during negotiation
	ws           bool
}

func newBinaryFraming(domain string, ws bool) *binaryFraming {
	p := binary.Preamble{Version: binary.Version, Dictionary: binary.LatestDictionary}
	if domain != "" && len(domain) <= binary.MaxStreamStringBytes {
		p.Strings = []string{domain}
	}
	enc, err := binary.NewEncoder(p)
	if err != nil { // only a domain the preamble cannot hold; encode it literally
		enc, _ = binary.NewEncoder(binary.Preamble{Version: binary.Version, Dictionary: binary.LatestDictionary})
	}
	return &binaryFraming{enc: enc, ws: ws}
}

// wrap makes dst[start:] one WebSocket binary message when over WebSocket.
func (f *binaryFraming) wrap(dst []byte, start int, payload func([]byte) []byte) []byte {
	if !f.ws {
		return payload(dst)
	}
	dst = append(dst, make([]byte, wsMaxHeader)...)
	dst = payload(dst)
	return wsFinishFrame(dst, start, wsOpBinary)
}

func (f *binaryFraming) preamble(dst []byte) []byte {
	if !f.preambleSent.CompareAndSwap(false, true) {
		return dst
	}
	return f.enc.AppendPreamble(dst)
}

func (f *binaryFraming) appendOpen(dst []byte, h xmlstream.StreamHeader) []byte {
	open := stanza.NewElement(stanza.NSFraming, "open", "from", h.From, "id", h.ID, "version", "1.0")
	if h.Lang != "" {
		open.Attrs = append(open.Attrs, stanza.Attr{Space: stanza.NSXML, Name: "lang", Value: h.Lang})
	}
	return f.wrap(dst, len(dst), func(b []byte) []byte { return f.enc.AppendStanza(f.preamble(b), open) })
}

func (f *binaryFraming) appendElement(dst []byte, e *stanza.Element) []byte {
	return f.wrap(dst, len(dst), func(b []byte) []byte { return f.enc.AppendStanza(f.preamble(b), e) })
}

func (f *binaryFraming) appendClose(dst []byte, err *stanza.StreamError) []byte {
	dst = f.wrap(dst, len(dst), func(b []byte) []byte {
		b = f.preamble(b)
		if err != nil {
			b = f.enc.AppendStanza(b, err.Element())
		}
		return binary.AppendStreamEnd(b)
	})
	if f.ws {
		dst = wsAppendFrame(dst, wsOpClose, []byte{0x03, 0xe8})
	}
	return dst
}
