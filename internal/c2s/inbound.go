package c2s

import (
	"errors"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// Kind is the transport and encoding of a client connection.
type Kind uint8

const (
	// XMLStream is XMPP over TCP (RFC 6120): one XML stream per direction.
	XMLStream Kind = iota
	// WebSocket is XMPP over WebSocket (RFC 7395): one element per message.
	WebSocket
	// Binary is Parley's binary encoding over TCP (docs/protocol/binary.md).
	Binary
	// BinaryWebSocket is the binary encoding in WebSocket binary messages.
	BinaryWebSocket
)

func (k Kind) String() string {
	return [...]string{"xml", "websocket", "binary", "binary-websocket"}[k]
}

// framedOpen reports whether streams open and restart with an <open/>
// element (RFC 7395 style) rather than an XML stream header: then there is
// no STARTTLS (TLS is below) and nothing to reset on restart.
func (k Kind) framedOpen() bool { return k != XMLStream }

// inbound decodes what a client sends into stream tokens.
type inbound interface {
	feed(b []byte)
	// next returns the next complete token, or xmlstream.ErrNeedMore.
	next() (xmlstream.Token, error)
	// restart forgets the stream after STARTTLS or SASL success (only XML
	// streams start over; framed ones just send a new <open/>).
	restart()
	// keepAlive reports whether b, arriving now, would be nothing but
	// keep-alives that next would skip (false when it cannot tell).
	keepAlive(b []byte) bool
	// park drops what the decoder need not hold while its connection is
	// parked (called only then, by the connection's owner).
	park()
	// parkLowWater is the fewest bytes that, arriving now, can be more
	// than keep-alives: a parked socket is woken only once that many are
	// there (SO_RCVLOWAT), so an idle phone's pulses are read a few at a
	// time. 1 wherever any byte may matter (inside a stanza or a frame).
	parkLowWater() int
}

// allKeepAlive reports whether every byte of b is a keep-alive byte.
func allKeepAlive(b []byte, isKeepAlive func(byte) bool) bool {
	for _, c := range b {
		if !isKeepAlive(c) {
			return false
		}
	}
	return len(b) > 0
}

// xmlInbound is an XML stream (RFC 6120). While its connection is parked
// between stanzas it holds the stream's context, not a parser (park), and
// gets a parser back when bytes come.
type xmlInbound struct {
	p      *xmlstream.Parser // nil while parked
	parked xmlstream.ParkedStream
	srv    *Server // the limits and the parsers' pool
}

func newXMLInbound(srv *Server) *xmlInbound {
	return &xmlInbound{p: xmlstream.NewPooledParser(srv.cfg.Limits, srv.scratch), srv: srv}
}

// parser is the stream's parser, resumed from the parked context if need be.
func (x *xmlInbound) parser() *xmlstream.Parser {
	if x.p == nil {
		x.p = x.parked.Resume(x.srv.cfg.Limits, x.srv.scratch)
		x.parked = xmlstream.ParkedStream{}
	}
	return x.p
}

func (x *xmlInbound) feed(b []byte) { x.parser().Feed(b) }

func (x *xmlInbound) next() (xmlstream.Token, error) {
	if x.p == nil {
		return xmlstream.Token{}, xmlstream.ErrNeedMore // parked: nothing fed since
	}
	return x.p.Next()
}

func (x *xmlInbound) restart() { x.parser().Reset() }

// park drops the parser of a stream that is between stanzas (its
// connection is being parked), keeping only what resuming needs.
func (x *xmlInbound) park() {
	if x.p == nil {
		return
	}
	if ps, ok := x.p.Park(); ok {
		x.p, x.parked = nil, ps
	}
}

// atKeepAlivePoint: a parked stream is between stanzas.
func (x *xmlInbound) atKeepAlivePoint() bool { return x.p == nil || x.p.AtKeepAlivePoint() }

// keepAlive: white space between stanzas (RFC 6120, 4.6.1).
func (x *xmlInbound) keepAlive(b []byte) bool {
	return x.atKeepAlivePoint() && allKeepAlive(b, xmlstream.IsKeepAliveByte)
}

// parkLowWater: the smallest element is four bytes ("<a/>"), and white
// space between elements is all a parked stream may receive short of one.
func (x *xmlInbound) parkLowWater() int {
	if x.atKeepAlivePoint() {
		return len("<a/>")
	}
	return 1
}

// framingToken maps RFC 7395 <open/> and <close/> to stream tokens and any
// other element to a stanza.
func framingToken(el *stanza.Element) xmlstream.Token {
	if el.Space == stanza.NSFraming {
		switch el.Name {
		case "open":
			return xmlstream.Token{Kind: xmlstream.StreamStart, Header: xmlstream.StreamHeader{
				To: el.Attr("to"), From: el.Attr("from"), Version: el.Attr("version"),
				Lang: el.Lang(), DefaultNS: stanza.NSClient}}
		case "close":
			return xmlstream.Token{Kind: xmlstream.StreamEnd}
		}
	}
	return xmlstream.Token{Kind: xmlstream.Stanza, Element: el}
}

// wsInbound is XMPP over WebSocket: each text message one element.
type wsInbound struct {
	r      wsReader
	limits xmlstream.Limits
	pong   func(payload []byte)
}

func (w *wsInbound) feed(b []byte) { w.r.feed(b) }
func (w *wsInbound) restart()      {}
func (w *wsInbound) park()         {}

// keepAlive: a WebSocket keep-alive is a ping frame, which needs a pong.
func (w *wsInbound) keepAlive([]byte) bool { return false }

func (w *wsInbound) parkLowWater() int { return 1 }

func (w *wsInbound) next() (xmlstream.Token, error) {
	for {
		m, ok, err := w.r.next()
		if err != nil {
			return xmlstream.Token{}, wsStreamError(err)
		}
		if !ok {
			return xmlstream.Token{}, xmlstream.ErrNeedMore
		}
		switch m.op {
		case wsOpPing:
			w.pong(m.payload)
			continue
		case wsOpPong:
			continue
		case wsOpClose:
			return xmlstream.Token{Kind: xmlstream.StreamEnd}, nil
		case wsOpBinary:
			return xmlstream.Token{}, stanza.NewStreamError(stanza.StreamBadFormat, "binary WebSocket message on an XMPP (text) connection")
		}
		el, err := xmlstream.ParseElement(m.payload, stanza.NSClient, w.limits)
		if err != nil {
			return xmlstream.Token{}, err
		}
		return framingToken(el), nil
	}
}

func wsStreamError(err error) error {
	if errors.Is(err, errWSTooBig) {
		return stanza.NewStreamError(stanza.StreamPolicyViolation, "message too large")
	}
	return stanza.NewStreamError(stanza.StreamBadFormat, err.Error())
}

// binaryInbound is Parley's binary encoding: a preamble, then frames.
type binaryInbound struct{ d *binary.Decoder }

func newBinaryInbound(l xmlstream.Limits) *binaryInbound {
	bl := binary.DefaultLimits()
	if l.MaxStanzaBytes > 0 {
		bl.MaxFrameBytes = l.MaxStanzaBytes
	}
	return &binaryInbound{d: binary.NewDecoder(bl)}
}

func (b *binaryInbound) feed(p []byte) { b.d.Feed(p) }
func (b *binaryInbound) restart()      {}
func (b *binaryInbound) park()         {}

// keepAlive: empty frames (a single 0x00 each) at a frame boundary (only
// bound sessions are parked: the preamble is behind).
func (b *binaryInbound) keepAlive(p []byte) bool {
	return b.d.Buffered() == 0 && allKeepAlive(p, func(c byte) bool { return c == 0 })
}

// parkLowWater: at a frame boundary, every frame but the one-byte
// keep-alive takes two bytes or more (docs/protocol/binary.md, 1.2).
func (b *binaryInbound) parkLowWater() int {
	if b.d.Buffered() == 0 {
		return 2
	}
	return 1
}

func (b *binaryInbound) next() (xmlstream.Token, error) {
	for {
		tok, err := b.d.Next()
		if errors.Is(err, binary.ErrNeedMore) {
			return xmlstream.Token{}, xmlstream.ErrNeedMore
		}
		if err != nil {
			var pe *binary.ProtocolError
			if errors.As(err, &pe) {
				return xmlstream.Token{}, pe.StreamError()
			}
			return xmlstream.Token{}, err
		}
		switch tok.Kind {
		case binary.StreamStart:
			continue // the preamble; the stream opens with an <open/> frame
		case binary.StreamEnd:
			return xmlstream.Token{Kind: xmlstream.StreamEnd}, nil
		}
		return framingToken(tok.Element), nil
	}
}

// wsBinaryInbound carries the binary byte stream in WebSocket binary
// messages (a frame may span messages, a message may hold several frames).
type wsBinaryInbound struct {
	r    wsReader
	bin  *binaryInbound
	pong func(payload []byte)
}

func (w *wsBinaryInbound) feed(b []byte) { w.r.feed(b) }
func (w *wsBinaryInbound) restart()      {}
func (w *wsBinaryInbound) park()         {}

// keepAlive: see wsInbound.
func (w *wsBinaryInbound) keepAlive([]byte) bool { return false }

func (w *wsBinaryInbound) parkLowWater() int { return 1 }

func (w *wsBinaryInbound) next() (xmlstream.Token, error) {
	for {
		tok, err := w.bin.next()
		if !errors.Is(err, xmlstream.ErrNeedMore) {
			return tok, err
		}
		m, ok, err := w.r.next()
		if err != nil {
			return xmlstream.Token{}, wsStreamError(err)
		}
		if !ok {
			return xmlstream.Token{}, xmlstream.ErrNeedMore
		}
		switch m.op {
		case wsOpPing:
			w.pong(m.payload)
		case wsOpClose:
			return xmlstream.Token{Kind: xmlstream.StreamEnd}, nil
		case wsOpBinary:
			w.bin.feed(m.payload)
		case wsOpText:
			return xmlstream.Token{}, stanza.NewStreamError(stanza.StreamBadFormat, "text WebSocket message on a binary connection")
		}
	}
}
