package xmlstream

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// realistic holds stanzas as clients send them (after the stream header).
var realistic = map[string]string{
	"chat message": `<message from='alice@example.com/phone' to='bob@example.com' type='chat' id='5f1c2e' xml:lang='en'>` +
		`<body>Hey Bob, are we still on for lunch? &lt;3</body><request xmlns='urn:xmpp:receipts'/>` +
		`<origin-id xmlns='urn:xmpp:sid:0' id='0d3f7a1e-2c4b-4a8e-9f1d-6b5c4a3e2d1f'/><markable xmlns='urn:xmpp:chat-markers:0'/>` +
		`<active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
	"receipt": `<message to='alice@example.com/phone' id='r2'><received xmlns='urn:xmpp:receipts' id='5f1c2e'/><store xmlns='urn:xmpp:hints'/></message>`,
	"presence with caps": `<presence xml:lang='en'><show>dnd</show><status>In a meeting &amp; busy</status><priority>5</priority>` +
		`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>` +
		`<idle xmlns='urn:xmpp:idle:1' since='2024-01-01T10:00:00Z'/></presence>`,
	"roster get": `<iq type='get' id='roster_1'><query xmlns='jabber:iq:roster' ver='ver7'/></iq>`,
	"roster push": `<iq type='set' id='push1' to='alice@example.com/phone'><query xmlns='jabber:iq:roster'>` +
		`<item jid='bob@example.com' name='Bob "the builder"' subscription='both' ask='subscribe'><group>Friends</group><group>Work</group></item>` +
		`</query></iq>`,
	"bind":      `<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>`,
	"sasl auth": `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1hbGljZSxyPWZ5a28rZDJsYmJGZ09OUnY5cWt4ZEF3TDNl</auth>`,
	"sm r":      `<r xmlns='urn:xmpp:sm:3'/>`,
	"sm a":      `<a xmlns='urn:xmpp:sm:3' h='3'/>`,
	"sm enable": `<enable xmlns='urn:xmpp:sm:3' resume='true' max='600'/>`,
	"starttls":  `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`,
	"features": `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>` +
		`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>` +
		`<register xmlns='http://jabber.org/features/iq-register'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`,
	"stream error": `<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>` +
		`<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>bad &amp; ugly</text></stream:error>`,
	"disco prefixed": `<iq type='result' id='d1' xmlns:d='http://jabber.org/protocol/disco#info'><d:query><d:identity category='client' type='phone' name='P'/>` +
		`<d:feature var='urn:xmpp:receipts'/><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field></x></d:query></iq>`,
	"carbon": `<message from='alice@example.com' to='alice@example.com/phone' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<delay xmlns='urn:xmpp:delay' stamp='2024-01-01T10:00:00Z'/><message xmlns='jabber:client' from='alice@example.com/laptop' to='bob@example.com' type='chat'>` +
		`<body>forwarded</body></message></forwarded></sent></message>`,
	"escapes": "<message id='a&#x9;b&#xA;c&#xD;d &lt;&amp;&quot;&apos;&gt;'><body>&#xD;\n\t x &lt;&gt;&amp; ]]&gt; &#x1F600; caf\u00e9</body>" +
		"<subject><![CDATA[<cdata> & ]]></subject><thread xmlns:q='urn:q' q:a='1' q:b='2' xml:lang='fr'>t</thread></message>",
	"undeclared": `<message><x xmlns=''><y/></x><z xmlns='urn:z'><w xmlns=''/></z></message>`,
	"mixed":      `<message>one <b>x</b>two<c/> three</message>`,
	"whitespace": "<message>\n  <body> </body>\n  <thread>\t</thread>\n</message>",
}

// roundTrip checks parse -> AppendElement -> parse gives an equal tree, for
// both a stream (parentNS jabber:client) and standalone framing (parentNS "").
func roundTrip(t *testing.T, name string, e *stanza.Element) {
	t.Helper()
	in := AppendElement(nil, e, stanza.NSClient)
	toks, err := parseAll(header + string(in))
	if err != nil || len(toks) != 2 || !stanza.Equal(toks[1].Element, e) {
		t.Fatalf("%s: stream round trip of %v\nwrote %s\ngot %v, %v", name, e, in, toks, err)
	}
	in = AppendElement(nil, e, "")
	got, err := ParseElement(in, "", DefaultLimits())
	if err != nil || !stanza.Equal(got, e) {
		t.Fatalf("%s: standalone round trip of %v\nwrote %s\ngot %v, %v", name, e, in, got, err)
	}
	got, err = ParseElement(AppendElement(nil, e, stanza.NSClient), stanza.NSClient, DefaultLimits())
	if err != nil || !stanza.Equal(got, e) {
		t.Fatalf("%s: ParseElement of stream form: %v, %v", name, got, err)
	}
}

func TestRoundTripRealistic(t *testing.T) {
	for name, in := range realistic {
		roundTrip(t, name, one(t, in))
	}
	toks, err := parseAll(sampleStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok.Kind == Stanza {
			roundTrip(t, "sample stream", tok.Element)
		}
	}
}

func TestRoundTripBuiltElements(t *testing.T) {
	// Elements built by code rather than parsed.
	els := []*stanza.Element{
		stanza.NewStreamError(stanza.StreamPolicyViolation, "too big & bad").Element(),
		stanza.ErrorReply(one(t, `<iq type='get' id='1'><query xmlns='jabber:iq:version'/></iq>`),
			stanza.NewError(stanza.ServiceUnavailable, "")),
		{Space: stanza.NSClient, Name: "message", Attrs: []stanza.Attr{
			{Space: "urn:a", Name: "x", Value: "1"}, {Space: "urn:b", Name: "x", Value: "2"}, {Space: "urn:a", Name: "y", Value: "3"},
			{Space: stanza.NSXML, Name: "lang", Value: "en"}}},
		with(el(stanza.NSStream, "features"), with(el(stanza.NSStream, "inner"), el(stanza.NSClient, "c"))),
	}
	for _, e := range els {
		roundTrip(t, e.Name, e)
	}
}

func TestAppendElementForms(t *testing.T) {
	tests := []struct {
		e        *stanza.Element
		parentNS string
		want     string
	}{
		{withText(el(stanza.NSClient, "body"), "a<b>&c\r\n\t\"'"), stanza.NSClient, "<body>a&lt;b&gt;&amp;c&#xD;\n\t\"'</body>"},
		{el(stanza.NSClient, "message", "id", "a\"b'c<d&e\tf\ng\rh"), stanza.NSClient,
			`<message id="a&quot;b'c&lt;d&amp;e&#x9;f&#xA;g&#xD;h"/>`},
		{el(stanza.NSClient, "message"), "", `<message xmlns="jabber:client"/>`},
		{el(stanza.NSSM, "r"), stanza.NSClient, `<r xmlns="urn:xmpp:sm:3"/>`},
		{with(el(stanza.NSStream, "features"), el(stanza.NSBind, "bind")), stanza.NSClient,
			`<stream:features><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>`},
		{with(el(stanza.NSStream, "error"), el(stanza.NSStreamErr, "conflict")), "",
			`<stream:error xmlns:stream="http://etherx.jabber.org/streams"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`},
		{&stanza.Element{Space: stanza.NSClient, Name: "m", Attrs: []stanza.Attr{{Space: "urn:x", Name: "a", Value: "1"}, {Space: stanza.NSXML, Name: "lang", Value: "en"}}},
			stanza.NSClient, `<m xmlns:ns0="urn:x" ns0:a="1" xml:lang="en"/>`},
		{withText(el(stanza.NSClient, "body"), "bad\x01utf8\xff\uFFFE."), stanza.NSClient, "<body>bad\uFFFDutf8\uFFFD\uFFFD.</body>"},
		{el(stanza.NSClient, "x", "xmlns", "evil"), stanza.NSClient, `<x/>`},
	}
	for _, tt := range tests {
		if got := string(AppendElement(nil, tt.e, tt.parentNS)); got != tt.want {
			t.Errorf("AppendElement(%v, %q)\n got %s\nwant %s", tt.e, tt.parentNS, got, tt.want)
		}
	}
}

func TestStreamHeaderAndEnd(t *testing.T) {
	h := StreamHeader{From: "example.com", ID: "abc'1", Version: "1.0", Lang: "en"}
	b := AppendStreamHeader(nil, h)
	want := `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
		`id='abc&apos;1' from='example.com' version='1.0' xml:lang='en'>`
	if string(b) != want {
		t.Fatalf("header\n got %s\nwant %s", b, want)
	}
	b = AppendStreamEnd(b)
	toks, err := parseAll(string(b))
	h.DefaultNS = stanza.NSClient
	if err != nil || len(toks) != 2 || toks[0].Header != h || toks[1].Kind != StreamEnd {
		t.Fatalf("re-parse: %+v, %v", toks, err)
	}
}

func TestAppendElementDoesNotAllocate(t *testing.T) {
	e := one(t, realistic["chat message"])
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = AppendElement(buf[:0], e, stanza.NSClient) }); n != 0 {
		t.Errorf("AppendElement allocates %v times", n)
	}
	if !strings.HasPrefix(string(buf), "<message ") {
		t.Errorf("output %s", buf)
	}
}
