package xmlstream

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// benchMessage is a typical 1:1 chat message (about 300 bytes).
const benchMessage = `<message from='alice@example.com/phone-8f3a' to='bob@example.com' type='chat' id='5f1c2e9a-77b1' xml:lang='en'>` +
	`<body>Hey Bob, are we still on for lunch tomorrow at noon? Let me know!</body>` +
	`<request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='0d3f7a1e-2c4b-4a8e-9f1d-6b5c4a3e2d1f'/></message>`

// benchPresence is a typical available presence with entity capabilities.
const benchPresence = `<presence from='alice@example.com/phone-8f3a' xml:lang='en'><show>away</show><status>In a meeting</status>` +
	`<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`

const readSize = 4096 // what the connection reads at a time

// benchStream parses an endless stream of stanza fed in readSize chunks.
func benchStream(b *testing.B, st string) {
	msgs := []byte(stringsRepeat(st, 64))
	p := NewParser(DefaultLimits())
	p.Feed([]byte(header))
	if tok, err := p.Next(); err != nil || tok.Kind != StreamStart {
		b.Fatal(tok, err)
	}
	b.SetBytes(int64(len(st)))
	b.ReportAllocs()
	b.ResetTimer()
	off := 0
	for n := 0; n < b.N; {
		end := min(off+readSize, len(msgs))
		p.Feed(msgs[off:end])
		off = end % len(msgs)
		for {
			tok, err := p.Next()
			if err == ErrNeedMore {
				break
			}
			if err != nil || tok.Element == nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stanzas/s")
}

// benchOnePerRead feeds one stanza per Feed, the parser going idle (and
// dropping its buffers) in between: the pattern of an interactive client.
func benchOnePerRead(b *testing.B, st string) {
	in := []byte(st)
	p := NewParser(DefaultLimits())
	p.Feed([]byte(header))
	p.Next()
	b.SetBytes(int64(len(st)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.Feed(in)
		if tok, err := p.Next(); err != nil || tok.Element == nil {
			b.Fatal(err)
		}
		if _, err := p.Next(); err != ErrNeedMore {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stanzas/s")
}

func BenchmarkParseMessage(b *testing.B) {
	b.Run("stream", func(b *testing.B) { benchStream(b, benchMessage) })
	b.Run("one-per-read", func(b *testing.B) { benchOnePerRead(b, benchMessage) })
	b.Run("ParseElement", func(b *testing.B) {
		in := []byte(benchMessage)
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for range b.N {
			if _, err := ParseElement(in, stanza.NSClient, DefaultLimits()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stanzas/s")
	})
}

func BenchmarkParsePresence(b *testing.B) {
	b.Run("stream", func(b *testing.B) { benchStream(b, benchPresence) })
	b.Run("one-per-read", func(b *testing.B) { benchOnePerRead(b, benchPresence) })
}

// cycleReader returns head, then body over and over.
type cycleReader struct {
	head, body []byte
	off        int
}

func (r *cycleReader) Read(b []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(b, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	n := copy(b, r.body[r.off:])
	r.off = (r.off + n) % len(r.body)
	return n, nil
}

// benchEncodingXML builds the same trees with encoding/xml's Decoder, for
// comparison.
func benchEncodingXML(b *testing.B, st string) {
	r := &cycleReader{head: []byte(header), body: []byte(stringsRepeat(st, 64))}
	d := xml.NewDecoder(r)
	if _, err := d.Token(); err != nil { // ProcInst
		b.Fatal(err)
	}
	if _, err := d.Token(); err != nil { // stream:stream
		b.Fatal(err)
	}
	b.SetBytes(int64(len(st)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e, err := decodeStanza(d)
		if err != nil || e == nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stanzas/s")
}

// decodeStanza reads one depth-1 element from d into a stanza.Element.
func decodeStanza(d *xml.Decoder) (*stanza.Element, error) {
	var stack []*stanza.Element
	var text []byte
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &stanza.Element{Space: t.Name.Space, Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				e.Attrs = append(e.Attrs, stanza.Attr{Space: a.Name.Space, Name: a.Name.Local, Value: a.Value})
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, e)
			}
			stack = append(stack, e)
			text = text[:0]
		case xml.CharData:
			if len(stack) > 0 {
				text = append(text, t...)
			}
		case xml.EndElement:
			e := stack[len(stack)-1]
			if len(e.Children) == 0 && len(text) > 0 {
				e.Text = string(text)
			}
			text = text[:0]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return e, nil
			}
		}
	}
}

func BenchmarkEncodingXMLMessage(b *testing.B)  { benchEncodingXML(b, benchMessage) }
func BenchmarkEncodingXMLPresence(b *testing.B) { benchEncodingXML(b, benchPresence) }

func BenchmarkAppendMessage(b *testing.B) {
	e, err := ParseElement([]byte(benchMessage), stanza.NSClient, DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	buf := AppendElement(nil, e, stanza.NSClient)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buf = AppendElement(buf[:0], e, stanza.NSClient)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stanzas/s")
}

// TestBenchTreesMatch checks that the encoding/xml comparison builds the same
// trees as the parser, so the benchmarks compare like with like.
func TestBenchTreesMatch(t *testing.T) {
	for _, st := range []string{benchMessage, benchPresence} {
		d := xml.NewDecoder(io.MultiReader(bytes.NewReader([]byte(header)), bytes.NewReader([]byte(st))))
		d.Token()
		d.Token()
		want, err := decodeStanza(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := one(t, st); !stanza.Equal(got, want) {
			t.Errorf("parser %v\nencoding/xml %v", got, want)
		}
	}
	if n := len(benchMessage); n < 280 || n > 340 {
		t.Errorf("benchMessage is %d bytes, want about 300", n)
	}
}

func stringsRepeat(s string, n int) string { return string(bytes.Repeat([]byte(s), n)) }
