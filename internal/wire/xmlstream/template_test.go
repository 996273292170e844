package xmlstream

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestCopyTemplateWritesWhatAppendElementWrites: for elements with
// namespaces, qualified attributes, text needing escapes and nested
// children, a template's copy is byte for byte the element with the
// attribute and child added, written by AppendElement.
func TestCopyTemplateWritesWhatAppendElementWrites(t *testing.T) {
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "a < b & 'c' \"d\" \x01 é"
	inner := stanza.NewElement("urn:x", "inner", "k", "v&<")
	inner.Text = "t"
	outer := stanza.NewElement("urn:y", "outer").AddChild(inner).AddChild(stanza.NewElement(stanza.NSStream, "error"))
	elems := []*stanza.Element{
		stanza.NewElement(stanza.NSClient, "message", "type", "groupchat", "from", "g@groups.x/a@x", "id", "1").
			AddChild(body).AddChild(stanza.NewElement("urn:parley:groups:0", "sender", "jid", "a@x")).
			AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", "s1", "by", "g@groups.x")),
		{Space: stanza.NSClient, Name: "message", Text: "mixed", Attrs: []stanza.Attr{
			{Space: stanza.NSXML, Name: "lang", Value: "en"}, {Space: "urn:q", Name: "q", Value: "1"}, {Space: "urn:q", Name: "r", Value: "2"}}},
		stanza.NewElement("urn:other", "message").AddChild(outer),
		stanza.NewElement(stanza.NSClient, "message"),
	}
	for _, parentNS := range []string{stanza.NSClient, ""} {
		for i, e := range elems {
			tmpl := NewCopyTemplate(e, parentNS)
			for _, to := range []string{"bob@x", "o'hara&co@x"} {
				sid := stanza.NewElement(stanza.NSSID, "stanza-id", "id", "s1", "by", to)
				c := &stanza.Element{Space: e.Space, Name: e.Name, Text: e.Text,
					Attrs:    append(append([]stanza.Attr(nil), e.Attrs...), stanza.Attr{Name: "to", Value: to}),
					Children: append(append([]*stanza.Element(nil), e.Children...), sid)}
				want := string(AppendElement(nil, c, parentNS))
				if got := string(tmpl.Append(nil, "to", to, sid)); got != want {
					t.Errorf("element %d, parent %q, to %q:\ngot  %s\nwant %s", i, parentNS, to, got, want)
				}
				if n := len(tmpl.Append(nil, "to", to, sid)); n > tmpl.Size() {
					t.Errorf("element %d: copy of %d bytes, Size %d", i, n, tmpl.Size())
				}
			}
		}
	}
}

// TestAppendElementWritesSharedCopiesFromATemplate: AppendElement writes a
// copy that points to its stanza.Shared (a group post's member copy) as
// it writes the same copy without it, from one template per default
// namespace made by the first copy; a copy changed after it was made is
// written in full.
func TestAppendElementWritesSharedCopiesFromATemplate(t *testing.T) {
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "a < b & 'c'"
	post := stanza.NewElement(stanza.NSClient, "message", "type", "groupchat", "from", "g@groups.x/a@x").
		AddChild(body).AddChild(stanza.NewElement("urn:parley:groups:0", "sender", "jid", "a@x"))
	shared := stanza.NewShared(post)
	copyFor := func(to string) *stanza.Element {
		return &stanza.Element{Space: post.Space, Name: post.Name, Shared: shared,
			Attrs:    append(append([]stanza.Attr(nil), post.Attrs...), stanza.Attr{Name: "to", Value: to}),
			Children: append(append([]*stanza.Element(nil), post.Children...), stanza.NewElement(stanza.NSSID, "stanza-id", "by", to))}
	}
	for _, parentNS := range []string{stanza.NSClient, ""} {
		for _, to := range []string{"bob@x", "o'hara&co@x"} {
			c := copyFor(to)
			got := string(AppendElement(nil, c, parentNS))
			c.Shared = nil
			if want := string(AppendElement(nil, c, parentNS)); got != want {
				t.Errorf("parent %q, to %q:\ngot  %s\nwant %s", parentNS, to, got, want)
			}
		}
	}
	for _, key := range []sharedKey{sharedInClientStream, sharedStandalone} {
		shared.Template(key, func(*stanza.Element) any {
			t.Fatalf("no template under %d: the copies were written in full", key)
			return nil
		})
	}
	changed := copyFor("carol@x")
	changed.Children[0] = stanza.NewElement(stanza.NSClient, "body")
	got := string(AppendElement(nil, changed, stanza.NSClient))
	changed.Shared = nil
	if want := string(AppendElement(nil, changed, stanza.NSClient)); got != want {
		t.Errorf("a changed copy:\ngot  %s\nwant %s", got, want)
	}
}
