package stanza

import (
	"fmt"
	"reflect"
	"testing"
	"unsafe"
)

// testPost is a group post as the fan-out reads it from its outbox.
func testPost() *Element {
	m := NewElement(NSClient, KindMessage, "from", "g1@groups.example/alice@example", "type", "groupchat", "id", "p1")
	body := NewElement(NSClient, "body")
	body.Text = "hello"
	return m.AddChild(body).AddChild(NewElement(NSSID, "stanza-id", "id", "gid", "by", "g1@groups.example"))
}

// wantCopy is recipient to's copy of of, made the plain way.
func wantCopy(of *Element, to string) *Element {
	c := of.Copy()
	c.SetAttr("to", to)
	return c.AddChild(NewElement(NSSID, "stanza-id", "id", "gid", "by", to))
}

// stripShared is e without its Shared, for comparing with a plain copy.
func stripShared(e *Element) *Element {
	c := *e
	c.Shared = nil
	return &c
}

// For and CopyScratch.Fill make the same copy of a post: the post's
// attributes and children with the recipient's to and own stanza-id
// after them, pointing to the post's Shared (its encoders' templates
// fit it). For leaves anything that is not a post as it is.
func TestAPostsCopyForARecipient(t *testing.T) {
	of := testPost()
	p := NewPost(of, NewElement(NSSID, "stanza-id", "id", "gid", "by", ""))
	if !IsPost(p) || IsPost(of) {
		t.Fatalf("IsPost(post) = %v, IsPost(its element) = %v", IsPost(p), IsPost(of))
	}
	if For(of, "bob@example") != of {
		t.Fatal("For changed an element that is not a post")
	}
	var scratch CopyScratch
	for _, to := range []string{"bob@example", "carol@example", "bob@example"} {
		want := wantCopy(of, to)
		for name, c := range map[string]*Element{"For": For(p, to), "Fill": scratch.Fill(p, to)} {
			if !reflect.DeepEqual(stripShared(c), want) {
				t.Fatalf("%s(%s) = %v, want %v", name, to, c, want)
			}
			if c.Shared != p.Shared || !p.Shared.Fits(c) || IsPost(c) {
				t.Fatalf("%s(%s) does not fit its post's Shared", name, to)
			}
		}
	}
	if !reflect.DeepEqual(of, testPost()) {
		t.Fatalf("making copies changed the post's element: %v", of)
	}
}

// A copy made by For is one allocation besides its children's slice
// (five with many attributes: a rare post), and appending to one copy never writes
// into another's children. Fill allocates nothing once its slices grew.
func TestAPostsCopiesAllocateLittle(t *testing.T) {
	if size := unsafe.Sizeof(copyBlock{}); size > 512 {
		t.Fatalf("copyBlock is %d bytes, over the 512-byte size class", size)
	}
	usual, large := testPost(), testPost()
	for i := range 8 {
		large.SetAttr(fmt.Sprint("x", i), "y")
	}
	for _, c := range []struct {
		of     *Element
		allocs float64
	}{{usual, 2}, {large, 5}} {
		p := NewPost(c.of, NewElement(NSSID, "stanza-id", "id", "gid", "by", ""))
		bob, carol := For(p, "bob@example"), For(p, "carol@example")
		bob.AddChild(NewElement("urn:x", "extra"))
		if own := carol.Children[len(carol.Children)-1]; len(carol.Children) != len(c.of.Children)+1 || own.Attr("by") != "carol@example" {
			t.Fatalf("carol's copy changed when a child was added to bob's: %v", carol)
		}
		if n := testing.AllocsPerRun(100, func() { For(p, "bob@example") }); n > c.allocs {
			t.Fatalf("a copy of a post with %d attributes: %v allocations, want %v", len(c.of.Attrs), n, c.allocs)
		}
		var scratch CopyScratch
		scratch.Fill(p, "bob@example")
		if n := testing.AllocsPerRun(100, func() { scratch.Fill(p, "carol@example") }); n != 0 {
			t.Fatalf("Fill allocates %v times once grown", n)
		}
	}
}

// A post's from is its element's, parsed once for it and its copies.
func TestAPostParsesItsFromOnce(t *testing.T) {
	p := NewPost(testPost(), NewElement(NSSID, "stanza-id", "id", "gid", "by", ""))
	if got, err := p.From(); err != nil || got.String() != "g1@groups.example/alice@example" {
		t.Fatalf("a post's From() = %v, %v", got, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = p.From() }); n != 0 {
		t.Fatalf("a post's From() allocates %v times", n)
	}
}

// A post whose element has a to gives each copy one to, its recipient's.
func TestAPostsCopiesHaveOneToTheirRecipients(t *testing.T) {
	of := testPost().SetAttr("to", "g1@groups.example")
	p := NewPost(of, NewElement(NSSID, "stanza-id", "id", "gid", "by", ""))
	var scratch CopyScratch
	for _, c := range []*Element{For(p, "bob@example"), scratch.Fill(p, "bob@example")} {
		n := 0
		for _, a := range c.Attrs {
			if a.Name == "to" {
				n++
			}
		}
		if n != 1 || c.Attr("to") != "bob@example" || !p.Shared.Fits(c) {
			t.Fatalf("copy %v: %d to attributes, want one, bob's", c, n)
		}
	}
	if of.Attr("to") != "g1@groups.example" {
		t.Fatal("NewPost changed its element's to")
	}
}

// A cleared scratch keeps nothing of its posts, a larger one filled
// before the last included: a session keeps its scratch between writes.
func TestAClearedScratchKeepsNothingOfItsPost(t *testing.T) {
	large := testPost()
	for i := range 8 {
		large.SetAttr(fmt.Sprint("x", i), "y")
		large.AddChild(NewElement("urn:x", "c"))
	}
	var scratch CopyScratch
	scratch.Fill(NewPost(large, NewElement(NSSID, "stanza-id", "id", "gid", "by", "")), "bob@example")
	scratch.Fill(NewPost(testPost(), NewElement(NSSID, "stanza-id", "id", "gid", "by", "")), "bob@example")
	scratch.Clear()
	if !reflect.DeepEqual(scratch.msg, Element{}) || !reflect.DeepEqual(scratch.own, Element{}) {
		t.Fatalf("cleared scratch still holds %v, %v", scratch.msg, scratch.own)
	}
	for _, s := range [][]Attr{scratch.attrs, scratch.ownAttrs} {
		for _, a := range s[:cap(s)] {
			if a != (Attr{}) {
				t.Fatalf("cleared scratch still holds attribute %v", a)
			}
		}
	}
	for _, c := range scratch.children[:cap(scratch.children)] {
		if c != nil {
			t.Fatalf("cleared scratch still holds child %v", c)
		}
	}
}
