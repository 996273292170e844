package xmlstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

const (
	nwf  = stanza.StreamNotWellFormed
	rxml = stanza.StreamRestrictedXML
	pv   = stanza.StreamPolicyViolation
	bnp  = condBadNamespacePrefix
)

// errorCases are inputs after the stream header (unless prolog is set), and
// the condition each must fail with.
var errorCases = []struct {
	name   string
	prolog bool // in is the whole input, header included
	in     string
	cond   stanza.Condition
}{
	// restricted XML
	{name: "comment", in: `<!-- hi -->`, cond: rxml},
	{name: "comment in stanza", in: `<message><!-- hi --></message>`, cond: rxml},
	{name: "processing instruction", in: `<?foo bar?>`, cond: rxml},
	{name: "PI in stanza", in: `<message><?foo?></message>`, cond: rxml},
	{name: "second XML declaration", in: `<?xml version='1.0'?>`, cond: rxml},
	{name: "doctype", prolog: true, in: `<!DOCTYPE stream [<!ENTITY x "y">]>`, cond: rxml},
	{name: "PI before header", prolog: true, in: `<?xml-stylesheet href='x'?>`, cond: rxml},
	{name: "comment before header", prolog: true, in: `<!-- x --><stream:stream>`, cond: rxml},
	{name: "undefined entity", in: `<message><body>&nbsp;</body></message>`, cond: rxml},
	{name: "undefined entity in attribute", in: `<message id='&foo;'/>`, cond: rxml},
	{name: "doctype in stream", in: `<!DOCTYPE x>`, cond: rxml},

	// not well-formed
	{name: "invalid UTF-8 in text", in: "<message><body>\xff</body></message>", cond: nwf},
	{name: "invalid UTF-8 in attribute", in: "<message id='\xc3\x28'/>", cond: nwf},
	{name: "overlong UTF-8", in: "<message><body>\xc0\xaf</body></message>", cond: nwf},
	{name: "surrogate UTF-8", in: "<message><body>\xed\xa0\x80</body></message>", cond: nwf},
	{name: "invalid UTF-8 in name", in: "<messag\xffe/>", cond: nwf},
	{name: "control character", in: "<message><body>a\x01b</body></message>", cond: nwf},
	{name: "NUL", in: "<message><body>\x00</body></message>", cond: nwf},
	{name: "control character in attribute", in: "<message id='\x1b'/>", cond: nwf},
	{name: "U+FFFE", in: "<message><body>\uFFFE</body></message>", cond: nwf},
	{name: "U+FFFF", in: "<message><body>\xef\xbf\xbf</body></message>", cond: nwf},
	{name: "char ref to NUL", in: `<message><body>&#0;</body></message>`, cond: nwf},
	{name: "char ref to U+FFFE", in: `<message><body>&#xFFFE;</body></message>`, cond: nwf},
	{name: "char ref to surrogate", in: `<message><body>&#xD800;</body></message>`, cond: nwf},
	{name: "char ref out of range", in: `<message><body>&#x110000;</body></message>`, cond: nwf},
	{name: "bad char ref", in: `<message><body>&#xZZ;</body></message>`, cond: nwf},
	{name: "empty char ref", in: `<message><body>&#;</body></message>`, cond: nwf},
	{name: "bare ampersand", in: `<message><body>a & b</body></message>`, cond: nwf},
	{name: "bare ampersand in attribute", in: `<message id='a&b'/>`, cond: nwf},
	{name: "mismatched end tag", in: `<message><body>x</bdy></message>`, cond: nwf},
	{name: "mismatched prefix", in: `<p:a xmlns:p='u'></q:a>`, cond: nwf},
	{name: "end tag without prefix", in: `<p:a xmlns:p='u'></a>`, cond: nwf},
	{name: "stream end inside stanza", in: `<message></stream:stream>`, cond: nwf},
	{name: "wrong stream end", in: `</stream:strea>`, cond: nwf},
	{name: "duplicate attribute", in: `<message id='1' id='2'/>`, cond: nwf},
	{name: "duplicate expanded attribute", in: `<message xmlns:a='u' xmlns:b='u' a:x='1' b:x='2'/>`, cond: nwf},
	{name: "duplicate xmlns", in: `<message xmlns='a' xmlns='b'/>`, cond: nwf},
	{name: "duplicate prefix declaration", in: `<message xmlns:a='u' xmlns:a='v'/>`, cond: nwf},
	{name: "unquoted attribute", in: `<message id=1/>`, cond: nwf},
	{name: "attribute without value", in: `<message id/>`, cond: nwf},
	{name: "attributes without space", in: `<message a='1'b='2'/>`, cond: nwf},
	{name: "lt in attribute", in: `<message id='<'/>`, cond: nwf},
	{name: "unterminated tag", in: `<message <body/>`, cond: nwf},
	{name: "space after lt", in: `< message/>`, cond: nwf},
	{name: "bad name start", in: `<1message/>`, cond: nwf},
	{name: "two colons", in: `<a:b:c/>`, cond: nwf},
	{name: "leading colon", in: `<:a/>`, cond: nwf},
	{name: "local name starts with a digit", in: `<message xmlns:p='u'><p:0/></message>`, cond: nwf},
	{name: "attribute local name starts with a dash", in: `<message xmlns:p='u' p:-a='1'/>`, cond: nwf},
	{name: "text in stream", in: `hello`, cond: nwf},
	{name: "text after stanza", in: `<r xmlns='urn:xmpp:sm:3'/> x`, cond: nwf},
	{name: "char ref in stream", in: `&#32;`, cond: nwf},
	{name: "CDATA in stream", in: `<![CDATA[x]]>`, cond: nwf},
	{name: "CDATA end in text", in: `<message><body>a]]>b</body></message>`, cond: nwf},
	{name: "bad CDATA start", in: `<message><![CDATX[x]]></message>`, cond: nwf},
	{name: "slash without gt", in: `<message/ >`, cond: nwf},
	{name: "end tag with attribute", in: `<message></message id='x'>`, cond: nwf},
	{name: "content after stream end", in: `</stream:stream><message/>`, cond: nwf},
	{name: "text before header", prolog: true, in: `hello<stream:stream>`, cond: nwf},
	{name: "end tag before header", prolog: true, in: `</stream:stream>`, cond: nwf},
	{name: "bad XML declaration", prolog: true, in: `<?xml encoding='UTF-8'?>`, cond: nwf},
	{name: "bad XML version", prolog: true, in: `<?xml version='2.0'?>`, cond: nwf},
	{name: "unknown pseudo-attribute", prolog: true, in: `<?xml version='1.0' foo='bar'?>`, cond: nwf},
	{name: "empty prefix declaration", in: `<message xmlns:p=''/>`, cond: nwf},
	{name: "xmlns prefix declared", in: `<message xmlns:xmlns='u'/>`, cond: nwf},
	{name: "xml prefix rebound", in: `<message xmlns:xml='u'/>`, cond: nwf},
	{name: "xml namespace bound", in: `<message xmlns:x='http://www.w3.org/XML/1998/namespace'/>`, cond: nwf},
	{name: "xml namespace as default", in: `<message xmlns='http://www.w3.org/XML/1998/namespace'/>`, cond: nwf},

	// namespaces of the stream
	{name: "unbound element prefix", in: `<foo:message/>`, cond: bnp},
	{name: "unbound attribute prefix", in: `<message foo:id='1'/>`, cond: bnp},
	{name: "prefix out of scope", in: `<message><a xmlns:p='u'/><p:b/></message>`, cond: bnp},
	{name: "unbound stream prefix", prolog: true, in: `<stream:stream xmlns='jabber:client'>`, cond: bnp},
	{name: "wrong root name", prolog: true, in: `<stream:foo xmlns:stream='http://etherx.jabber.org/streams'>`, cond: stanza.StreamInvalidNamespace},
	{name: "wrong root namespace", prolog: true, in: `<stream:stream xmlns:stream='urn:wrong'>`, cond: stanza.StreamInvalidNamespace},
	{name: "root without namespace", prolog: true, in: `<stream>`, cond: stanza.StreamInvalidNamespace},
	{name: "other encoding", prolog: true, in: `<?xml version='1.0' encoding='ISO-8859-1'?>`, cond: stanza.StreamUnsupportedEncoding},

	// limits (the test parser uses small limits, see below)
	{name: "stanza too large", in: `<message><body>` + strings.Repeat("x", 600) + `</body></message>`, cond: pv},
	{name: "stanza too large in attribute", in: `<message id='` + strings.Repeat("x", 600) + `'/>`, cond: pv},
	{name: "stanza too large in name", in: `<message` + strings.Repeat("x", 600) + `/>`, cond: pv},
	{name: "stanza too large with entities", in: `<message><body>` + strings.Repeat("&amp;", 200) + `</body></message>`, cond: pv},
	{name: "too deep", in: strings.Repeat("<a>", 9) + strings.Repeat("</a>", 9), cond: pv},
	{name: "too many attributes", in: `<message a='1' b='2' c='3' d='4' e='5' f='6' g='7'/>`, cond: pv},
	{name: "too many declarations", in: `<message xmlns:a='1' xmlns:b='2' xmlns:c='3' xmlns:d='4' xmlns:e='5' xmlns:f='6' xmlns='7'/>`, cond: pv},
	{name: "header too large", prolog: true, in: `<stream:stream id='` + strings.Repeat("x", 600) + `'>`, cond: pv},
}

var testLimits = Limits{MaxStanzaBytes: 512, MaxDepth: 8, MaxAttrs: 6}

func TestErrors(t *testing.T) {
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if !tt.prolog {
				in = header + in
			}
			for _, chunk := range []int{len(in), 1, 7} {
				p := NewParser(testLimits)
				var err error
				for i := 0; i < len(in) && (err == nil || err == ErrNeedMore); i += chunk {
					p.Feed([]byte(in[i:min(i+chunk, len(in))]))
					for err = nil; err == nil; {
						_, err = p.Next()
					}
				}
				var se *stanza.StreamError
				if !errors.As(err, &se) || se.Condition != tt.cond {
					t.Fatalf("chunk %d: error %v, want %s", chunk, err, tt.cond)
				}
				if _, again := p.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
			}
		})
	}
}

// TestLimitEnforcedWhileArriving checks that an oversized stanza is refused
// after about the limit, not after it is complete.
func TestLimitEnforcedWhileArriving(t *testing.T) {
	p := NewParser(Limits{MaxStanzaBytes: 1024})
	p.Feed([]byte(header))
	p.Next()
	p.Feed([]byte("<message><body>"))
	chunk := []byte(strings.Repeat("x", 100))
	fed := 0
	for ; fed < 1<<20; fed += len(chunk) {
		p.Feed(chunk)
		if _, err := p.Next(); err != ErrNeedMore {
			var se *stanza.StreamError
			if !errors.As(err, &se) || se.Condition != pv {
				t.Fatalf("error %v, want policy-violation", err)
			}
			break
		}
		if p.Buffered() > 1024+len(chunk) {
			t.Fatalf("parser holds %d bytes", p.Buffered())
		}
	}
	if fed > 1024 {
		t.Fatalf("refused after %d bytes, want about 1024", fed)
	}
	// One big Feed: refused without copying it all into the stanza.
	p = NewParser(Limits{MaxStanzaBytes: 1024})
	p.Feed([]byte(header + "<message><body>" + strings.Repeat("x", 1<<20)))
	p.Next()
	if _, err := p.Next(); err == nil || err == ErrNeedMore {
		t.Fatalf("err = %v", err)
	}
}

func TestLimitsAtTheEdge(t *testing.T) {
	msg := `<message><body>` + strings.Repeat("x", 100) + `</body></message>`
	for _, max := range []int{len(msg), len(msg) - 1} {
		p := NewParser(Limits{MaxStanzaBytes: max})
		p.Feed([]byte(header + msg))
		p.Next()
		_, err := p.Next()
		if (max == len(msg)) != (err == nil) {
			t.Errorf("limit %d for a %d-byte stanza: err %v", max, len(msg), err)
		}
	}
	deep := strings.Repeat("<a>", 8) + strings.Repeat("</a>", 8)
	if _, err := parseWith(testLimits, header+deep); err != nil {
		t.Errorf("depth 8 with MaxDepth 8: %v", err)
	}
	if _, err := parseWith(testLimits, header+`<m a='1' b='2' c='3' d='4' e='5' xmlns:x='u'/>`); err != nil {
		t.Errorf("6 attributes with MaxAttrs 6: %v", err)
	}
}

func parseWith(l Limits, in string) ([]Token, error) {
	p := NewParser(l)
	p.Feed([]byte(in))
	var toks []Token
	for {
		tok, err := p.Next()
		if err == ErrNeedMore {
			return toks, nil
		}
		if err != nil {
			return toks, err
		}
		toks = append(toks, tok)
	}
}
