package xmlstream

import (
	"sync"
	"unicode/utf8"

	"github.com/parley-im/parley/internal/stanza"
)

// sref is a string the parser has read, without allocating it: n >= 0 is
// scratch.str[off:off+n], n == refInterned is internList[off], n == refOwned
// is Parser.owned[off] (strings that live as long as the stream).
type sref struct{ off, n int32 }

const (
	refInterned = -1
	refOwned    = -2
)

func internedRef(i int32) sref { return sref{i, refInterned} }
func ownedRef(i int32) sref    { return sref{i, refOwned} }

// node is an element of the stanza being read. Nodes are kept in document
// order; node 0 is the stanza.
type node struct {
	prefix, local sref // the name as written
	space         sref // resolved namespace
	def           sref // default namespace in scope for the content
	parent        int32
	attrStart     int32 // resolved attributes: scratch.attrs[attrStart:attrStart+attrN]
	attrN         int32
	bindBase      int32 // len(scratch.binds) before this element's declarations
	nKids         int32
	kidPos        int32 // while finishing: next free child slot
	textOff       int32 // current piece of text: scratch.str[textOff:textOff+textLen]
	textLen       int32
	spans         int32 // 1 + index of the first earlier text piece, 0 if none
	lastSpan      int32
	nonWS         bool // the text has a non-white-space character
}

// rawAttr is an attribute as written in the current start tag.
type rawAttr struct {
	prefix, local, value sref
	decl                 bool // a namespace declaration
}

// attr is a resolved attribute.
type attr struct{ space, local, value sref }

// binding is a namespace prefix declaration in scope.
type binding struct{ prefix, uri sref }

// span is an earlier piece of an element's text, when child elements split
// it: text is only contiguous in scratch.str between child elements.
type span struct{ off, n, next int32 }

// scratch is the working memory for one top-level unit. It is reused from
// stanza to stanza while input keeps coming and dropped when the parser goes
// idle. The arrays give the first few of each without further allocation.
type scratch struct {
	nodes []node
	stack []int32 // open elements
	raw   []rawAttr
	attrs []attr
	binds []binding
	spans []span
	str   []byte // every string of the stanza, back to back
	name  []byte // a name split across Feed calls, or the XML declaration

	nodeArr  [6]node
	stackArr [8]int32
	rawArr   [8]rawAttr
	attrArr  [8]attr
	bindArr  [4]binding
	strArr   [320]byte
	nameArr  [56]byte // room for the XML declaration, which is read byte by byte (56: the scratch stays in the 1,536-byte size class)
}

func newScratch() *scratch {
	s := new(scratch)
	s.nodes = s.nodeArr[:0]
	s.stack = s.stackArr[:0]
	s.raw = s.rawArr[:0]
	s.attrs = s.attrArr[:0]
	s.binds = s.bindArr[:0]
	s.str = s.strArr[:0]
	s.name = s.nameArr[:0]
	return s
}

// ScratchPool lends parsers their per-stanza working memory, and parked
// streams their Parser (one pool per server, no package state; safe for
// concurrent use). The zero value is not usable: NewScratchPool.
type ScratchPool struct{ p, parsers, inputs sync.Pool }

// NewScratchPool returns an empty pool.
func NewScratchPool() *ScratchPool {
	return &ScratchPool{
		p:       sync.Pool{New: func() any { return newScratch() }},
		parsers: sync.Pool{New: func() any { return new(Parser) }},
		inputs:  sync.Pool{New: func() any { b := make([]byte, 0, inputBuffer); return &b }},
	}
}

// inputBuffer is the size of a pooled parser's input buffer: what one
// read of a connection brings (c2s reads 4 KiB at a time).
const inputBuffer = 4 << 10

// maxPooledInput bounds the input buffers given back to the pool (a
// stanza split over many reads grows its parser's).
const maxPooledInput = 16 << 10

// getInput returns the holder of an empty input buffer. A parser that
// read all its input drops the buffer (an idle connection holds none), so
// without the pool every burst a connection receives allocated a new one.
func (sp *ScratchPool) getInput() *[]byte { return sp.inputs.Get().(*[]byte) }

// putInput takes back holder with b, the buffer it lent grown or not,
// once nothing refers to b any more.
func (sp *ScratchPool) putInput(holder *[]byte, b []byte) {
	if cap(b) <= maxPooledInput {
		*holder = b[:0]
		sp.inputs.Put(holder)
	}
}

// getParser returns a Parser to be filled in.
func (sp *ScratchPool) getParser() *Parser {
	if sp == nil {
		return new(Parser)
	}
	return sp.parsers.Get().(*Parser)
}

// putParser takes back a zeroed Parser.
func (sp *ScratchPool) putParser(p *Parser) {
	if sp != nil {
		sp.parsers.Put(p)
	}
}

// get returns working memory from the pool, or new memory when the pool
// is nil.
func (sp *ScratchPool) get() *scratch {
	if sp == nil {
		return newScratch()
	}
	s := sp.p.Get().(*scratch)
	s.reset()
	return s
}

// put gives s back, its buffers trimmed to the arrays it starts with: a
// pooled scratch is never more than its 1.5 KB, whatever stanza grew it.
func (sp *ScratchPool) put(s *scratch) {
	s.reset()
	s.nodes, s.stack, s.raw = s.nodeArr[:0], s.stackArr[:0], s.rawArr[:0]
	s.attrs, s.binds, s.spans = s.attrArr[:0], s.bindArr[:0], nil
	s.str, s.name = s.strArr[:0], s.nameArr[:0]
	sp.p.Put(s)
}

// maxKeep bounds the buffers kept between stanzas.
const maxKeep = 64 << 10

func (s *scratch) reset() {
	s.nodes, s.stack, s.raw = s.nodes[:0], s.stack[:0], s.raw[:0]
	s.attrs, s.binds, s.spans = s.attrs[:0], s.binds[:0], s.spans[:0]
	s.str, s.name = s.str[:0], s.name[:0]
	if cap(s.str) > maxKeep {
		s.str = s.strArr[:0]
	}
	if cap(s.nodes) > maxKeep/64 {
		s.nodes = s.nodeArr[:0]
	}
}

// ref stores b as a string of the stanza, shared when it is a common one.
func (p *Parser) ref(b []byte) sref {
	if i := intern(b); i >= 0 {
		return internedRef(int32(i))
	}
	s := p.s
	off := len(s.str)
	s.str = append(s.str, b...)
	return sref{int32(off), int32(len(b))}
}

// bytesOf returns the bytes of a scratch ref.
func (p *Parser) bytesOf(r sref) []byte { return p.s.str[r.off : r.off+r.n] }

// strOf returns the string r refers to; it allocates for scratch refs, so it
// is for error messages and the stream header.
func (p *Parser) strOf(r sref) string {
	switch r.n {
	case refInterned:
		return internList[r.off]
	case refOwned:
		return p.owned[r.off]
	}
	return string(p.bytesOf(r))
}

// lenOf returns the length of the string r refers to.
func (p *Parser) lenOf(r sref) int {
	switch r.n {
	case refInterned:
		return len(internList[r.off])
	case refOwned:
		return len(p.owned[r.off])
	}
	return int(r.n)
}

// eqs reports whether r is the string s.
func (p *Parser) eqs(r sref, s string) bool {
	switch r.n {
	case refInterned:
		return internList[r.off] == s
	case refOwned:
		return p.owned[r.off] == s
	}
	return string(p.bytesOf(r)) == s
}

// eqb reports whether r is the string b.
func (p *Parser) eqb(r sref, b []byte) bool {
	switch r.n {
	case refInterned:
		return internList[r.off] == string(b)
	case refOwned:
		return p.owned[r.off] == string(b)
	}
	return string(p.bytesOf(r)) == string(b)
}

// eq reports whether two refs are the same string.
func (p *Parser) eq(a, b sref) bool {
	if a == b {
		return true
	}
	if a.n >= 0 {
		return p.eqb(b, p.bytesOf(a))
	}
	if b.n >= 0 {
		return p.eqb(a, p.bytesOf(b))
	}
	return p.strOf(a) == p.strOf(b)
}

// splitQName splits a QName at its colon.
func splitQName(name []byte) (prefix, local []byte, err error) {
	colon := -1
	for i, c := range name {
		if c == ':' {
			if colon >= 0 {
				return nil, nil, notWellFormed("more than one ':' in a name")
			}
			colon = i
		}
	}
	if colon < 0 {
		return nil, name, nil
	}
	if colon == 0 || colon == len(name)-1 || !nameStart(name[colon+1:]) {
		return nil, nil, notWellFormed("bad qualified name")
	}
	return name[:colon], name[colon+1:], nil
}

// nameStart reports whether the (already scanned) name b starts with a
// NameStartChar.
func nameStart(b []byte) bool {
	if b[0] < utf8.RuneSelf {
		return charClass[b[0]]&cNameStart != 0
	}
	r, _ := utf8.DecodeRune(b)
	return isNameRune(r, true)
}

// openElement starts an element (or the stream header) named name.
func (p *Parser) openElement(name []byte) error {
	prefix, local, err := splitQName(name)
	if err != nil {
		return err
	}
	s := p.s
	n := node{parent: -1, def: ownedRef(0)}
	if p.mode == modeStream && !p.started {
		p.inHeader = true
		n.def = sref{}
	} else {
		if p.depth >= p.lim.MaxDepth {
			return stanza.NewStreamError(stanza.StreamPolicyViolation, "elements nested too deep")
		}
		p.started = true
		if len(s.stack) > 0 {
			n.parent = s.stack[len(s.stack)-1]
			par := &s.nodes[n.parent]
			n.def = par.def
			par.nKids++
		}
		p.depth++
		s.stack = append(s.stack, int32(len(s.nodes)))
	}
	if len(prefix) > 0 {
		n.prefix = p.ref(prefix)
	}
	n.local = p.ref(local)
	s.nodes = append(s.nodes, n)
	s.raw = s.raw[:0]
	return nil
}

// addAttr starts an attribute named name in the current start tag.
func (p *Parser) addAttr(name []byte) error {
	s := p.s
	if len(s.raw) >= p.lim.MaxAttrs {
		return stanza.NewStreamError(stanza.StreamPolicyViolation, "too many attributes")
	}
	prefix, local, err := splitQName(name)
	if err != nil {
		return err
	}
	var a rawAttr
	if len(prefix) > 0 {
		a.prefix = p.ref(prefix)
	}
	a.local = p.ref(local)
	s.raw = append(s.raw, a)
	return nil
}

// startValue and endValue bracket an attribute value written to scratch.str.
func (p *Parser) startValue() {
	s := p.s
	s.raw[len(s.raw)-1].value.off = int32(len(s.str))
}

func (p *Parser) endValue() error {
	s := p.s
	a := &s.raw[len(s.raw)-1]
	a.value.n = int32(len(s.str)) - a.value.off
	if a.prefix.n == 0 && p.eqs(a.local, "xmlns") || p.eqs(a.prefix, "xmlns") {
		// Namespace names are often common ones: share them.
		if i := intern(p.bytesOf(a.value)); i >= 0 {
			s.str = s.str[:a.value.off]
			a.value = internedRef(int32(i))
		}
	}
	return nil
}

// addText appends character data to the current element.
func addText[T string | []byte](p *Parser, b T, nonWS bool) {
	s := p.s
	n := &s.nodes[s.stack[len(s.stack)-1]]
	if nonWS {
		n.nonWS = true
	}
	if n.textLen > 0 && int(n.textOff+n.textLen) != len(s.str) {
		// A child element came in between: keep the earlier piece.
		s.spans = append(s.spans, span{n.textOff, n.textLen, 0})
		if n.spans == 0 {
			n.spans = int32(len(s.spans))
		} else {
			s.spans[n.lastSpan-1].next = int32(len(s.spans))
		}
		n.lastSpan = int32(len(s.spans))
		n.textLen = 0
	}
	if n.textLen == 0 {
		n.textOff = int32(len(s.str))
	}
	s.str = append(s.str, b...)
	n.textLen += int32(len(b))
}

// lookup resolves a namespace prefix.
func (p *Parser) lookup(prefix sref) (sref, bool) {
	s := p.s
	for i := len(s.binds) - 1; i >= 0; i-- {
		if p.eq(s.binds[i].prefix, prefix) {
			return s.binds[i].uri, true
		}
	}
	for i := len(p.streamBinds) - 1; i >= 0; i-- {
		if p.eq(p.streamBinds[i].prefix, prefix) {
			return p.streamBinds[i].uri, true
		}
	}
	if p.eqs(prefix, "xml") {
		return internedRef(idxNSXML), true
	}
	return sref{}, false
}

// endStartTag is called at the '>' of a start tag.
func (p *Parser) endStartTag(empty bool) error {
	if err := p.resolve(); err != nil {
		return err
	}
	if p.inHeader {
		return p.finishHeader(empty)
	}
	p.state = stContent
	if empty {
		return p.closeElement()
	}
	return nil
}

// resolve applies the current start tag's namespace declarations and
// resolves the element's and its attributes' names.
func (p *Parser) resolve() error {
	s := p.s
	n := &s.nodes[len(s.nodes)-1]
	n.bindBase = int32(len(s.binds))
	n.attrStart = int32(len(s.attrs))
	for i := range s.raw {
		a := &s.raw[i]
		switch {
		case a.prefix.n == 0 && p.eqs(a.local, "xmlns"):
			if p.eqs(a.value, stanza.NSXML) || p.eqs(a.value, nsXMLNS) {
				return notWellFormed("reserved namespace as default namespace")
			}
			a.decl = true
			n.def = a.value
		case a.prefix.n != 0 && p.eqs(a.prefix, "xmlns"):
			a.decl = true
			xmlPrefix := p.eqs(a.local, "xml")
			xmlNS := p.eqs(a.value, stanza.NSXML)
			switch {
			case p.eqs(a.local, "xmlns") || p.eqs(a.value, nsXMLNS) || xmlPrefix != xmlNS:
				return notWellFormed("reserved namespace prefix or name")
			case a.value.n == 0:
				return notWellFormed("empty namespace name for a prefix")
			case !xmlPrefix:
				s.binds = append(s.binds, binding{a.local, a.value})
			}
		default:
			continue
		}
		for j := range i {
			if b := &s.raw[j]; b.decl && p.eq(b.prefix, a.prefix) && p.eq(b.local, a.local) {
				return notWellFormed("duplicate namespace declaration")
			}
		}
	}
	if n.prefix.n == 0 {
		n.space = n.def
	} else {
		uri, ok := p.lookup(n.prefix)
		if !ok {
			return stanza.NewStreamError(condBadNamespacePrefix, "unbound prefix "+p.strOf(n.prefix))
		}
		n.space = uri
	}
	for i := range s.raw {
		a := &s.raw[i]
		if a.decl {
			continue
		}
		var space sref
		if a.prefix.n != 0 {
			uri, ok := p.lookup(a.prefix)
			if !ok {
				return stanza.NewStreamError(condBadNamespacePrefix, "unbound prefix "+p.strOf(a.prefix))
			}
			space = uri
		}
		for j := int(n.attrStart); j < len(s.attrs); j++ {
			if b := &s.attrs[j]; p.eq(b.local, a.local) && p.eq(b.space, space) {
				return notWellFormed("duplicate attribute " + p.strOf(a.local))
			}
		}
		s.attrs = append(s.attrs, attr{space, a.local, a.value})
	}
	n.attrN = int32(len(s.attrs)) - n.attrStart
	return nil
}

// matchEnd checks an end tag's name against the open element.
func (p *Parser) matchEnd(name []byte) error {
	if p.depth == 0 {
		if string(name) != p.rootQName {
			return notWellFormed("end tag </" + string(name) + "> does not match the stream header")
		}
		return nil
	}
	s := p.s
	n := &s.nodes[s.stack[len(s.stack)-1]]
	ok := false
	if n.prefix.n == 0 {
		ok = p.eqb(n.local, name)
	} else if k := len(name) - p.lenOf(n.local) - 1; k > 0 && name[k] == ':' {
		ok = p.eqb(n.prefix, name[:k]) && p.eqb(n.local, name[k+1:])
	}
	if !ok {
		return notWellFormed("end tag </" + string(name) + "> does not match <" + p.qname(n) + ">")
	}
	return nil
}

func (p *Parser) qname(n *node) string {
	if n.prefix.n == 0 {
		return p.strOf(n.local)
	}
	return p.strOf(n.prefix) + ":" + p.strOf(n.local)
}

// closeElement ends the open element; the end of a stanza emits it.
func (p *Parser) closeElement() error {
	if p.depth == 0 { // </stream:stream>
		p.endUnit()
		p.emit = StreamEnd
		p.state = stDone
		return nil
	}
	s := p.s
	n := &s.nodes[s.stack[len(s.stack)-1]]
	s.binds = s.binds[:n.bindBase]
	s.stack = s.stack[:len(s.stack)-1]
	p.depth--
	if p.depth > 0 {
		p.state = stContent
		return nil
	}
	p.el = p.build()
	p.emit = Stanza
	p.endUnit()
	if p.mode == modeElement {
		p.state = stDone
	} else {
		p.state = stBetween
	}
	return nil
}
