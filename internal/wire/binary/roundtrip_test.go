package binary

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// gen builds random element trees. xmlSafe restricts them to what XML can
// carry and the XML parser gives back unchanged: NCNames, XML characters,
// distinct attribute names, no xmlns attributes.
type gen struct {
	r       *rand.Rand
	xmlSafe bool
}

var (
	genNames = []string{"message", "body", "query", "item", "x", "c", "a", "r", "received", "origin-id",
		"vCard", "FN", "délai", "名前", "q-1", "n.ame", "_under"}
	genSpaces = []string{stanza.NSClient, stanza.NSReceipts, stanza.NSSID, stanza.NSRoster, stanza.NSDelay,
		"urn:xmpp:carbons:2", "jabber:x:data", stanza.NSStream, "urn:example:ünïcode", "", "http://example.org/ns#frag"}
	genWords = []string{"chat", "result", "get", "set", "error", "unavailable", "subscribe", "both", "en", "true",
		"jabber:client", "example.com", "urn:xmpp:sid:0", "5", "10", "-1"}
	unicodeRunes = []rune("aé名😀ßΩж\u00a0\u2028\t\n\r &<>'\"]]>")
)

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// name returns an element or attribute local name.
func (g *gen) name() string {
	if g.r.IntN(3) > 0 {
		return g.pick(genNames)
	}
	n := 1 + g.r.IntN(12)
	var b strings.Builder
	for i := range n {
		switch c := g.r.IntN(40); {
		case c < 26:
			b.WriteByte(byte('a' + c))
		case c < 30:
			if i > 0 {
				b.WriteByte("-._9"[c-26])
			} else {
				b.WriteByte('z')
			}
		case c < 33:
			b.WriteRune([]rune("éж名")[c-30])
		default:
			b.WriteByte(byte('A' + c - 33))
		}
	}
	return b.String()
}

// value returns a string meant to hit every encoding form.
func (g *gen) value() string {
	switch g.r.IntN(16) {
	case 0:
		return ""
	case 1:
		return g.pick(genWords)
	case 2:
		return strconv.FormatUint(g.r.Uint64()>>g.r.IntN(64), 10)
	case 3:
		return fmt.Sprintf("%x", g.r.Uint64()>>g.r.IntN(64))
	case 4:
		return fmt.Sprintf("%X", g.r.Uint64())
	case 5:
		u := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", g.r.Uint32(), g.r.Uint32()&0xffff, g.r.Uint32()&0xffff, g.r.Uint32()&0xffff, g.r.Uint64()&0xffffffffffff)
		if g.r.IntN(2) == 0 {
			u = strings.ToUpper(u)
		}
		return u
	case 6:
		raw := make([]byte, g.r.IntN(40))
		for i := range raw {
			raw[i] = byte(g.r.Uint32())
		}
		return base64.StdEncoding.EncodeToString(raw)
	case 7, 8:
		return g.jid()
	case 9:
		return fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d.%03dZ", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000))
	case 10:
		return "+" + strconv.Itoa(g.r.IntN(1e9))
	case 11:
		if !g.xmlSafe {
			b := make([]byte, g.r.IntN(8))
			for i := range b {
				b[i] = byte(g.r.Uint32())
			}
			return string(b)
		}
		fallthrough
	default:
		n := g.r.IntN(30)
		if g.r.IntN(20) == 0 {
			n = 200 + g.r.IntN(300)
		}
		var b strings.Builder
		for range n {
			if g.r.IntN(4) == 0 {
				b.WriteRune(unicodeRunes[g.r.IntN(len(unicodeRunes))])
			} else {
				b.WriteByte(byte(' ' + g.r.IntN(95)))
			}
		}
		return b.String()
	}
}

func (g *gen) jid() string {
	parts := []string{"alice", "bob", "15551234567", "0d3f7a1e", "zoë", "user.name", "a@b", "x/y", "Ωmega", "phone-8f3a"}
	domains := []string{testDomain, "example.org", "conference.example.com", "[::1]", "ex-ample.com"}
	s := g.pick(domains)
	if g.r.IntN(3) > 0 {
		s = g.pick(parts[:6]) + "@" + s
	}
	if g.r.IntN(2) == 0 {
		s += "/" + g.pick(parts)
	}
	return s
}

func (g *gen) element(depth int) *stanza.Element {
	el := &stanza.Element{Space: g.pick(genSpaces), Name: g.name()}
	if depth == 0 {
		el.Space = stanza.NSClient
		el.Name = g.pick([]string{"message", "presence", "iq", g.name()})
	}
	na := g.r.IntN(6)
	if g.r.IntN(10) == 0 {
		na += 5 + g.r.IntN(10)
	}
	seen := map[[2]string]bool{}
	for range na {
		a := stanza.Attr{Name: g.name(), Value: g.value()}
		switch g.r.IntN(8) {
		case 0:
			a.Space, a.Name = stanza.NSXML, "lang"
		case 1:
			a.Space = g.pick([]string{"urn:q", "urn:xmpp:sid:0", "http://example.org/ünï"})
		}
		if g.xmlSafe && (seen[[2]string{a.Space, a.Name}] || a.Space == "" && a.Name == "xmlns") {
			continue
		}
		seen[[2]string{a.Space, a.Name}] = true
		el.Attrs = append(el.Attrs, a)
	}
	kids := 0
	if depth < 4 {
		kids = g.r.IntN(4)
		if g.r.IntN(15) == 0 {
			kids += 6 + g.r.IntN(6)
		}
	}
	for range kids {
		el.Children = append(el.Children, g.element(depth+1))
	}
	if g.r.IntN(3) == 0 {
		el.Text = g.value()
		if g.xmlSafe && kids > 0 && strings.TrimLeft(el.Text, " \t\r\n") == "" {
			el.Text = "" // the XML parser drops white space between children
		}
	}
	return el
}

// TestRoundTripRandom: random trees, encode -> decode -> equal.
func TestRoundTripRandom(t *testing.T) {
	enc := testEncoder(t)
	g := gen{r: rand.New(rand.NewPCG(1, 2))}
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		el := g.element(0)
		if got := roundTrip(t, enc, el); !stanza.Equal(got, el) {
			t.Fatalf("tree %d changed:\n in %v\nout %v", i, el, got)
		}
	}
}

// TestRoundTripXML: random XML-safe trees, written as XML, parsed by
// xmlstream, encoded, decoded, written as XML again: the same bytes.
func TestRoundTripXML(t *testing.T) {
	enc := testEncoder(t)
	g := gen{r: rand.New(rand.NewPCG(3, 4)), xmlSafe: true}
	n := 3000
	if testing.Short() {
		n = 300
	}
	lim := xmlstream.Limits{MaxStanzaBytes: 1 << 24, MaxDepth: 64, MaxAttrs: 1024}
	for i := range n {
		in := xmlstream.AppendElement(nil, g.element(0), stanza.NSClient)
		parsed, err := xmlstream.ParseElement(in, stanza.NSClient, lim)
		if err != nil {
			t.Fatalf("tree %d: the generator wrote XML the parser refuses: %v\n%s", i, err, in)
		}
		want := xmlstream.AppendElement(nil, parsed, stanza.NSClient)
		got := roundTrip(t, enc, parsed)
		if !stanza.Equal(got, parsed) {
			t.Fatalf("tree %d changed:\n in %v\nout %v", i, parsed, got)
		}
		if out := xmlstream.AppendElement(nil, got, stanza.NSClient); !bytes.Equal(out, want) {
			t.Fatalf("tree %d: XML differs:\n in %s\nout %s", i, want, out)
		}
	}
}

// TestRoundTripSplit: a stream of many stanzas fed in small pieces gives
// the same tokens as fed at once.
func TestRoundTripSplit(t *testing.T) {
	enc := testEncoder(t)
	g := gen{r: rand.New(rand.NewPCG(5, 6))}
	var els []*stanza.Element
	b := enc.AppendPreamble(nil)
	for range 200 {
		el := g.element(0)
		els = append(els, el)
		b = enc.AppendStanza(b, el)
		if g.r.IntN(5) == 0 {
			b = AppendKeepAlive(b)
		}
	}
	b = AppendStreamEnd(b)
	for _, chunks := range []uint64{0, 1, 0x0123456789abcdef, 0xfedcba9876543210} {
		res := decodeAll(t, b, chunks, DefaultLimits())
		if res.err != nil || len(res.toks) != len(els)+2 {
			t.Fatalf("chunks %x: %v, %d tokens", chunks, res.err, len(res.toks))
		}
		if res.toks[0].Kind != StreamStart || res.toks[len(res.toks)-1].Kind != StreamEnd {
			t.Fatalf("chunks %x: first %v last %v", chunks, res.toks[0].Kind, res.toks[len(res.toks)-1].Kind)
		}
		for i, el := range els {
			if !stanza.Equal(res.toks[i+1].Element, el) {
				t.Fatalf("chunks %x: stanza %d differs", chunks, i)
			}
		}
	}
}
