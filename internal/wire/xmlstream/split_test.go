package xmlstream

import (
	"math/rand/v2"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// sampleStream exercises every lexer state: XML declaration, header,
// keep-alives, namespaces and prefixes, entity and character references in
// text and attributes, CDATA, multi-byte UTF-8 (2, 3 and 4 bytes) in text,
// attributes and names, line ends, mixed content and the stream end.
const sampleStream = "\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?>\r\n" +
	`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en'>` +
	` <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>` + "\n" +
	`<message from='alice@example.com/phone' to='bob@example.com' type='chat' id='m&amp;1' xml:lang='de'>` +
	"<body>Gr\u00fc\u00dfe &lt;3 &#x1F600; \u4e16\u754c &#233;\r\nline2</body>" +
	`<request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='d9a8b7c6-1234'/>` +
	"<x:data xmlns:x='jabber:x:data' x:type=\"f\u00f6rm\" note=\"a&#x9;b\tc\"><![CDATA[raw <b>&amp;</b> ]] ]]]></x:data>" +
	"<na\u00efve\u4e2d attr\u00e9='v'>t</na\u00efve\u4e2d>" +
	`</message>  ` +
	`<presence><show>away</show><status>Out &amp; about</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>` +
	`<iq type='set' id='r1'><query xmlns='jabber:iq:roster' ver='v1'><item jid='carol@example.com' name='Carol &quot;C&quot;' subscription='both'><group>Friends</group></item></query></iq>` +
	"<a xmlns='urn:xmpp:sm:3' h='3'/> \t " +
	`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>` +
	"<message>one <b>x</b> two</message>" +
	`</stream:stream>`

func sameTokens(t *testing.T, what string, got, want []Token) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tokens, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].Kind != want[i].Kind || got[i].Header != want[i].Header || !stanza.Equal(got[i].Element, want[i].Element) {
			t.Fatalf("%s: token %d = %v %+v %v, want %v %+v %v", what, i,
				got[i].Kind, got[i].Header, got[i].Element, want[i].Kind, want[i].Header, want[i].Element)
		}
	}
}

func TestSampleStream(t *testing.T) {
	toks, err := parseAll(sampleStream)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []TokenKind{StreamStart, Stanza, Stanza, Stanza, Stanza, Stanza, Stanza, Stanza, StreamEnd}
	if len(toks) != len(kinds) {
		t.Fatalf("%d tokens, want %d", len(toks), len(kinds))
	}
	for i, k := range kinds {
		if toks[i].Kind != k {
			t.Fatalf("token %d is %v, want %v", i, toks[i].Kind, k)
		}
	}
	m := toks[2].Element
	if m.Body() != "Gr\u00fc\u00dfe <3 \U0001F600 \u4e16\u754c \u00e9\nline2" || m.Attr("id") != "m&1" || m.Lang() != "de" {
		t.Errorf("message = %v", m)
	}
	x := m.Child("jabber:x:data", "data")
	if x == nil || x.Text != "raw <b>&amp;</b> ]] ]" || x.Attrs[0] != (stanza.Attr{Space: "jabber:x:data", Name: "type", Value: "f\u00f6rm"}) ||
		x.Attr("note") != "a\tb c" {
		t.Errorf("x = %v", x)
	}
	if n := m.Children[4]; n.Name != "na\u00efve\u4e2d" || n.Attr("attr\u00e9") != "v" {
		t.Errorf("non-ASCII names: %v", n)
	}
	if f := toks[6].Element; f.Space != stanza.NSStream || f.Name != "features" || len(f.Children[0].Children) != 2 {
		t.Errorf("features = %v", f)
	}
}

func TestEverySplit(t *testing.T) {
	want, err := parseAll(sampleStream)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseAll(sampleStream, 1)
	if err != nil {
		t.Fatal(err)
	}
	sameTokens(t, "byte by byte", got, want)
	for k := 1; k < len(sampleStream); k++ {
		p := NewParser(DefaultLimits())
		var toks []Token
		for _, part := range []string{sampleStream[:k], sampleStream[k:]} {
			p.Feed([]byte(part))
			for {
				tok, err := p.Next()
				if err == ErrNeedMore {
					break
				}
				if err != nil {
					t.Fatalf("split at %d: %v", k, err)
				}
				toks = append(toks, tok)
			}
		}
		sameTokens(t, "split", toks, want)
	}
}

func TestRandomChunks(t *testing.T) {
	want, err := parseAll(sampleStream)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		chunks := make([]int, 1+rng.IntN(8))
		for i := range chunks {
			chunks[i] = 1 + rng.IntN(40)
		}
		got, err := parseAll(sampleStream, chunks...)
		if err != nil {
			t.Fatalf("chunks %v: %v", chunks, err)
		}
		sameTokens(t, "random chunks", got, want)
	}
}

// TestSplitErrors checks that an error is found whatever the split, with the
// same condition.
func TestSplitErrors(t *testing.T) {
	for _, tt := range errorCases {
		in := tt.in
		if !tt.prolog {
			in = header + in
		}
		for k := 1; k < len(in); k += 3 {
			p := NewParser(testLimits)
			var err error
			for _, part := range []string{in[:k], in[k:]} {
				p.Feed([]byte(part))
				for err = nil; err == nil; {
					_, err = p.Next()
				}
				if err != ErrNeedMore {
					break
				}
			}
			if se, ok := err.(*stanza.StreamError); !ok || se.Condition != tt.cond {
				t.Fatalf("%s split at %d: %v, want %s", tt.name, k, err, tt.cond)
			}
		}
	}
}
