package binary

import (
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/stanza"
)

// sharedKey identifies the strings an encoder writes in short forms (the
// dictionary and the preamble strings): a template made by one encoder is
// right for every encoder with the same key.
type sharedKey struct{ strings string }

func newSharedKey(p Preamble) sharedKey {
	return sharedKey{strings: strconv.Itoa(p.Dictionary) + "\x00" + strings.Join(p.Strings, "\x00")}
}

// copyTemplate is the binary encoding of what the copies of one element
// (stanza.Shared) have in common.
type copyTemplate struct {
	head []byte // header byte, name, namespace, counts and Of's attributes
	body []byte // text and Of's children
	ns   string // the namespace the children inherit
}

// appendShared appends el's encoding from its Shared's template when el
// is a copy that fits one; false when it is not.
func (e *Encoder) appendShared(dst []byte, el *stanza.Element) ([]byte, bool) {
	if el.Shared == nil {
		return dst, false
	}
	s, attr, child, ok := stanza.CopyParts(el)
	if !ok {
		return dst, false
	}
	t := s.Template(e.shared, e.newCopyTemplate).(*copyTemplate)
	dst = append(dst, t.head...)
	dst = e.appendString(dst, attr.Name, true)
	dst = e.appendString(dst, attr.Value, true)
	dst = append(dst, t.body...)
	return e.appendElement(dst, child, t.ns), true
}

// newCopyTemplate encodes what the copies of of have in common: the
// element as a top-level stanza with one attribute and one child more,
// up to the copy's attribute and from its text to its last child.
func (e *Encoder) newCopyTemplate(of *stanza.Element) any {
	kids := 1 // the copy's own
	for _, c := range of.Children {
		if c != nil {
			kids++
		}
	}
	t := &copyTemplate{ns: of.Space}
	t.head = e.appendHead(t.head, of, len(of.Attrs)+1, kids, stanza.NSClient)
	if of.Text != "" {
		t.body = e.appendString(t.body, of.Text, true)
	}
	for _, c := range of.Children {
		if c != nil {
			t.body = e.appendElement(t.body, c, of.Space)
		}
	}
	return t
}
