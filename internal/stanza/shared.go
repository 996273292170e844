package stanza

import (
	"sync"
	"sync/atomic"

	"github.com/parley-im/parley/internal/jid"
)

// Shared is what the copies of one element have in common when each copy
// is that element with one unqualified attribute added after its
// attributes and one child added after its children: a group post's
// member copies, each with its own to and stanza-id. A copy points to it
// (Element.Shared), and an encoder that sees it encodes the common part
// once for all the copies (Template) and adds each copy's own attribute
// and child, instead of encoding every copy in full.
//
// Of must not be modified once copies of it exist (the copies share its
// children). Fits checks a copy's shape before its template is used, so
// that a copy changed after it was made is encoded in full.
type Shared struct {
	Of *Element

	// post and own are a post's (NewPost): the element that travels in
	// place of the copies, and the copies' own child, before its last
	// attribute is the recipient.
	post, own *Element

	mu        sync.Mutex                    // serializes Template's builds
	templates atomic.Pointer[[]sharedEntry] // read without mu; replaced, never modified

	fromOnce sync.Once
	from     parsedFrom // Of's from, parsed by fromOnce
}

// parsedFrom is an element's from attribute, parsed.
type parsedFrom struct {
	jid jid.JID
	err error
}

type sharedEntry struct {
	key      any
	template any
}

// NewShared returns the Shared of copies of e.
func NewShared(e *Element) *Shared { return &Shared{Of: e} }

// Template returns the template kept under key (an encoder's own key
// type: one template per wire encoding), made by build the first time.
// Safe for concurrent use: the copies are encoded by many sessions.
func (s *Shared) Template(key any, build func(of *Element) any) any {
	if t, ok := s.lookup(key); ok {
		return t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.lookup(key); ok {
		return t
	}
	var entries []sharedEntry
	if p := s.templates.Load(); p != nil {
		entries = append(entries, *p...)
	}
	t := build(s.Of)
	entries = append(entries, sharedEntry{key: key, template: t})
	s.templates.Store(&entries)
	return t
}

func (s *Shared) lookup(key any) (any, bool) {
	if p := s.templates.Load(); p != nil {
		for _, e := range *p {
			if e.key == key {
				return e.template, true
			}
		}
	}
	return nil, false
}

// fromOf returns the parsed from of a fitting copy e: Of's, parsed once
// for all the copies (the route filters and the message hooks each read a
// copy's from: several parses per member of a group, per post), or of
// the post (NewPost) that travels in their place. ok is
// false when e does not fit, or when its own attribute is a from (which
// Of's, if any, precedes: e.Attr reads the first).
func (s *Shared) fromOf(e *Element) (p parsedFrom, ok bool) {
	if e != s.post && (!s.Fits(e) || e.Attrs[len(e.Attrs)-1].Name == "from") {
		return parsedFrom{}, false
	}
	s.fromOnce.Do(func() { s.from.jid, s.from.err = parseAddr(s.Of.Attr("from")) })
	return s.from, true
}

// Fits reports whether e is still a copy of Of as Shared describes: Of's
// name, text, attributes and children (the same child elements), then
// one more unqualified attribute and one more child.
func (s *Shared) Fits(e *Element) bool {
	o := s.Of
	na, nc := len(o.Attrs), len(o.Children)
	if e.Space != o.Space || e.Name != o.Name || e.Text != o.Text ||
		len(e.Attrs) != na+1 || len(e.Children) != nc+1 ||
		e.Attrs[na].Space != "" || e.Children[nc] == nil {
		return false
	}
	for i := range o.Attrs {
		if e.Attrs[i] != o.Attrs[i] {
			return false
		}
	}
	for i, c := range o.Children {
		if e.Children[i] != c {
			return false
		}
	}
	return true
}

// CopyParts returns a fitting copy's own attribute and child, or false
// when e does not point to a Shared it fits.
func CopyParts(e *Element) (s *Shared, attr Attr, child *Element, ok bool) {
	s = e.Shared
	if s == nil || !s.Fits(e) {
		return nil, Attr{}, nil, false
	}
	return s, e.Attrs[len(e.Attrs)-1], e.Children[len(e.Children)-1], true
}
