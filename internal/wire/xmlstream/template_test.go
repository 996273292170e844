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
