package binary

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// stream returns a preamble declaring testDomain followed by frames.
func stream(frames ...[]byte) []byte {
	b := []byte(Magic + "\x01\x01\x01\x0b" + testDomain)
	for _, f := range frames {
		b = appendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func TestDecoderTokens(t *testing.T) {
	enc := testEncoder(t)
	msg := parseXML(t, `<message to='bob@example.com' type='chat'><body>hi</body></message>`)
	b := enc.AppendPreamble(nil)
	b = AppendKeepAlive(b)
	b = enc.AppendStanza(b, msg)
	b = AppendKeepAlive(AppendKeepAlive(b))
	b = AppendStreamEnd(b)
	res := decodeAll(t, b, 0, DefaultLimits())
	if res.err != nil || len(res.toks) != 3 {
		t.Fatalf("%v, %v", res.toks, res.err)
	}
	p := res.toks[0].Preamble
	if res.toks[0].Kind != StreamStart || p.Version != 1 || p.Dictionary != 1 || len(p.Strings) != 1 || p.Strings[0] != testDomain {
		t.Errorf("preamble token %+v", res.toks[0])
	}
	if res.toks[1].Kind != Stanza || !stanza.Equal(res.toks[1].Element, msg) {
		t.Errorf("stanza token %+v", res.toks[1])
	}
	if res.toks[2].Kind != StreamEnd {
		t.Errorf("last token %v", res.toks[2].Kind)
	}
}

func TestDecoderIdleHoldsNoBuffer(t *testing.T) {
	enc := testEncoder(t)
	d := NewDecoder(DefaultLimits())
	d.Feed(enc.AppendPreamble(nil))
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	frame := enc.AppendStanza(nil, parseXML(t, `<presence/>`))
	for i := range 3 {
		d.Feed(frame[:1])
		if _, err := d.Next(); err != ErrNeedMore || d.Buffered() != 1 {
			t.Fatalf("round %d: partial frame: %v, Buffered %d", i, err, d.Buffered())
		}
		d.Feed(frame[1:])
		if tok, err := d.Next(); err != nil || tok.Kind != Stanza {
			t.Fatalf("round %d: %v %v", i, tok, err)
		}
		if _, err := d.Next(); err != ErrNeedMore {
			t.Fatal(err)
		}
		if d.Buffered() != 0 || d.in != nil {
			t.Fatalf("idle decoder holds %d bytes, buffer %v", d.Buffered(), d.in != nil)
		}
	}
}

func TestDecoderReset(t *testing.T) {
	enc := testEncoder(t)
	d := NewDecoder(DefaultLimits())
	d.Feed(enc.AppendPreamble(nil))
	d.Next()
	d.Feed([]byte{5, 1})
	d.Reset()
	if d.Buffered() != 0 {
		t.Fatal("Reset kept input")
	}
	d.Feed(enc.AppendStanza(enc.AppendPreamble(nil), parseXML(t, `<presence/>`)))
	if tok, err := d.Next(); err != nil || tok.Kind != StreamStart {
		t.Fatal(tok, err)
	}
	if tok, err := d.Next(); err != nil || tok.Kind != Stanza {
		t.Fatal(tok, err)
	}
}

// TestDecoderErrors: every kind of bad input gives a typed, sticky error
// with the right stream error condition and offset.
func TestDecoderErrors(t *testing.T) {
	presence := []byte{0x00, 0x02} // <presence/>
	lim := Limits{MaxFrameBytes: 1000, MaxDepth: 3, MaxAttrs: 4, MaxStringBytes: 3000}
	deep := []byte{0x20, 0x02, 0x20, 0x01, 0x20, 0x01, 0x00, 0x01} // presence > message > message > message
	tests := []struct {
		name   string
		in     []byte
		kind   error
		cond   stanza.Condition
		offset int64
	}{
		{"xml", []byte("<?xml version='1.0'?>"), ErrBadMagic, stanza.StreamUnsupportedEncoding, 0},
		{"tls", []byte{0x16, 0x03, 0x01}, ErrBadMagic, stanza.StreamUnsupportedEncoding, 0},
		{"magic typo", []byte("PRLX\x01\x01\x00"), ErrBadMagic, stanza.StreamUnsupportedEncoding, 3},
		{"version 2", []byte(Magic + "\x02\x01\x00"), ErrUnsupportedVersion, stanza.StreamUnsupportedVersion, 4},
		{"dictionary 0", []byte(Magic + "\x01\x00\x00"), ErrUnknownDictionary, stanza.StreamUnsupportedVersion, 5},
		{"dictionary 9", []byte(Magic + "\x01\x09\x00"), ErrUnknownDictionary, stanza.StreamUnsupportedVersion, 5},
		{"17 strings", []byte(Magic + "\x01\x01\x11"), ErrMalformed, stanza.StreamBadFormat, 6},
		{"empty string", []byte(Magic + "\x01\x01\x01\x00"), ErrMalformed, stanza.StreamBadFormat, 7},
		{"long string", []byte(Magic + "\x01\x01\x01\x80\x08"), ErrMalformed, stanza.StreamBadFormat, 7},
		{"string twice", []byte(Magic + "\x01\x01\x02\x01a\x01a"), ErrMalformed, stanza.StreamBadFormat, 9},
		{"frame too large", append(stream(), 0xE9, 0x07), ErrFrameTooLarge, stanza.StreamPolicyViolation, 19},
		{"frame length overlong", append(stream(), 0x80, 0x00), ErrMalformed, stanza.StreamBadFormat, 19},
		{"frame length huge", append(stream(), 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), ErrFrameTooLarge, stanza.StreamPolicyViolation, 19},
		{"control frame", stream([]byte{7}), ErrMalformed, stanza.StreamBadFormat, 20},
		{"after end", append(stream([]byte{0}), 0), ErrMalformed, stanza.StreamBadFormat, 21},
		{"truncated element", stream([]byte{0x04, 0x02}), ErrMalformed, stanza.StreamBadFormat, 22},
		{"trailing bytes", stream(append(presence, 0)), ErrMalformed, stanza.StreamBadFormat, 22},
		{"unknown tag", stream([]byte{0x00, 0xFE}), ErrMalformed, stanza.StreamBadFormat, 22},
		{"reserved tag", stream([]byte{0x00, 0xE8}), ErrMalformed, stanza.StreamBadFormat, 22},
		{"token past dictionary", stream([]byte{0x00, 0xE3, 0x00}), ErrMalformed, stanza.StreamBadFormat, 23},
		{"undeclared stream string", stream([]byte{0x00, 0xD1}), ErrMalformed, stanza.StreamBadFormat, 22},
		{"qname as name", stream([]byte{0x00, 0xF8}), ErrMalformed, stanza.StreamBadFormat, 22},
		{"literal past frame", stream([]byte{0x00, 0xF0, 0x05, 'a'}), ErrMalformed, stanza.StreamBadFormat, 23},
		{"non-minimal length", stream([]byte{0x00, 0xF0, 0x81, 0x00, 'a'}), ErrMalformed, stanza.StreamBadFormat, 24},
		{"odd pad nibble", stream([]byte{0x00, 0xF1, 0x01, 0x11}), ErrMalformed, stanza.StreamBadFormat, 23},
		{"empty packed", stream([]byte{0x00, 0xF2, 0x00}), ErrMalformed, stanza.StreamBadFormat, 23},
		{"short uuid", stream([]byte{0x00, 0xF4, 1, 2, 3}), ErrMalformed, stanza.StreamBadFormat, 22},
		{"jid in jid", stream([]byte{0x00, 0xF7, 0xF7}), ErrMalformed, stanza.StreamBadFormat, 23},
		{"jid without domain", stream([]byte{0x00, 0xF7, 0x00, 0x00, 0x00}), ErrMalformed, stanza.StreamBadFormat, 24},
		{"too many children", stream([]byte{0xE0, 0x02, 0x7F}), ErrMalformed, stanza.StreamBadFormat, 23},
		{"too deep", stream(deep), ErrLimit, stanza.StreamPolicyViolation, 26},
		{"too many attributes", stream([]byte{0x14, 0x02, 0x00, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}), ErrLimit, stanza.StreamPolicyViolation, 22},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunks := range []uint64{0, 1} {
				res := decodeAll(t, tc.in, chunks, lim)
				var pe *ProtocolError
				if !errors.As(res.err, &pe) {
					t.Fatalf("chunks %d: got %v after %d tokens, want a *ProtocolError", chunks, res.err, len(res.toks))
				}
				if !errors.Is(res.err, tc.kind) {
					t.Errorf("got %v, want %v", res.err, tc.kind)
				}
				if c := pe.StreamError().Condition; c != tc.cond {
					t.Errorf("condition %s, want %s", c, tc.cond)
				}
				if tc.offset != 0 && pe.Offset != tc.offset {
					t.Errorf("offset %d, want %d (%v)", pe.Offset, tc.offset, res.err)
				}
			}
		})
	}
}

// TestStringExpansionLimit: JIDs made of preamble strings expand 4 bytes
// to 35; MaxStringBytes stops a frame of them.
func TestStringExpansionLimit(t *testing.T) {
	exp := []byte{0xE0, 0x02, 93} // a presence with 100 children
	for range 100 {
		exp = append(exp, 0x02, 0x02, 0xF7, 0xD0, 0xD0, 0xD0) // <presence>example.com@example.com/example.com</presence>
	}
	res := decodeAll(t, stream(exp), 0, Limits{MaxStringBytes: 3000})
	if !errors.Is(res.err, ErrLimit) || !strings.Contains(res.err.Error(), "decoded strings") {
		t.Fatalf("got %v", res.err)
	}
	res = decodeAll(t, stream(exp), 0, Limits{MaxStringBytes: 3500})
	if res.err != nil || len(res.toks) != 2 || res.toks[1].Element.Children[99].Text != "example.com@example.com/example.com" {
		t.Fatalf("got %v", res.err)
	}
}

// TestFrameLimitBeforeBuffering: a frame announced over the limit is
// refused on its length prefix alone, and an accepted frame is buffered in
// one allocation of its size.
func TestFrameLimitBeforeBuffering(t *testing.T) {
	d := NewDecoder(DefaultLimits())
	d.Feed(stream())
	d.Next()
	d.Feed(appendUvarint(nil, DefaultMaxFrameBytes+1))
	if _, err := d.Next(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v", err)
	}
	if d.in != nil {
		t.Fatal("dead decoder keeps its buffer")
	}

	d = NewDecoder(DefaultLimits())
	d.Feed(stream())
	d.Next()
	enc := testEncoder(t)
	big := stanza.NewElement(stanza.NSClient, "message")
	big.Text = strings.Repeat("x y", 60000) // 180 KB: a three-byte length
	frame := enc.AppendStanza(nil, big)
	d.Feed(frame[:10])
	if _, err := d.Next(); err != ErrNeedMore {
		t.Fatal(err)
	}
	if cap(d.in) < len(frame) {
		t.Fatalf("buffer cap %d after the length prefix, want %d", cap(d.in), len(frame))
	}
	d.Feed(frame[10:])
	if tok, err := d.Next(); err != nil || tok.Element.Text != big.Text {
		t.Fatal(err)
	}
}

// TestStringForms checks which form the encoder picks and its size.
func TestStringForms(t *testing.T) {
	enc := testEncoder(t)
	tests := []struct {
		in   string
		tag  byte
		size int
	}{
		{"", tagEmpty, 1},
		{"message", 0x01, 1},
		{"http://etherx.jabber.org/streams", tagPage0, 2},
		{testDomain, tagStream0, 1},
		{"x", 0x73, 1},
		{"q", tagLiteral, 3},
		{"hello", tagLiteral, 7},
		{"1700000000", tagNumber, 7},
		{"2024-01-01T10:00:00Z", tagNumber, 12},
		{"+15551234567", tagNumber, 8},
		{"deadbeef", tagHexLow, 6},
		{"DEADBEEF", tagHexUp, 6},
		{"DeadBeef", tagBase64, 8},
		{"0d3f7a1e-2c4b-4a8e-9f1d-6b5c4a3e2d1f", tagUUID, 17},
		{"0D3F7A1E-2C4B-4A8E-9F1D-6B5C4A3E2D1F", tagUUIDUp, 17},
		{"0d3f7a1e-2c4b-4a8e-9f1d-6b5c4a3e2d1F", tagLiteral, 38},
		{"QgayPKawpkPSDYmwT/WM94uAlu0=", tagBase64, 22},
		{"QgayPKawpkPSDYmwT/WM94uAlu1=", tagLiteral, 30}, // not canonical
		{"alice@example.com", tagJID, 10},
		{"alice@example.com/phone", tagJID, 10},
		{"example.com/phone", tagJID, 4},
		{"alice@example.com/laptop", tagJID, 17},
		{"15551234567@example.com", tagJID, 11},
		{"alice@example.org", tagLiteral, 19},
		{"@example.com", tagLiteral, 14},
		{"alice@example.com/", tagLiteral, 20},
		{"a b@example.com", tagLiteral, 17},
	}
	for _, tc := range tests {
		b := enc.appendString(nil, tc.in, true)
		if b[0]&^0x03 != tc.tag&^0x03 && !(tc.tag == tagStream0 && b[0]>>4 == 0xD) || len(b) != tc.size {
			t.Errorf("%q: % x (%d bytes), want tag %#x and %d bytes", tc.in, b, len(b), tc.tag, tc.size)
		}
		el := stanza.NewElement(stanza.NSClient, "m", "v", tc.in)
		if got := roundTrip(t, enc, el); !stanza.Equal(got, el) {
			t.Errorf("%q: round trip gave %v", tc.in, got)
		}
	}
}

func TestEncoderSkipsNilChildren(t *testing.T) {
	enc := testEncoder(t)
	el := parseXML(t, `<message><body>a</body></message>`)
	el.Children = append([]*stanza.Element{nil}, append(el.Children, nil)...)
	got := roundTrip(t, enc, el)
	if len(got.Children) != 1 || got.Children[0].Text != "a" {
		t.Fatalf("got %v", got)
	}
	if b := enc.AppendStanza([]byte{9}, nil); !bytes.Equal(b, []byte{9}) {
		t.Fatalf("nil element appended % x", b)
	}
}

func TestPreambleValidate(t *testing.T) {
	bad := []Preamble{
		{Version: 2, Dictionary: 1},
		{Version: 1, Dictionary: 2},
		{Version: 1, Dictionary: 1, Strings: []string{""}},
		{Version: 1, Dictionary: 1, Strings: []string{"a", "a"}},
		{Version: 1, Dictionary: 1, Strings: make([]string, 17)},
		{Version: 1, Dictionary: 1, Strings: []string{strings.Repeat("a", 1024)}},
	}
	for _, p := range bad {
		if _, err := NewEncoder(p); err == nil {
			t.Errorf("NewEncoder accepted %+v", p)
		}
	}
	enc, err := NewEncoder(Preamble{})
	if err != nil || enc.Preamble().Version != Version || enc.Preamble().Dictionary != LatestDictionary {
		t.Fatal(enc, err)
	}
}

// TestAllocs: the encoder allocates nothing with room in dst; the decoder
// allocates four times per stanza (elements, attributes, child pointers,
// strings).
func TestAllocs(t *testing.T) {
	enc := testEncoder(t)
	el := parseXML(t, benchMessage)
	buf := enc.AppendStanza(nil, el)
	if n := testing.AllocsPerRun(100, func() { buf = enc.AppendStanza(buf[:0], el) }); n != 0 {
		t.Errorf("AppendStanza: %v allocs", n)
	}
	stream := bytes.Repeat(buf, 100)
	d := NewDecoder(DefaultLimits())
	d.Feed(enc.AppendPreamble(nil))
	d.Next()
	d.Feed(stream)
	if n := testing.AllocsPerRun(50, func() {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}); n != 4 {
		t.Errorf("Next: %v allocs per stanza, want 4", n)
	}
}
