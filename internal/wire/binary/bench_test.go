package binary

import (
	"bytes"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// The typical stanzas of the benchmarks, as the server delivers them.

// benchMessage is a 1:1 chat message with a receipt request, the sender's
// origin-id and the stanza-id the server stamped.
const benchMessage = `<message from='alice@example.com/phone-8f3a' to='bob@example.com' type='chat' id='5f1c2e9a-77b1-4c3d-9e2f-0a1b2c3d4e5f' xml:lang='en'>` +
	`<body>Hey Bob, are we still on for lunch tomorrow at noon? Let me know!</body>` +
	`<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>` +
	`<origin-id xmlns='urn:xmpp:sid:0' id='5f1c2e9a-77b1-4c3d-9e2f-0a1b2c3d4e5f'/>` +
	`<stanza-id xmlns='urn:xmpp:sid:0' id='0d3f7a1e-2c4b-4a8e-9f1d-6b5c4a3e2d1f' by='bob@example.com'/></message>`

// benchPresence is an available presence with entity capabilities (the
// xmlstream benchmark's).
const benchPresence = `<presence from='alice@example.com/phone-8f3a' xml:lang='en'><show>away</show><status>In a meeting</status>` +
	`<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`

// benchRoster is a roster result with five contacts.
const benchRoster = `<iq to='alice@example.com/phone-8f3a' type='result' id='roster_1'><query xmlns='jabber:iq:roster' ver='17'>` +
	`<item jid='bob@example.com' name='Bob' subscription='both'><group>Friends</group></item>` +
	`<item jid='carol@example.com' name='Carol' subscription='both'><group>Work</group></item>` +
	`<item jid='dave@example.com' name='Dave Smith' subscription='to'/>` +
	`<item jid='erin@example.org' name='Erin' subscription='from'><group>Friends</group></item>` +
	`<item jid='15551234567@example.com' subscription='none' ask='subscribe'/>` +
	`</query></iq>`

// benchReceipt is the delivery receipt a message gets back.
const benchReceipt = `<message from='bob@example.com/laptop' to='alice@example.com/phone-8f3a' id='a8c1e0b2-3d4f-4a5b-8c6d-7e8f9a0b1c2d'>` +
	`<received xmlns='urn:xmpp:receipts' id='5f1c2e9a-77b1-4c3d-9e2f-0a1b2c3d4e5f'/></message>`

var benchStanzas = []struct{ name, xml string }{
	{"message", benchMessage},
	{"presence", benchPresence},
	{"roster", benchRoster},
	{"receipt", benchReceipt},
}

const readSize = 4096 // what the connection reads at a time

// TestWireSizes records bytes on the wire, XML against binary (frame with
// its length prefix), and checks the binary form stays well under the XML.
func TestWireSizes(t *testing.T) {
	enc := testEncoder(t)
	for _, st := range benchStanzas {
		el := parseXML(t, st.xml)
		x := xmlstream.AppendElement(nil, el, stanza.NSClient)
		b := enc.AppendStanza(nil, el)
		t.Logf("%-9s xml %4d bytes  binary %4d bytes  (%.0f%%)", st.name, len(x), len(b), 100*float64(len(b))/float64(len(x)))
		if 2*len(b) > len(x) {
			t.Errorf("%s: binary %d bytes is more than half the XML's %d", st.name, len(b), len(x))
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	enc := testEncoder(b)
	for _, st := range benchStanzas {
		el := parseXML(b, st.xml)
		b.Run(st.name+"/binary", func(b *testing.B) {
			buf := enc.AppendStanza(nil, el)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.AppendStanza(buf[:0], el)
			}
			b.ReportMetric(float64(len(buf)), "wire-B")
		})
		b.Run(st.name+"/xml", func(b *testing.B) {
			buf := xmlstream.AppendElement(nil, el, stanza.NSClient)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = xmlstream.AppendElement(buf[:0], el, stanza.NSClient)
			}
			b.ReportMetric(float64(len(buf)), "wire-B")
		})
	}
}

// BenchmarkDecode decodes an endless stream of one stanza fed in readSize
// chunks, binary against xmlstream's parser.
func BenchmarkDecode(b *testing.B) {
	enc := testEncoder(b)
	for _, st := range benchStanzas {
		el := parseXML(b, st.xml)
		b.Run(st.name+"/binary", func(b *testing.B) {
			frame := enc.AppendStanza(nil, el)
			d := NewDecoder(DefaultLimits())
			d.Feed(enc.AppendPreamble(nil))
			if _, err := d.Next(); err != nil {
				b.Fatal(err)
			}
			benchFeed(b, frame, func() (*stanza.Element, error) {
				tok, err := d.Next()
				return tok.Element, err
			}, d.Feed, ErrNeedMore)
		})
		b.Run(st.name+"/xml", func(b *testing.B) {
			x := xmlstream.AppendElement(nil, el, stanza.NSClient)
			p := xmlstream.NewParser(xmlstream.DefaultLimits())
			p.Feed([]byte(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`))
			if _, err := p.Next(); err != nil {
				b.Fatal(err)
			}
			benchFeed(b, x, func() (*stanza.Element, error) {
				tok, err := p.Next()
				return tok.Element, err
			}, p.Feed, xmlstream.ErrNeedMore)
		})
	}
}

func benchFeed(b *testing.B, one []byte, next func() (*stanza.Element, error), feed func([]byte), needMore error) {
	in := bytes.Repeat(one, 64)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	b.ResetTimer()
	off := 0
	for n := 0; n < b.N; {
		end := min(off+readSize, len(in))
		feed(in[off:end])
		off = end % len(in)
		for {
			el, err := next()
			if err == needMore {
				break
			}
			if err != nil || el == nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(len(one)), "wire-B")
}

// BenchmarkDecodeOnePerRead feeds one stanza per Feed, the decoder going
// idle (and dropping its buffer) in between: an interactive client.
func BenchmarkDecodeOnePerRead(b *testing.B) {
	enc := testEncoder(b)
	el := parseXML(b, benchMessage)
	frame := enc.AppendStanza(nil, el)
	d := NewDecoder(DefaultLimits())
	d.Feed(enc.AppendPreamble(nil))
	d.Next()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(frame)
		if tok, err := d.Next(); err != nil || tok.Element == nil {
			b.Fatal(err)
		}
		if _, err := d.Next(); err != ErrNeedMore {
			b.Fatal(err)
		}
	}
}
