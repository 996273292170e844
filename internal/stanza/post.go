package stanza

import "slices"

// A post is an element that travels in place of its copies for many
// recipients (a group post's, one per member) until one is needed whole.
// Recipient r's copy is the post with the attribute to=r after its
// attributes and, after its children, a copy of the post's own child
// whose last attribute's value is r (a group copy's stanza-id by the
// member). The router's record of a member's log positions and a
// session's unacknowledged list hold the post, not a copy; a session
// encodes the copy in a scratch element it reuses (CopyScratch); a copy
// is made (For) only where one is kept or written to a store: a queue, a
// resumption record. A wave to 1,024 members made 1,024 copies of 500
// bytes each, which their devices then held until they acknowledged them.
//
// A post's copies point to its Shared, as copies made one by one do, so
// that encoders encode the common part once (Template).

// NewPost returns the post of of whose recipients' copies add own's copy
// (own must have an attribute, the last of which gets the recipient). of
// and own must not be modified afterwards. A to of of's is left out of
// the copies (each gets its recipient's).
func NewPost(of, own *Element) *Element {
	if of.Attr("to") != "" {
		c := *of
		c.Attrs = slices.DeleteFunc(slices.Clone(of.Attrs), func(a Attr) bool { return a.Space == "" && a.Name == "to" })
		of = &c
	}
	s := &Shared{Of: of, own: own}
	s.post = &Element{Space: of.Space, Name: of.Name, Attrs: of.Attrs, Children: of.Children, Text: of.Text, Shared: s}
	return s.post
}

// IsPost reports whether e is a post (NewPost), not a stanza to send as
// it is.
func IsPost(e *Element) bool { return e.Shared != nil && e.Shared.post == e }

// For returns recipient to's copy of e when e is a post, and e itself
// otherwise. The copy shares the post's children and is made, with its
// attributes and own child, in one allocation when the post has few
// attributes (copyBlock).
func For(e *Element, to string) *Element {
	if !IsPost(e) {
		return e
	}
	s := e.Shared
	of := s.Of
	var c, own *Element
	var ownAttrs []Attr
	if len(of.Attrs) < blockAttrs && len(s.own.Attrs) <= ownBlockAttrs {
		b := &copyBlock{}
		c, own = &b.msg, &b.own
		c.Attrs = append(b.attrs[:0], of.Attrs...)
		ownAttrs = append(b.ownAttrs[:0], s.own.Attrs...)
	} else { // a post with many attributes: they get their own slices
		c, own = &Element{}, &Element{}
		c.Attrs = append(make([]Attr, 0, len(of.Attrs)+1), of.Attrs...)
		ownAttrs = append([]Attr(nil), s.own.Attrs...)
	}
	fillCopy(c, own, ownAttrs, s, to)
	c.Children = append(make([]*Element, 0, len(of.Children)+1), of.Children...)
	c.Children = append(c.Children, own)
	return c
}

// fillCopy sets c's and own's fields but c's children: c gets s.Of's
// names and text, to after the attributes already in c.Attrs, and own
// the post's own child with ownAttrs (a copy of its attributes) whose
// last value is to.
func fillCopy(c, own *Element, ownAttrs []Attr, s *Shared, to string) {
	c.Space, c.Name, c.Text, c.Shared = s.Of.Space, s.Of.Name, s.Of.Text, s
	c.Attrs = append(c.Attrs, Attr{Name: "to", Value: to})
	ownAttrs[len(ownAttrs)-1].Value = to
	*own = Element{Space: s.own.Space, Name: s.own.Name, Attrs: ownAttrs, Text: s.own.Text, Children: s.own.Children}
}

// copyBlock is a copy with its own child and room for the attributes of
// a usual post (from, type, id) plus to, and a stanza-id's two: 496
// bytes, in the 512-byte size class, up to which the collector scans an
// object by its span, without a header.
type copyBlock struct {
	msg      Element
	own      Element
	attrs    [blockAttrs]Attr
	ownAttrs [ownBlockAttrs]Attr
}

const (
	blockAttrs    = 4 // a copyBlock's room for the copy's attributes, to included
	ownBlockAttrs = 2 // and for its own child's
)

// CopyScratch holds a copy of a post for one recipient, made again for
// each (Fill) in the same memory: a session writes its device's copies
// of the posts it is handed without keeping any.
type CopyScratch struct {
	msg, own Element
	attrs    []Attr
	ownAttrs []Attr
	children []*Element
}

// Fill makes recipient to's copy of post p in c and returns it, valid
// until the next Fill or Clear: it must not be kept (encode it, then let
// it go, and Clear c).
func (c *CopyScratch) Fill(p *Element, to string) *Element {
	s := p.Shared
	c.msg.Attrs = append(c.attrs[:0], s.Of.Attrs...)
	c.ownAttrs = append(c.ownAttrs[:0], s.own.Attrs...)
	fillCopy(&c.msg, &c.own, c.ownAttrs, s, to)
	c.attrs = c.msg.Attrs
	c.children = append(append(c.children[:0], s.Of.Children...), &c.own)
	c.msg.Children = c.children
	return &c.msg
}

// Clear drops what c's copy points to (the post's strings, children and
// Shared, with its encoders' templates), keeping c's slices' room: a
// scratch kept between writes must not keep its last post alive.
func (c *CopyScratch) Clear() {
	clear(c.attrs[:cap(c.attrs)]) // a larger post's may lie past the last's
	clear(c.ownAttrs[:cap(c.ownAttrs)])
	clear(c.children[:cap(c.children)])
	c.msg, c.own = Element{}, Element{}
}
