package stanza

import "strings"

// Element is one XML element: a namespace-qualified name, attributes, child
// elements and character data.
type Element struct {
	Space    string // namespace URI ("jabber:client" for stanzas)
	Name     string // local name
	Attrs    []Attr
	Children []*Element
	Text     string // character data, unescaped
	// Shared, when not nil, says that the element is a copy of another
	// made for one of many recipients (see Shared): encoders may then
	// encode the part common to all copies once. Copy does not keep it.
	Shared *Shared
}

// Attr is one attribute. Space is empty for unqualified attributes (the usual
// case) and NSXML for xml:lang.
type Attr struct {
	Space string
	Name  string
	Value string
}

// NewElement returns an element with the given namespace, name and attributes
// given as name/value pairs.
func NewElement(space, name string, attrs ...string) *Element {
	if len(attrs) < 2 {
		return &Element{Space: space, Name: name}
	}
	e := newPacked(len(attrs)/2, 0) // one allocation for up to two attributes
	e.Space, e.Name = space, name
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs = append(e.Attrs, Attr{Name: attrs[i], Value: attrs[i+1]})
	}
	return e
}

// Attr returns the value of the unqualified attribute name, or "".
func (e *Element) Attr(name string) string {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name && e.Attrs[i].Space == "" {
			return e.Attrs[i].Value
		}
	}
	return ""
}

// HasAttr reports whether the unqualified attribute name is present.
func (e *Element) HasAttr(name string) bool {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name && e.Attrs[i].Space == "" {
			return true
		}
	}
	return false
}

// SetAttr sets (or adds) the unqualified attribute name. An empty value
// removes the attribute.
func (e *Element) SetAttr(name, value string) *Element {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name && e.Attrs[i].Space == "" {
			if value == "" {
				e.Attrs = append(e.Attrs[:i], e.Attrs[i+1:]...)
			} else {
				e.Attrs[i].Value = value
			}
			return e
		}
	}
	if value != "" {
		e.Attrs = append(e.Attrs, Attr{Name: name, Value: value})
	}
	return e
}

// Lang returns the xml:lang attribute, or "".
func (e *Element) Lang() string {
	for i := range e.Attrs {
		if e.Attrs[i].Space == NSXML && e.Attrs[i].Name == "lang" {
			return e.Attrs[i].Value
		}
	}
	return ""
}

// Child returns the first child with the given namespace and name, or nil.
// An empty space matches any namespace.
func (e *Element) Child(space, name string) *Element {
	for _, c := range e.Children {
		if c.Name == name && (space == "" || c.Space == space) {
			return c
		}
	}
	return nil
}

// ChildNS returns the first child in namespace space whatever its name, or nil.
func (e *Element) ChildNS(space string) *Element {
	for _, c := range e.Children {
		if c.Space == space {
			return c
		}
	}
	return nil
}

// ChildText returns the text of the first matching child, or "".
func (e *Element) ChildText(space, name string) string {
	if c := e.Child(space, name); c != nil {
		return c.Text
	}
	return ""
}

// AddChild appends c and returns e, for chaining.
func (e *Element) AddChild(c *Element) *Element {
	e.Children = append(e.Children, c)
	return e
}

// RemoveChildren removes every child with the given namespace and name
// (empty name: every child in the namespace) and reports how many it removed.
func (e *Element) RemoveChildren(space, name string) int {
	kept := e.Children[:0]
	removed := 0
	for _, c := range e.Children {
		if c.Space == space && (name == "" || c.Name == name) {
			removed++
			continue
		}
		kept = append(kept, c)
	}
	for i := len(kept); i < len(e.Children); i++ {
		e.Children[i] = nil
	}
	e.Children = kept
	return removed
}

// Copy returns a deep copy of e.
func (e *Element) Copy() *Element { return e.CopyWithRoom(0) }

// CopyWithRoom is Copy with room for n more children on the copy (not on
// its descendants), so that adding them does not grow the slice.
func (e *Element) CopyWithRoom(n int) *Element {
	c := e.CopyTop(n)
	if c != nil {
		for i, ch := range c.Children {
			c.Children[i] = ch.Copy()
		}
	}
	return c
}

// CopyTop returns a copy of e with attributes and a list of children of
// its own, and room for n more children, sharing the children themselves:
// enough to change the attributes or the children list of a routed stanza
// (which is immutable, see the package documentation) without copying its
// whole tree. Like Copy, it does not keep Shared.
func (e *Element) CopyTop(n int) *Element {
	if e == nil {
		return nil
	}
	c := newPacked(len(e.Attrs), len(e.Children)+n) // one allocation for a small stanza
	c.Space, c.Name, c.Text = e.Space, e.Name, e.Text
	c.Attrs = append(c.Attrs, e.Attrs...)
	c.Children = append(c.Children, e.Children...)
	return c
}

// Equal reports whether a and b are the same tree (names, attributes in
// order, text, children).
func Equal(a, b *Element) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Space != b.Space || a.Name != b.Name || a.Text != b.Text ||
		len(a.Attrs) != len(b.Attrs) || len(a.Children) != len(b.Children) {
		return false
	}
	for i := range a.Attrs {
		if a.Attrs[i] != b.Attrs[i] {
			return false
		}
	}
	for i := range a.Children {
		if !Equal(a.Children[i], b.Children[i]) {
			return false
		}
	}
	return true
}

// String renders a compact, human-readable form for logs and test failures.
// It is not the wire encoding (see package wire/xmlstream).
func (e *Element) String() string {
	var b strings.Builder
	e.debugString(&b, "")
	return b.String()
}

func (e *Element) debugString(b *strings.Builder, parentSpace string) {
	b.WriteByte('<')
	b.WriteString(e.Name)
	if e.Space != parentSpace {
		b.WriteString(` xmlns="`)
		b.WriteString(e.Space)
		b.WriteByte('"')
	}
	for _, a := range e.Attrs {
		b.WriteByte(' ')
		if a.Space == NSXML {
			b.WriteString("xml:")
		}
		b.WriteString(a.Name)
		b.WriteString(`="`)
		b.WriteString(a.Value)
		b.WriteByte('"')
	}
	if len(e.Children) == 0 && e.Text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	b.WriteString(e.Text)
	for _, c := range e.Children {
		c.debugString(b, e.Space)
	}
	b.WriteString("</")
	b.WriteString(e.Name)
	b.WriteByte('>')
}
