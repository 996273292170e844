package xmlstream

import (
	"reflect"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestParkedStreamReadsOnLikeTheParser: a stream parked between stanzas
// and resumed reads the rest exactly as the parser would have: the
// inherited namespace, a prefix the header declared, the header's own
// prefix in the end tag, white space, a stanza split across feeds.
func TestParkedStreamReadsOnLikeTheParser(t *testing.T) {
	head := `<?xml version='1.0'?><s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams' ` +
		`xmlns:x='urn:example:x' to='localhost' version='1.0'><presence/>`
	rest := []string{" \r\n", `<message id='1'><body>hi</body><x:ext/></message>`, `<iq type='get' id='2'><query xmlns='jabber:iq:version'/`, `></iq>`, `<s:error/>`, `</s:stream>`}
	for _, pool := range []*ScratchPool{nil, NewScratchPool()} {
		want := tokens(t, NewPooledParser(Limits{}, pool), append([]string{head}, rest...))

		p := NewPooledParser(Limits{}, pool)
		got := tokens(t, p, []string{head})
		for _, in := range rest {
			ps, ok := p.Park()
			if !ok && p.AtKeepAlivePoint() {
				t.Fatal("Park refused a parser at a keep-alive point")
			}
			if ok {
				p = ps.Resume(Limits{}, pool)
			}
			got = append(got, tokens(t, p, []string{in})...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pool %v: parked and resumed between stanzas:\n got %v\nwant %v", pool != nil, got, want)
		}
		if len(want) != 6 {
			t.Errorf("pool %v: %d tokens, want 6: %v", pool != nil, len(want), want)
		}
	}
}

// TestParkRefusesMidStanza: a parser inside a stanza keeps its state.
func TestParkRefusesMidStanza(t *testing.T) {
	p := NewParser(Limits{})
	tokens(t, p, []string{testHeader, "<message><body>half"})
	if _, ok := p.Park(); ok {
		t.Fatal("parked a parser in the middle of a stanza")
	}
	got := tokens(t, p, []string{"</body></message>"})
	if len(got) != 1 || got[0] != "message jabber:client [body jabber:client text=half]" {
		t.Errorf("after a refused Park: %v", got)
	}
}

// tokens feeds each input and describes the tokens it yields.
func tokens(t *testing.T, p *Parser, ins []string) []string {
	t.Helper()
	var out []string
	for _, in := range ins {
		p.Feed([]byte(in))
		for {
			tok, err := p.Next()
			if err == ErrNeedMore {
				break
			}
			if err != nil {
				t.Fatalf("Next after %q: %v", in, err)
			}
			out = append(out, describe(tok))
		}
	}
	return out
}

func describe(tok Token) string {
	switch tok.Kind {
	case StreamStart:
		return "start " + tok.Header.To + " " + tok.Header.DefaultNS
	case StreamEnd:
		return "end"
	}
	return describeElement(tok.Element)
}

func describeElement(el *stanza.Element) string {
	s := el.Name + " " + el.Space
	if el.Text != "" {
		s += " text=" + el.Text
	}
	for _, k := range el.Children {
		s += " [" + describeElement(k) + "]"
	}
	return s
}
