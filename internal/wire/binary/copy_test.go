package binary

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// copyOf is the copy of shared.Of for to, as a group's fan-out makes it:
// its attributes and children, then a to and a stanza-id.
func copyOf(shared *stanza.Shared, to string) *stanza.Element {
	of := shared.Of
	return &stanza.Element{Space: of.Space, Name: of.Name, Text: of.Text, Shared: shared,
		Attrs:    append(append([]stanza.Attr(nil), of.Attrs...), stanza.Attr{Name: "to", Value: to}),
		Children: append(append([]*stanza.Element(nil), of.Children...), stanza.NewElement(stanza.NSSID, "stanza-id", "id", "s1", "by", to))}
}

// TestSharedCopiesAreEncodedFromOneTemplate: random elements (some with
// more than six attributes or children, whose counts take a uvarint, and
// text), each copied for several recipients: every copy is encoded
// byte for byte as the same copy without its Shared, from a template the
// first copy made and the encoders of other connections with the same
// preamble reuse; a copy changed after it was made is encoded in full.
func TestSharedCopiesAreEncodedFromOneTemplate(t *testing.T) {
	enc, other := testEncoder(t), testEncoder(t)
	g := gen{r: rand.New(rand.NewPCG(3, 4))}
	for i := range 500 {
		shared := stanza.NewShared(g.element(0))
		for j, to := range []string{"bob@example.com", "carol@example.com/phone", "x"} {
			e := enc
			if j == 2 {
				e = other
			}
			c := copyOf(shared, to)
			got := e.AppendStanza(nil, c)
			c.Shared = nil
			if want := e.AppendStanza(nil, c); !bytes.Equal(got, want) {
				t.Fatalf("element %d, copy for %s:\ngot  %x\nwant %x", i, to, got, want)
			}
		}
		shared.Template(enc.shared, func(*stanza.Element) any {
			t.Fatalf("element %d: the copies were not encoded from a template", i)
			return nil
		})
		changed := copyOf(shared, "dave@example.com").SetAttr("to", "erin@example.com")
		changed.Children[0] = stanza.NewElement(stanza.NSClient, "body")
		got := enc.AppendStanza(nil, changed)
		changed.Shared = nil
		if want := enc.AppendStanza(nil, changed); !bytes.Equal(got, want) {
			t.Fatalf("element %d, a changed copy:\ngot  %x\nwant %x", i, got, want)
		}
	}
}

// TestEncodingACopyAllocatesNothing: once its template exists, a copy is
// encoded into room the caller has with no allocation (a group's fan-out
// encodes one per member; looking the template up used to box the
// encoder's key each time).
func TestEncodingACopyAllocatesNothing(t *testing.T) {
	enc := testEncoder(t)
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "hello, group"
	shared := stanza.NewShared(stanza.NewElement(stanza.NSClient, "message", "type", "groupchat", "from", "g@groups.example.com/alice@example.com").AddChild(body))
	c := copyOf(shared, "bob@example.com")
	buf := enc.AppendStanza(nil, c)
	if n := testing.AllocsPerRun(100, func() { buf = enc.AppendStanza(buf[:0], c) }); n != 0 {
		t.Fatalf("encoding a copy allocated %.0f times, want 0", n)
	}
}
