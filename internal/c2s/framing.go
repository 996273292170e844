package c2s

import (
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
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
