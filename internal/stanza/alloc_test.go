package stanza

import "testing"

// A routed message's stamp makes a copy of the message with room for one
// more child and a stanza-id element with two attributes: one allocation
// each (three and two before).
func TestSmallElementsAreOneAllocation(t *testing.T) {
	m := NewElement(NSClient, KindMessage, "to", "bob@localhost", "from", "alice@localhost/phone", "type", "chat", "id", "m1")
	m.AddChild(&Element{Space: NSClient, Name: "body", Text: "hello"})
	var c, sid *Element
	if n := testing.AllocsPerRun(100, func() { c = m.CopyTop(1) }); n != 1 {
		t.Errorf("CopyTop(1) of a message with 4 attributes and 1 child: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { sid = NewElement(NSSID, "stanza-id", "id", "x", "by", "bob@localhost") }); n != 1 {
		t.Errorf("NewElement with 2 attributes: %v allocations, want 1", n)
	}
	c.AddChild(sid)
	if len(m.Children) != 1 || len(c.Children) != 2 || !Equal(c.Children[0], m.Children[0]) {
		t.Fatalf("the copy's children %v, the original's %v", c.Children, m.Children)
	}
	c.SetAttr("from", "carol@localhost/pc")
	if m.Attr("from") != "alice@localhost/phone" || c.Attr("from") != "carol@localhost/pc" || c.Attr("id") != "m1" {
		t.Fatalf("the copy's attributes are not its own: original %v, copy %v", m.Attrs, c.Attrs)
	}
	if sid.Attr("id") != "x" || sid.Attr("by") != "bob@localhost" || sid.Children != nil {
		t.Fatalf("stanza-id built as %+v", sid)
	}
}

// An element that outgrows its packed arrays copies them on append, as
// any capped slice: the elements packed with it keep theirs.
func TestPackedElementGrowsLikeASlice(t *testing.T) {
	m := NewElement(NSClient, KindMessage, "to", "a@x", "id", "1")
	c := m.CopyTop(0)
	for i := range 10 {
		c.SetAttr(string(rune('a'+i)), "v")
		c.AddChild(NewElement(NSClient, "x"))
	}
	if len(c.Attrs) != 12 || len(c.Children) != 10 || len(m.Attrs) != 2 || m.Children != nil {
		t.Fatalf("copy %d attributes %d children; original %d attributes %v children", len(c.Attrs), len(c.Children), len(m.Attrs), m.Children)
	}
	if e := m.CopyTop(0); e.Children != nil {
		t.Fatalf("CopyTop(0) of an element without children: Children %v, want nil", e.Children)
	}
}
