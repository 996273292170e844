package binary

import (
	"bytes"
	"fmt"
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
		tmpl := shared.Template(enc.shared, func(*stanza.Element) any {
			t.Fatalf("element %d: the copies were not encoded from a template", i)
			return nil
		}).(*copyTemplate)
		if tmpl.own.Load() == nil {
			t.Fatalf("element %d: the copies' stanza-ids were not encoded from a template", i)
		}
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

// TestAChangedCopyDoesNotChangeItsOwnChildTemplate: the template of the
// copies' own child (their stanza-id) is made from the first copy; that
// copy's stanza-id changed afterwards changes neither the template nor
// how other copies are encoded, and a copy whose stanza-id differs from
// the others' in more than its by is encoded in full.
func TestAChangedCopyDoesNotChangeItsOwnChildTemplate(t *testing.T) {
	enc := testEncoder(t)
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "hello, group"
	shared := stanza.NewShared(stanza.NewElement(stanza.NSClient, "message", "type", "groupchat").AddChild(body))
	first := copyOf(shared, "bob@example.com")
	enc.AppendStanza(nil, first)
	first.Children[len(first.Children)-1].SetAttr("id", "changed")

	check := func(c *stanza.Element, what string) {
		t.Helper()
		got := enc.AppendStanza(nil, c)
		plain := *c
		plain.Shared = nil
		if want := enc.AppendStanza(nil, &plain); !bytes.Equal(got, want) {
			t.Fatalf("%s:\ngot  %x\nwant %x", what, got, want)
		}
	}
	check(copyOf(shared, "carol@example.com"), "another copy")
	check(first, "the changed copy")
	other := copyOf(shared, "dave@example.com")
	other.Children[len(other.Children)-1].SetAttr("id", "s2")
	check(other, "a copy with another stanza-id")
}

// BenchmarkEncodeGroupCopy: one member's copy of a group post (its to and
// stanza-id spliced into the post's template), as each member's session
// encodes it.
//
//	go test ./internal/wire/binary -run '^$' -bench EncodeGroupCopy -benchmem
func BenchmarkEncodeGroupCopy(b *testing.B) {
	enc := testEncoder(b)
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "a post of about the length of a chat message, sent to every member of the group"
	post := stanza.NewElement(stanza.NSClient, "message", "type", "groupchat", "id", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		"from", "3kq7d2@groups.localhost/bench0001@localhost").AddChild(body)
	shared := stanza.NewShared(post)
	copies := make([]*stanza.Element, 1024)
	for i := range copies {
		to := fmt.Sprintf("bench%04d@localhost", i)
		c := copyOf(shared, to)
		c.Children[len(c.Children)-1] = stanza.NewElement(stanza.NSSID, "stanza-id", "id", "1764689543000123-7", "by", to)
		copies[i] = c
	}
	buf := enc.AppendStanza(nil, copies[0])
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		buf = enc.AppendStanza(buf[:0], copies[i%len(copies)])
	}
}

// TestPostCopiesFilledInOneScratchEncodeAsMadeCopies: a session encodes
// its device's copy of each post from one scratch copy it fills again
// for each (stanza.CopyScratch): random posts, each filled for several
// recipients in turn, encode byte for byte as the copies stanza.For makes
// and as those copies without their Shared; the own-child template made
// from the first filled copy is not changed by the next fill.
func TestPostCopiesFilledInOneScratchEncodeAsMadeCopies(t *testing.T) {
	enc := testEncoder(t)
	g := gen{r: rand.New(rand.NewPCG(5, 6))}
	var scratch stanza.CopyScratch
	for i := range 300 {
		p := stanza.NewPost(g.element(0), stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint("s", i), "by", ""))
		for _, to := range []string{"bob@example.com", "carol@example.com", "x"} {
			got := enc.AppendStanza(nil, scratch.Fill(p, to))
			scratch.Clear()
			made := stanza.For(p, to)
			if want := enc.AppendStanza(nil, made); !bytes.Equal(got, want) {
				t.Fatalf("post %d for %s, filled:\n%x\nmade:\n%x", i, to, got, want)
			}
			made.Shared = nil
			if want := enc.AppendStanza(nil, made); !bytes.Equal(got, want) {
				t.Fatalf("post %d for %s, filled:\n%x\nencoded in full:\n%x", i, to, got, want)
			}
		}
	}
}
