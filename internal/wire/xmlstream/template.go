package xmlstream

import "github.com/parley-im/parley/internal/stanza"

// CopyTemplate encodes many copies of one element that differ only in an
// attribute added after its attributes and a child added after its
// children (a group post's copies: each member's to and stanza-id): the
// shared start tag and children are encoded once.
type CopyTemplate struct {
	head, body []byte // the start tag up to its added attribute; the text and children
	name       string
	ns         string // the default namespace inside the element
	bound      bool   // the stream prefix is declared (AppendElement's parentNS != "")
}

// NewCopyTemplate returns the template of e written where parentNS is the
// default namespace (as for AppendElement). e must not be in the streams
// namespace.
func NewCopyTemplate(e *stanza.Element, parentNS string) *CopyTemplate {
	t := &CopyTemplate{name: e.Name, ns: parentNS, bound: parentNS != ""}
	t.head = append(t.head, '<')
	t.head = append(t.head, e.Name...)
	if e.Space != parentNS {
		t.head = append(t.head, ` xmlns="`...)
		t.head = appendAttrValue(t.head, e.Space, '"')
		t.head = append(t.head, '"')
		t.ns = e.Space
	}
	for i := range e.Attrs {
		t.head = appendAttr(t.head, e.Attrs, i)
	}
	t.body = appendText(t.body, e.Text)
	for _, c := range e.Children {
		if c != nil {
			t.body = appendElement(t.body, c, t.ns, t.bound)
		}
	}
	return t
}

// Append appends the copy with the unqualified attribute name=value after
// the element's attributes and child after its children: the bytes
// AppendElement writes for such a copy.
func (t *CopyTemplate) Append(dst []byte, name, value string, child *stanza.Element) []byte {
	dst = append(dst, t.head...)
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, `="`...)
	dst = appendAttrValue(dst, value, '"')
	dst = append(dst, `">`...)
	dst = append(dst, t.body...)
	dst = appendElement(dst, child, t.ns, t.bound)
	dst = append(dst, "</"...)
	dst = append(dst, t.name...)
	return append(dst, '>')
}

// Size is a close upper bound of the length of a copy whose added
// attribute value and child are small, for sizing buffers.
func (t *CopyTemplate) Size() int { return len(t.head) + len(t.body) + len(t.name) + 160 }
