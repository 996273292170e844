package xmlstream

import (
	"bytes"

	"github.com/parley-im/parley/internal/stanza"
)

// build turns the finished stanza in scratch into an element tree with four
// allocations whatever its size: one string holding all its text, one slice
// of elements, one of attributes and one of child pointers. Each element's
// Attrs and Children are capped sub-slices, so appending to them copies
// instead of overwriting a neighbour; the stanza's own Attrs have room for
// one more (its "from").
func (p *Parser) build() *stanza.Element {
	s := p.s
	nodes := s.nodes
	for i := range nodes {
		n := &nodes[i]
		if n.nKids > 0 && !n.nonWS {
			n.textLen = 0 // white space between child elements is not kept
			continue
		}
		if n.spans != 0 { // text split by child elements: concatenate
			off := len(s.str)
			for k := n.spans; k != 0; k = s.spans[k-1].next {
				sp := s.spans[k-1]
				s.str = append(s.str, s.str[sp.off:sp.off+sp.n]...)
			}
			s.str = append(s.str, s.str[n.textOff:n.textOff+n.textLen]...)
			n.textOff, n.textLen = int32(off), int32(len(s.str)-off)
		}
	}
	str := string(s.str)
	if len(nodes) == 1 {
		return p.buildLeaf(str)
	}
	elems := make([]stanza.Element, len(nodes))
	// One slot more than parsed, right after the stanza's own attributes:
	// the server sets "from" on every stanza a client sends, which would
	// otherwise copy them.
	rootEnd := nodes[0].attrStart + nodes[0].attrN
	attrs := make([]stanza.Attr, len(s.attrs)+1)
	for i, a := range s.attrs {
		if int32(i) >= rootEnd {
			i++
		}
		attrs[i] = stanza.Attr{Space: p.out(str, a.space), Name: p.out(str, a.local), Value: p.out(str, a.value)}
	}
	var kids []*stanza.Element
	if len(nodes) > 1 {
		kids = make([]*stanza.Element, len(nodes)-1)
	}
	pos := int32(0)
	for i := range nodes {
		n := &nodes[i]
		e := &elems[i]
		e.Space = p.out(str, n.space)
		e.Name = p.out(str, n.local)
		if n.textLen > 0 {
			e.Text = str[n.textOff : n.textOff+n.textLen]
		}
		switch start, end := n.attrStart, n.attrStart+n.attrN; {
		case i == 0:
			e.Attrs = attrs[start : end : end+1]
		case n.attrN > 0:
			e.Attrs = attrs[start+1 : end+1 : end+1] // after the stanza's spare slot
		}
		if n.nKids > 0 {
			e.Children = kids[pos : pos+n.nKids : pos+n.nKids]
			n.kidPos = pos
			pos += n.nKids
		}
		if n.parent >= 0 { // parents come first in document order
			par := &nodes[n.parent]
			kids[par.kidPos] = e
			par.kidPos++
		}
	}
	return &elems[0]
}

// buildLeaf is build for a stanza without child elements (an ack, an ack
// request, most presences and iq results): its element and attributes in
// one allocation when they are few (stanza.NewSized), with the same spare
// slot for "from".
func (p *Parser) buildLeaf(str string) *stanza.Element {
	s := p.s
	n := &s.nodes[0]
	e := stanza.NewSized(len(s.attrs)+1, 0)
	e.Space, e.Name = p.out(str, n.space), p.out(str, n.local)
	if n.textLen > 0 {
		e.Text = str[n.textOff : n.textOff+n.textLen]
	}
	for _, a := range s.attrs {
		e.Attrs = append(e.Attrs, stanza.Attr{Space: p.out(str, a.space), Name: p.out(str, a.local), Value: p.out(str, a.value)})
	}
	return e
}

// out returns the string of r in the finished stanza whose text is str.
func (p *Parser) out(str string, r sref) string {
	switch r.n {
	case refInterned:
		return internList[r.off]
	case refOwned:
		return p.owned[r.off]
	}
	return str[r.off : r.off+r.n]
}

// keep returns r as a string that may outlive the scratch memory.
func (p *Parser) keep(r sref) string {
	if r.n > 0 {
		if i := intern(p.bytesOf(r)); i >= 0 {
			return internList[i]
		}
	}
	return p.strOf(r)
}

// finishHeader checks the stream header and emits StreamStart.
func (p *Parser) finishHeader(empty bool) error {
	s := p.s
	n := &s.nodes[0]
	if !p.eqs(n.local, "stream") || !p.eqs(n.space, stanza.NSStream) {
		return stanza.NewStreamError(stanza.StreamInvalidNamespace,
			"the stream root must be <stream:stream> in "+stanza.NSStream)
	}
	var h StreamHeader
	for _, a := range s.attrs[n.attrStart : n.attrStart+n.attrN] {
		switch {
		case a.space.n == 0 && p.eqs(a.local, "to"):
			h.To = p.keep(a.value)
		case a.space.n == 0 && p.eqs(a.local, "from"):
			h.From = p.keep(a.value)
		case a.space.n == 0 && p.eqs(a.local, "id"):
			h.ID = p.keep(a.value)
		case a.space.n == 0 && p.eqs(a.local, "version"):
			h.Version = p.keep(a.value)
		case p.eqs(a.space, stanza.NSXML) && p.eqs(a.local, "lang"):
			h.Lang = p.keep(a.value)
		}
	}
	h.DefaultNS = p.keep(n.def)
	content := h.DefaultNS
	if content == "" {
		content = stanza.NSClient // lenient: stanzas of a header without xmlns are jabber:client
	}
	p.owned = append(p.owned[:0], content)
	p.streamBinds = p.streamBinds[:0]
	for _, b := range s.binds {
		k := int32(len(p.owned))
		p.owned = append(p.owned, p.keep(b.prefix), p.keep(b.uri))
		p.streamBinds = append(p.streamBinds, binding{ownedRef(k), ownedRef(k + 1)})
	}
	if p.eqs(n.prefix, "stream") {
		p.rootQName = "stream:stream"
	} else {
		p.rootQName = p.qname(n)
	}
	p.inHeader = false
	p.started = true
	p.endUnit()
	p.emit = StreamStart
	p.hdr = h
	p.state = stBetween
	if empty {
		p.pendingEnd = true
		p.state = stDone
	}
	return nil
}

// lexDecl reads "<?xml ...?>" (the "<?" is consumed) into scratch.name.
func (p *Parser) lexDecl(end int) (bool, error) {
	const maxDecl = 256
	in, i := p.in, p.r
	s := p.s
	for i < end {
		c := in[i]
		i++
		s.name = append(s.name, c)
		k := len(s.name)
		if k <= 3 && c != "xml"[k-1] || k == 4 && !isSpace(c) {
			p.r = i
			return false, restricted("processing instructions are not allowed")
		}
		if c == '>' && s.name[k-2] == '?' {
			p.r = i
			err := parseDecl(s.name[:k-2])
			s.name = s.name[:0]
			p.declSeen = true
			p.endUnit()
			p.state = stProlog
			return false, err
		}
		if k > maxDecl {
			p.r = i
			return false, notWellFormed("XML declaration too long")
		}
	}
	p.r = i
	return true, nil
}

// parseDecl checks the XML declaration's pseudo-attributes: b is "xml"
// followed by them.
func parseDecl(b []byte) error {
	bad := func() error { return notWellFormed("bad XML declaration") } // only when it is: no allocation
	b = b[3:]
	seenVersion := false
	for k := 0; ; k++ {
		i := 0
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			break
		}
		if i == 0 {
			return bad()
		}
		b = b[i:]
		eq := bytes.IndexByte(b, '=')
		if eq < 0 {
			return bad()
		}
		name := bytes.TrimRight(b[:eq], " \t\r\n")
		rest := bytes.TrimLeft(b[eq+1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
			return bad()
		}
		j := bytes.IndexByte(rest[1:], rest[0])
		if j < 0 {
			return bad()
		}
		val := rest[1 : 1+j]
		b = rest[2+j:]
		switch string(name) {
		case "version":
			if k != 0 || len(val) < 3 || val[0] != '1' || val[1] != '.' || !allDigits(val[2:]) {
				return bad()
			}
			seenVersion = true
		case "encoding":
			if !seenVersion {
				return bad()
			}
			if !bytes.EqualFold(val, []byte("UTF-8")) {
				return stanza.NewStreamError(stanza.StreamUnsupportedEncoding, "only UTF-8 is supported")
			}
		case "standalone":
			if !seenVersion || string(val) != "yes" && string(val) != "no" {
				return bad()
			}
		default:
			return bad()
		}
	}
	if !seenVersion {
		return bad()
	}
	return nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
