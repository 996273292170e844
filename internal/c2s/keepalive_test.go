package c2s

import (
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// TestKeepAliveRecognition: only bytes that the decoder would skip, at a
// point where it would skip them, count as keep-alives.
func TestKeepAliveRecognition(t *testing.T) {
	x := newXMLInbound(&Server{scratch: xmlstream.NewScratchPool()})
	x.feed([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><presence/>"))
	for {
		if _, err := x.next(); err != nil {
			break
		}
	}
	if lw := x.parkLowWater(); lw != 4 {
		t.Errorf("XML between stanzas: park low water %d, want 4 (\"<a/>\")", lw)
	}
	if !x.keepAlive([]byte(" \n\t\r")) {
		t.Error("XML: white space between stanzas is not a keep-alive")
	}
	for _, b := range []string{"", "<", " x", "\x00"} {
		if x.keepAlive([]byte(b)) {
			t.Errorf("XML: %q counted as a keep-alive", b)
		}
	}
	x.feed([]byte("<message><body>half"))
	_, _ = x.next()
	if x.keepAlive([]byte(" ")) {
		t.Error("XML: white space inside a stanza counted as a keep-alive")
	}
	if lw := x.parkLowWater(); lw != 1 {
		t.Errorf("XML inside a stanza: park low water %d, want 1", lw)
	}

	b := newBinaryInbound(xmlstream.DefaultLimits())
	enc, err := binary.NewEncoder(binary.Preamble{Version: binary.Version, Dictionary: binary.LatestDictionary})
	if err != nil {
		t.Fatal(err)
	}
	b.feed(enc.AppendStanza(enc.AppendPreamble(nil), stanza.NewElement(stanza.NSClient, "presence")))
	for {
		if _, err := b.next(); err != nil {
			break
		}
	}
	if lw := b.parkLowWater(); lw != 2 {
		t.Errorf("binary at a frame boundary: park low water %d, want 2", lw)
	}
	if !b.keepAlive([]byte{0, 0}) {
		t.Error("binary: empty frames are not keep-alives")
	}
	if b.keepAlive([]byte{0, 3}) || b.keepAlive(nil) {
		t.Error("binary: a frame's start counted as a keep-alive")
	}
	b.feed([]byte{5, 1})
	_, _ = b.next()
	if b.keepAlive([]byte{0}) {
		t.Error("binary: a byte inside a frame counted as a keep-alive")
	}
	if lw := b.parkLowWater(); lw != 1 {
		t.Errorf("binary inside a frame: park low water %d, want 1", lw)
	}
	if (&wsInbound{}).keepAlive([]byte(" ")) || (&wsBinaryInbound{}).keepAlive([]byte{0}) {
		t.Error("WebSocket: keep-alives are ping frames, never absorbed")
	}
}

// TestParkedXMLStreamHoldsNoParser: a connection parked between stanzas
// keeps its stream's context, not its parser; pulses are still recognised,
// and the next stanza is read in the stream's namespace with a parser
// resumed from the context. In the middle of a stanza the parser stays.
func TestParkedXMLStreamHoldsNoParser(t *testing.T) {
	x := newXMLInbound(&Server{scratch: xmlstream.NewScratchPool()})
	x.feed([]byte("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><presence/>"))
	drain(x)
	x.park()
	if x.p != nil {
		t.Fatal("a parked XML stream between stanzas holds its parser")
	}
	if !x.keepAlive([]byte(" ")) || x.parkLowWater() != 4 {
		t.Error("a parked XML stream does not take white space as a keep-alive")
	}
	if _, err := x.next(); !errors.Is(err, xmlstream.ErrNeedMore) {
		t.Errorf("next on a parked stream: %v, want ErrNeedMore", err)
	}
	x.feed([]byte("<message><body>half"))
	if got := drain(x); len(got) != 0 {
		t.Fatalf("tokens from half a stanza: %v", got)
	}
	x.park()
	if x.p == nil {
		t.Fatal("parked the parser of a stream in the middle of a stanza")
	}
	x.feed([]byte("</body></message>"))
	got := drain(x)
	if len(got) != 1 || got[0].Element == nil || got[0].Element.Space != stanza.NSClient || got[0].Element.Name != "message" {
		t.Fatalf("after resuming: %v, want one jabber:client message", got)
	}
}

// drain returns the tokens the decoder has.
func drain(in inbound) []xmlstream.Token {
	var toks []xmlstream.Token
	for {
		tok, err := in.next()
		if err != nil {
			return toks
		}
		toks = append(toks, tok)
	}
}
