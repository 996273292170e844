package xmlstream

import (
	"slices"

	"github.com/parley-im/parley/internal/stanza"
)

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

// sharedKey keys a stanza.Shared's XML templates by the default namespace
// they are written in: only the two AppendElement is called with for
// stanzas (a client stream's, and none for a standalone element).
type sharedKey uint8

const (
	sharedInClientStream sharedKey = iota + 1
	sharedStandalone
)

// appendShared appends e from its Shared's template when e is a copy that
// fits one (stanza.Shared) written where parentNS is one of the two
// sharedKey cases; false when it does not.
func appendShared(dst []byte, e *stanza.Element, parentNS string) ([]byte, bool) {
	if e.Shared == nil || e.Space == stanza.NSStream {
		return dst, false
	}
	var key sharedKey
	switch parentNS {
	case stanza.NSClient:
		key = sharedInClientStream
	case "":
		key = sharedStandalone
	default:
		return dst, false
	}
	s, attr, child, ok := stanza.CopyParts(e)
	if !ok {
		return dst, false
	}
	t := s.Template(key, func(of *stanza.Element) any { return NewCopyTemplate(of, parentNS) }).(*CopyTemplate)
	if n := t.Size() + len(attr.Value); cap(dst)-len(dst) < n {
		dst = slices.Grow(dst, n)
	}
	return t.Append(dst, attr.Name, attr.Value, child), true
}
