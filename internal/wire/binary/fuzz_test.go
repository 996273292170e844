package binary

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// fuzzLimits are small so that the fuzzer reaches them.
var fuzzLimits = Limits{MaxFrameBytes: 4096, MaxDepth: 12, MaxAttrs: 12, MaxStringBytes: 16384}

// goldenStream returns the preamble and every golden frame, for seeds.
func goldenSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	files, _ := filepath.Glob("testdata/golden/*.xml")
	enc := testEncoder(t)
	all := enc.AppendPreamble(nil)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		frame := enc.AppendStanza(nil, parseXML(t, string(bytes.TrimSpace(src))))
		seeds[strings.TrimSuffix(filepath.Base(f), ".xml")] = append(enc.AppendPreamble(nil), frame...)
		all = append(all, frame...)
	}
	seeds["all-golden-keepalive-end"] = AppendStreamEnd(AppendKeepAlive(all))
	return seeds
}

func FuzzDecoder(f *testing.F) {
	for _, s := range goldenSeeds(f) {
		f.Add(s, uint64(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunks uint64) {
		whole := decodeAll(t, data, 0, fuzzLimits)
		split := decodeAll(t, data, chunks, fuzzLimits)
		// Feeding the same bytes in other pieces gives the same tokens and
		// the same error.
		if len(whole.toks) != len(split.toks) {
			t.Fatalf("%d tokens whole, %d split (errors %v, %v)", len(whole.toks), len(split.toks), whole.err, split.err)
		}
		if (whole.err == nil) != (split.err == nil) || whole.err != nil && whole.err.Error() != split.err.Error() {
			t.Fatalf("errors differ: whole %v, split %v", whole.err, split.err)
		}
		var enc *Encoder
		for i, tok := range whole.toks {
			other := split.toks[i]
			if tok.Kind != other.Kind || !stanza.Equal(tok.Element, other.Element) {
				t.Fatalf("token %d differs: %v %v / %v %v", i, tok.Kind, tok.Element, other.Kind, other.Element)
			}
			switch tok.Kind {
			case StreamStart:
				var err error
				if enc, err = NewEncoder(tok.Preamble); err != nil {
					t.Fatalf("decoded preamble %+v is refused by NewEncoder: %v", tok.Preamble, err)
				}
			case Stanza:
				// Whatever decodes re-encodes to the same tree.
				if got := roundTrip(t, enc, tok.Element); !stanza.Equal(got, tok.Element) {
					t.Fatalf("re-encoding changed the tree:\n in %v\nout %v", tok.Element, got)
				}
			}
		}
		if whole.err != nil {
			var pe *ProtocolError
			if !errors.As(whole.err, &pe) || pe.StreamError() == nil || pe.Offset < 0 || pe.Offset > int64(len(data)) {
				t.Fatalf("bad error %#v", whole.err)
			}
		}
	})
}

// FuzzRoundTrip puts arbitrary strings in every slot of a small tree: every
// string survives encode -> decode whatever form the encoder picks.
func FuzzRoundTrip(f *testing.F) {
	f.Add("message", "jabber:client", "to", "alice@example.com/phone", "hello", "2024-01-01T10:00:00Z")
	f.Add("x", "urn:q", "id", "0d3f7a1e-2c4b-4a8e-9f1d-6b5c4a3e2d1f", "QgayPKawpkPSDYmwT/WM94uAlu0=", "DEADBEEF")
	f.Add("名", "", "v", "+15551234567@example.com/x/y@z", "\x00\xff\xfe", "a@b@c")
	f.Add("", "example.com", "", "example.com/", "@example.com", "0123456789abcdef0")
	f.Fuzz(func(t *testing.T, name, space, attr, value, text, other string) {
		enc := testEncoder(t)
		child := &stanza.Element{Space: other, Name: value, Text: other,
			Attrs: []stanza.Attr{{Space: space, Name: other, Value: text}, {Space: stanza.NSXML, Name: "lang", Value: value}}}
		el := &stanza.Element{Space: space, Name: name, Text: text,
			Attrs:    []stanza.Attr{{Name: attr, Value: value}, {Name: other, Value: other}},
			Children: []*stanza.Element{child, {Space: space, Name: text, Text: value}}}
		if got := roundTrip(t, enc, el); !stanza.Equal(got, el) {
			t.Fatalf("round trip changed the tree:\n in %v\nout %v", el, got)
		}
	})
}

// FuzzRoundTripXML: whatever the XML parser accepts goes through the binary
// form and comes back as the same tree and the same XML.
func FuzzRoundTripXML(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.xml")
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.TrimSpace(src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.ParseElement(data, stanza.NSClient, xmlstream.Limits{MaxStanzaBytes: 4096, MaxDepth: 12, MaxAttrs: 12})
		if err != nil {
			return
		}
		got := roundTrip(t, testEncoder(t), el)
		if !stanza.Equal(got, el) {
			t.Fatalf("round trip changed the tree:\n in %v\nout %v", el, got)
		}
		if a, b := xmlstream.AppendElement(nil, el, stanza.NSClient), xmlstream.AppendElement(nil, got, stanza.NSClient); !bytes.Equal(a, b) {
			t.Fatalf("XML differs:\n%s\n%s", a, b)
		}
	})
}

// TestFuzzSeeds keeps the committed seed corpus in testdata/fuzz/FuzzDecoder
// (one file per golden stanza, plus hand-made bad inputs); -update
// rewrites it.
func TestFuzzSeeds(t *testing.T) {
	dir := "testdata/fuzz/FuzzDecoder"
	seeds := goldenSeeds(t)
	seeds["bad-magic-xml"] = []byte("<?xml version='1.0'?><stream:stream>")
	seeds["frame-too-large"] = append(stream(), 0xFF, 0xFF, 0x7F)
	seeds["deep"] = stream([]byte{0x20, 0x02, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01,
		0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x20, 0x01, 0x00, 0x01})
	seeds["jid-parts"] = stream([]byte{0x06, 0x02, 0x04, 0xF7, 0xF1, 0x03, 0x15, 0x50, 0xD0, 0xF4,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0xF6, 0x02, 0xFF, 0xFE})
	for name, data := range seeds {
		path := filepath.Join(dir, "seed-"+name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint64(%d)\n", data, len(name)*0x0101010101)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (run with -update): %v", path, err)
		}
	}
}
