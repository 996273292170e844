package stanza

// Small elements are allocated together with their attribute and child
// arrays: one allocation instead of up to three for the elements made on
// every routed message (a stanza's copy with its stanza-id, the stanza-id
// itself, an ack), for about the same bytes (each array alone is rounded
// up to its own size class).

// packedAttrs and packedChildren are the largest attribute and child
// lists that newPacked places in the element's own allocation.
const (
	packedAttrs    = 4
	packedChildren = 4
)

// packedElement is an Element with arrays for its first attributes and
// children: its Attrs and Children point into them until they outgrow
// them, when append copies as for any slice.
type packedElement struct {
	el       Element
	attrs    [packedAttrs]Attr
	children [packedChildren]*Element
}

// attrsOnly is an Element with room for two attributes (a stanza-id, an
// error's type and code): most elements made here have at most two.
type attrsOnly struct {
	el    Element
	attrs [2]Attr
}

// NewSized returns an empty element with room for nAttrs attributes and
// nChildren children, in one allocation when they are few (newPacked): a
// decoder building a small stanza.
func NewSized(nAttrs, nChildren int) *Element { return newPacked(nAttrs, nChildren) }

// newPacked returns an empty element whose Attrs and Children have room
// for nAttrs attributes and nChildren children, in one allocation when
// they fit the packed arrays. Attrs (Children) is nil when nAttrs
// (nChildren) is 0, as for an element built field by field.
func newPacked(nAttrs, nChildren int) *Element {
	switch {
	case nChildren == 0 && nAttrs <= 2:
		p := &attrsOnly{}
		if nAttrs > 0 {
			p.el.Attrs = p.attrs[:0:nAttrs]
		}
		return &p.el
	case nAttrs <= packedAttrs && nChildren <= packedChildren:
		p := &packedElement{}
		if nAttrs > 0 {
			p.el.Attrs = p.attrs[:0:nAttrs]
		}
		if nChildren > 0 {
			p.el.Children = p.children[:0:nChildren]
		}
		return &p.el
	}
	e := &Element{}
	if nAttrs > 0 {
		e.Attrs = make([]Attr, 0, nAttrs)
	}
	if nChildren > 0 {
		e.Children = make([]*Element, 0, nChildren)
	}
	return e
}
