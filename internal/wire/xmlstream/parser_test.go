package xmlstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
	`xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en'>`

// parseAll feeds in with the given chunk sizes (cycled) and returns every
// token up to the first error other than ErrNeedMore.
func parseAll(in string, chunks ...int) ([]Token, error) {
	p := NewParser(DefaultLimits())
	if len(chunks) == 0 {
		chunks = []int{len(in) + 1}
	}
	var toks []Token
	for i, k := 0, 0; ; k++ {
		for {
			tok, err := p.Next()
			if errors.Is(err, ErrNeedMore) {
				break
			}
			if err != nil {
				return toks, err
			}
			toks = append(toks, tok)
		}
		if i >= len(in) {
			return toks, nil
		}
		n := min(chunks[k%len(chunks)], len(in)-i)
		p.Feed([]byte(in[i : i+n]))
		i += n
	}
}

// stanzas parses header+body and returns the stanzas.
func stanzas(t *testing.T, body string) []*stanza.Element {
	t.Helper()
	toks, err := parseAll(header + body)
	if err != nil {
		t.Fatalf("parse %q: %v", body, err)
	}
	var els []*stanza.Element
	for _, tok := range toks {
		if tok.Kind == Stanza {
			els = append(els, tok.Element)
		}
	}
	return els
}

func one(t *testing.T, body string) *stanza.Element {
	t.Helper()
	els := stanzas(t, body)
	if len(els) != 1 {
		t.Fatalf("parse %q: got %d stanzas, want 1", body, len(els))
	}
	return els[0]
}

func el(space, name string, attrs ...string) *stanza.Element {
	return stanza.NewElement(space, name, attrs...)
}

func withText(e *stanza.Element, text string) *stanza.Element { e.Text = text; return e }

func with(e *stanza.Element, kids ...*stanza.Element) *stanza.Element {
	for _, k := range kids {
		e.AddChild(k)
	}
	return e
}

func TestStreamTokens(t *testing.T) {
	in := header + " <r xmlns='urn:xmpp:sm:3'/>\n\t </stream:stream>  "
	toks, err := parseAll(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 3 || toks[0].Kind != StreamStart || toks[1].Kind != Stanza || toks[2].Kind != StreamEnd {
		t.Fatalf("tokens = %+v", toks)
	}
	want := StreamHeader{To: "example.com", Version: "1.0", Lang: "en", DefaultNS: stanza.NSClient}
	if toks[0].Header != want {
		t.Errorf("header = %+v, want %+v", toks[0].Header, want)
	}
	if !stanza.Equal(toks[1].Element, el(stanza.NSSM, "r")) {
		t.Errorf("stanza = %v", toks[1].Element)
	}
}

func TestHeaderAvailableBeforeAnythingElse(t *testing.T) {
	p := NewParser(DefaultLimits())
	p.Feed([]byte(header))
	tok, err := p.Next()
	if err != nil || tok.Kind != StreamStart {
		t.Fatalf("Next = %v, %v; want StreamStart", tok.Kind, err)
	}
	if _, err := p.Next(); err != ErrNeedMore {
		t.Fatalf("Next = %v, want ErrNeedMore", err)
	}
}

func TestHeaderVariants(t *testing.T) {
	tests := []struct {
		in   string
		want StreamHeader
	}{
		{`<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" from="a@b" id="x1" version="1.0">`,
			StreamHeader{From: "a@b", ID: "x1", Version: "1.0", DefaultNS: stanza.NSClient}},
		{"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" standalone='yes' ?>\n<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:server'>",
			StreamHeader{DefaultNS: "jabber:server"}},
		{`<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, StreamHeader{}},
	}
	for _, tt := range tests {
		toks, err := parseAll(tt.in)
		if err != nil || len(toks) != 1 || toks[0].Header != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, toks, err, tt.want)
		}
	}
}

func TestSelfClosedHeader(t *testing.T) {
	toks, err := parseAll(`<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>`)
	if err != nil || len(toks) != 2 || toks[0].Kind != StreamStart || toks[1].Kind != StreamEnd {
		t.Fatalf("got %+v, %v", toks, err)
	}
}

func TestNamespaces(t *testing.T) {
	got := one(t, `<iq type='get' id='1' xmlns:d='http://jabber.org/protocol/disco#info'>`+
		`<d:query node='n'><d:identity category='client'/><feature xmlns='x' var='y'><inner/></feature></d:query></iq>`)
	want := with(el(stanza.NSClient, "iq", "type", "get", "id", "1"),
		with(el(stanza.NSDiscoInfo, "query", "node", "n"),
			el(stanza.NSDiscoInfo, "identity", "category", "client"),
			with(el("x", "feature", "var", "y"), el("x", "inner"))))
	if !stanza.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestStreamPrefixInStanza(t *testing.T) {
	got := one(t, `<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`)
	want := stanza.NewStreamError(stanza.StreamNotAuthorized, "").Element()
	if !stanza.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestQualifiedAttributes(t *testing.T) {
	got := one(t, `<message xml:lang='de' xmlns:e='urn:ext' e:a='1' a='2'/>`)
	want := &stanza.Element{Space: stanza.NSClient, Name: "message", Attrs: []stanza.Attr{
		{Space: stanza.NSXML, Name: "lang", Value: "de"}, {Space: "urn:ext", Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}
	if !stanza.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got.Lang() != "de" {
		t.Errorf("Lang = %q", got.Lang())
	}
}

func TestUndeclareDefaultNamespace(t *testing.T) {
	got := one(t, `<message><x xmlns=''><y/></x></message>`)
	want := with(el(stanza.NSClient, "message"), with(el("", "x"), el("", "y")))
	if !stanza.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<body>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</body>`, `a <b> & "c" 'd'`},
		{`<body>&#65;&#x42;&#x1F600;&#xd;</body>`, "AB\U0001F600\r"},
		{`<body><![CDATA[<not> &a; tag]]]]></body>`, `<not> &a; tag]]`},
		{`<body>x<![CDATA[]]>y</body>`, `xy`},
		{"<body>l1\r\nl2\rl3\n</body>", "l1\nl2\nl3\n"},
		{`<body> </body>`, ` `},
		{`<body>a]b]]c>d</body>`, `a]b]]c>d`},
		{"<body>h\u00e9llo \u4e16\u754c</body>", "h\u00e9llo \u4e16\u754c"},
	}
	for _, tt := range tests {
		got := one(t, "<message>"+tt.in+"</message>")
		if b := got.Children[0].Text; b != tt.want {
			t.Errorf("%s: text %q, want %q", tt.in, b, tt.want)
		}
	}
}

func TestMixedContentAndWhiteSpace(t *testing.T) {
	got := one(t, "<message>\n  <body>hi</body>\n  <thread>t</thread>\n</message>")
	want := with(el(stanza.NSClient, "message"), withText(el(stanza.NSClient, "body"), "hi"),
		withText(el(stanza.NSClient, "thread"), "t"))
	if !stanza.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = one(t, "<a>one <b>x</b>two<c/> three</a>")
	if got.Text != "one two three" || len(got.Children) != 2 {
		t.Errorf("mixed content: text %q, %d children", got.Text, len(got.Children))
	}
}

func TestAttributeValueNormalization(t *testing.T) {
	got := one(t, "<message id='a\tb\nc\r\nd&#x9;e&#xA;f&#xD;g' to=\"it's &lt;\"/>")
	if id := got.Attr("id"); id != "a b c d\te\nf\rg" {
		t.Errorf("id = %q", id)
	}
	if to := got.Attr("to"); to != "it's <" {
		t.Errorf("to = %q", to)
	}
}

func TestAttrsAndChildrenAreCapped(t *testing.T) {
	got := one(t, `<message a='1'><x b='2'/><y c='3'/></message>`)
	got.SetAttr("new", "v")
	got.Children[0].AddChild(el("", "z"))
	if got.Children[0].Attr("b") != "2" || got.Children[1].Name != "y" || got.Children[1].Attr("c") != "3" {
		t.Fatalf("appending to one element changed another: %v", got)
	}
}

func TestResetDropsInputAndExpectsHeader(t *testing.T) {
	p := NewParser(DefaultLimits())
	p.Feed([]byte(header + `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message>injected`))
	for _, want := range []TokenKind{StreamStart, Stanza} {
		if tok, err := p.Next(); err != nil || tok.Kind != want {
			t.Fatalf("Next = %v, %v; want %v", tok.Kind, err, want)
		}
	}
	p.Reset()
	if n := p.Buffered(); n != 0 {
		t.Fatalf("Buffered after Reset = %d", n)
	}
	p.Feed([]byte(header))
	if tok, err := p.Next(); err != nil || tok.Kind != StreamStart {
		t.Fatalf("after Reset: %v, %v; want StreamStart", tok.Kind, err)
	}
}

func TestBufferedAndRelease(t *testing.T) {
	p := NewParser(DefaultLimits())
	p.Feed([]byte(header))
	p.Next()
	if _, err := p.Next(); err != ErrNeedMore || p.Buffered() != 0 || p.in != nil || p.s != nil {
		t.Fatalf("idle parser holds %d bytes (in=%v s=%v)", p.Buffered(), p.in != nil, p.s != nil)
	}
	msg := `<message><body>hello</body></message>`
	p.Feed([]byte(msg[:20]))
	if _, err := p.Next(); err != ErrNeedMore || p.Buffered() != 20 {
		t.Fatalf("Buffered mid-stanza = %d, want 20 (%v)", p.Buffered(), err)
	}
	p.Feed([]byte(msg[20:] + " "))
	if tok, err := p.Next(); err != nil || tok.Kind != Stanza {
		t.Fatalf("Next = %v, %v", tok.Kind, err)
	}
	if _, err := p.Next(); err != ErrNeedMore || p.Buffered() != 0 || p.in != nil || p.s != nil {
		t.Fatalf("idle parser holds %d bytes", p.Buffered())
	}
}

func TestErrorIsSticky(t *testing.T) {
	p := NewParser(DefaultLimits())
	p.Feed([]byte(header + "<!-- x -->"))
	p.Next()
	_, err1 := p.Next()
	p.Feed([]byte("<message/>"))
	_, err2 := p.Next()
	if err1 == nil || err1 == ErrNeedMore || err1 != err2 {
		t.Fatalf("errors %v, %v", err1, err2)
	}
}

func TestZeroLimitsTakeDefaults(t *testing.T) {
	p := NewParser(Limits{})
	if p.lim != DefaultLimits() {
		t.Fatalf("limits = %+v", p.lim)
	}
}

func TestParseElementWebSocket(t *testing.T) {
	tests := []struct {
		in   string
		want *stanza.Element
	}{
		{`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`,
			el(stanza.NSFraming, "open", "to", "localhost", "version", "1.0")},
		{` <close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>` + "\n", el(stanza.NSFraming, "close")},
		{`<message xmlns="jabber:client" to="bob@localhost"><body>hi</body></message>`,
			with(el(stanza.NSClient, "message", "to", "bob@localhost"), withText(el(stanza.NSClient, "body"), "hi"))},
		{`<iq type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>`, // default namespace from the caller
			with(el(stanza.NSClient, "iq", "type", "get", "id", "p"), el(stanza.NSPing, "ping"))},
		{`<stream:error xmlns:stream="http://etherx.jabber.org/streams"><host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`,
			stanza.NewStreamError(stanza.StreamHostUnknown, "").Element()},
		{`<?xml version='1.0'?><r xmlns='urn:xmpp:sm:3'/>`, el(stanza.NSSM, "r")},
	}
	for _, tt := range tests {
		got, err := ParseElement([]byte(tt.in), stanza.NSClient, DefaultLimits())
		if err != nil || !stanza.Equal(got, tt.want) {
			t.Errorf("ParseElement(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseElementErrors(t *testing.T) {
	tests := []struct {
		in   string
		cond stanza.Condition
	}{
		{``, stanza.StreamNotWellFormed},
		{`<message>`, stanza.StreamNotWellFormed},
		{`<a/><b/>`, stanza.StreamNotWellFormed},
		{`<a/>x`, stanza.StreamNotWellFormed},
		{`x<a/>`, stanza.StreamNotWellFormed},
		{`<a/><!-- c -->`, stanza.StreamNotWellFormed},
		{`<a><!-- c --></a>`, stanza.StreamRestrictedXML},
		{`<p:a/>`, condBadNamespacePrefix},
		{`<a>` + strings.Repeat("x", 2000) + `</a>`, stanza.StreamPolicyViolation},
	}
	lim := Limits{MaxStanzaBytes: 1000}
	for _, tt := range tests {
		_, err := ParseElement([]byte(tt.in), stanza.NSClient, lim)
		var se *stanza.StreamError
		if !errors.As(err, &se) || se.Condition != tt.cond {
			t.Errorf("ParseElement(%.40q) error = %v, want %s", tt.in, err, tt.cond)
		}
	}
}

// The server sets "from" on every stanza a client sends: a parsed
// stanza's attributes have room for it, so that it costs no copy, and
// setting it leaves its children's attributes alone.
func TestParsedStanzaHasRoomForFrom(t *testing.T) {
	for _, in := range []string{
		`<message to='bob@localhost' type='chat' id='m1'><body xml:lang='en'>hi</body><x xmlns='urn:x' a='1' b='2'/></message>`,
		`<message><body>no attributes</body></message>`,
		`<presence/>`,
	} {
		const runs = 10
		els := make([]*stanza.Element, runs+1) // AllocsPerRun runs once more
		for i := range els {
			el, err := ParseElement([]byte(in), stanza.NSClient, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			els[i] = el
		}
		want := els[0].Copy()
		next := 0
		if n := testing.AllocsPerRun(runs, func() { els[next].SetAttr("from", "alice@localhost/phone"); next++ }); n != 0 {
			t.Errorf("%s: setting from made %v allocations, want 0", in, n)
		}
		el := els[0]
		want.SetAttr("from", "alice@localhost/phone")
		if !stanza.Equal(el, want) {
			t.Errorf("%s: after SetAttr from, %s; want %s", in, AppendElement(nil, el, stanza.NSClient), AppendElement(nil, want, stanza.NSClient))
		}
	}
}
