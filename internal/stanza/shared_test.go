package stanza

import (
	"testing"

	"github.com/parley-im/parley/internal/jid"
)

// sharedCopy is a copy of of as a group's fan-out makes it: of's
// attributes and children plus its own to and stanza-id.
func sharedCopy(s *Shared, to string) *Element {
	of := s.Of
	c := &Element{Space: of.Space, Name: of.Name, Shared: s,
		Attrs:    append(append([]Attr(nil), of.Attrs...), Attr{Name: "to", Value: to}),
		Children: append(append([]*Element(nil), of.Children...), NewElement(NSSID, "stanza-id", "id", "x", "by", to))}
	return c
}

// A post's from is parsed once for all its copies: reading a copy's from
// (every route filter and message hook does, once per member of a group)
// allocates nothing, even for an address whose parsing does.
func TestCopiesOfASharedPostParseTheirFromOnce(t *testing.T) {
	const from = "G1@Groups.Example/Alice@Example"
	if n := testing.AllocsPerRun(10, func() { _, _ = jid.Parse(from) }); n == 0 {
		t.Fatalf("parsing %q allocates nothing: the test would not show the cache", from)
	}
	post := NewElement(NSClient, KindMessage, "from", from, "type", "groupchat")
	post.AddChild(NewElement(NSClient, "body"))
	s := NewShared(post)
	bob, carol := sharedCopy(s, "bob@example"), sharedCopy(s, "carol@example")
	want := jid.MustParse(from)
	for _, c := range []*Element{bob, carol} {
		if got, err := c.From(); err != nil || got != want {
			t.Fatalf("From() = %v, %v; want %v", got, err, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = carol.From() }); n != 0 {
		t.Fatalf("a copy's From() allocates %v times: parsed again for each copy", n)
	}
}

// A copy changed after it was made no longer shares its post's from.
func TestAChangedCopyParsesItsOwnFrom(t *testing.T) {
	post := NewElement(NSClient, KindMessage, "from", "g1@groups.example/alice@example", "type", "groupchat")
	s := NewShared(post)
	c := sharedCopy(s, "bob@example")
	if _, err := c.From(); err != nil {
		t.Fatal(err)
	}
	c.SetAttr("from", "g2@groups.example/dave@example")
	if got, _ := c.From(); got.String() != "g2@groups.example/dave@example" {
		t.Fatalf("From() of a changed copy = %v", got)
	}
	own := &Element{Space: post.Space, Name: post.Name, Shared: s,
		Attrs: append(append([]Attr(nil), post.Attrs...), Attr{Name: "from", Value: "x@example"}), Children: []*Element{NewElement(NSSID, "stanza-id")}}
	if got, _ := own.From(); got.String() != "g1@groups.example/alice@example" {
		t.Fatalf("From() of a copy whose own attribute is a second from = %v, want the first one's", got)
	}
}
