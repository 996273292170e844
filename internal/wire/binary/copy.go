package binary

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

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
	// own is the encoding of the copies' own children, made from the
	// first copy whose child has a shape one can be made for
	// (newOwnTemplate).
	own atomic.Pointer[ownTemplate]
}

// ownTemplate encodes the copies' own child when it is the same in every
// copy but for one attribute, whose value is the copy's own attribute's
// (a group copy's stanza-id: its id is the post's, its by the member's,
// who is also the copy's to). A copy then encodes its member's address
// once, not twice, and none of the child's names.
type ownTemplate struct {
	attrName string          // the copy's own attribute's name
	nameEnc  []byte          // its encoding
	child    *stanza.Element // the first copy's child's names and attributes
	at       int             // the child's attribute whose value is the copy's own
	before   []byte          // the child's encoding up to that value
	after    []byte          // and after it
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
	own := t.own.Load()
	if own == nil {
		if own = e.newOwnTemplate(attr, child, t.ns); own != nil {
			t.own.CompareAndSwap(nil, own)
		}
	}
	if own == nil || !own.fits(attr, child) {
		dst = e.appendString(dst, attr.Name, true)
		dst = e.appendString(dst, attr.Value, true)
		dst = append(dst, t.body...)
		return e.appendElement(dst, child, t.ns), true
	}
	dst = append(dst, own.nameEnc...)
	start := len(dst)
	dst = e.appendString(dst, attr.Value, true)
	value := len(dst)
	dst = append(dst, t.body...)
	dst = append(dst, own.before...)
	dst = append(dst, dst[start:value]...)
	return append(dst, own.after...), true
}

// newOwnTemplate makes the template of copies whose own attribute is attr
// and own child like child, or nil when child's shape does not allow one:
// it must have no text and no children, and one attribute (in no
// namespace) whose value is attr's.
func (e *Encoder) newOwnTemplate(attr stanza.Attr, child *stanza.Element, ns string) *ownTemplate {
	if child.Text != "" || len(child.Children) != 0 {
		return nil
	}
	at := -1
	for i, a := range child.Attrs {
		if a.Space == "" && a.Value == attr.Value {
			at = i
			break
		}
	}
	if at < 0 {
		return nil
	}
	// The child's encoding with the value at at left out: its head up
	// to that attribute's value, then the attributes after it.
	head := *child
	head.Attrs = child.Attrs[:at]
	before := e.appendHead(nil, &head, len(child.Attrs), 0, ns)
	before = e.appendString(before, child.Attrs[at].Name, true)
	var after []byte
	for _, a := range child.Attrs[at+1:] {
		after = e.appendAttr(after, a)
	}
	// The template keeps its own copy of the child's names and attributes:
	// a copy changed after it was encoded must not change the template.
	own := &stanza.Element{Space: child.Space, Name: child.Name, Attrs: slices.Clone(child.Attrs)}
	return &ownTemplate{attrName: attr.Name, nameEnc: e.appendString(nil, attr.Name, true),
		child: own, at: at, before: before, after: after}
}

// fits tells whether a copy with own attribute attr and own child child
// is encoded by o: the same attribute name, and a child equal to o's but
// for attribute at, whose value is attr's.
func (o *ownTemplate) fits(attr stanza.Attr, child *stanza.Element) bool {
	t := o.child
	if attr.Name != o.attrName || child.Space != t.Space || child.Name != t.Name || child.Text != "" ||
		len(child.Children) != 0 || len(child.Attrs) != len(t.Attrs) {
		return false
	}
	for i, a := range child.Attrs {
		want := t.Attrs[i]
		if i == o.at {
			want.Value = attr.Value
		}
		if a != want {
			return false
		}
	}
	return true
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
