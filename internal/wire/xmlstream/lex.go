package xmlstream

import (
	"unicode/utf8"

	"github.com/parley-im/parley/internal/stanza"
)

// state is where the lexer is. Each state's step consumes as much of the
// input as it can, and leaves unconsumed only a unit too short to decide on
// (a partial UTF-8 sequence, entity reference or "<![CDATA[" of at most a few
// dozen bytes), so no byte is scanned twice except those.
type state uint8

const (
	stProlog    state = iota // before the stream header (or ParseElement's root)
	stBetween                // inside the stream, between top-level elements
	stContent                // character data inside an element
	stLT                     // after '<'
	stBang                   // after "<!"; match counts the bytes of "[CDATA[" seen
	stCDATA                  // in a CDATA section; match counts pending ']'
	stDecl                   // in "<?xml ... ?>"
	stStartName              // in a start tag's name
	stTag                    // in a start tag, before an attribute, '/' or '>'
	stAttrName               // in an attribute name
	stAttrEq                 // after an attribute name, before '='
	stAttrQuote              // after '=', before the opening quote
	stAttrValue              // in an attribute value
	stEmptyEnd               // after '/' in a start tag
	stEndName                // in an end tag's name
	stEndTag                 // after an end tag's name, before '>'
	stDone                   // after the stream (or the element) ended
)

func notWellFormed(msg string) error {
	return stanza.NewStreamError(stanza.StreamNotWellFormed, msg)
}

func restricted(msg string) error {
	return stanza.NewStreamError(stanza.StreamRestrictedXML, msg)
}

// run runs the lexer on p.in[p.r:end], from state to state, until it needs
// more input (more), fails, has a token to emit, or has just started a
// top-level unit (so that Next starts counting its bytes).
func (p *Parser) run(end int) (more bool, err error) {
	for p.r < end {
		r0, st0 := p.r, p.state
		switch p.state {
		case stProlog, stBetween, stDone:
			return p.lexOutside(end)
		case stContent:
			more, err = p.lexContent(end)
		case stLT:
			err = p.lexLT()
		case stBang:
			more, err = p.lexBang(end)
		case stCDATA:
			more, err = p.lexCDATA(end)
		case stDecl:
			more, err = p.lexDecl(end)
		case stStartName:
			more, err = p.lexStartName(end)
		case stTag:
			more, err = p.lexTag(end)
		case stAttrName:
			more, err = p.lexAttrName(end)
		case stAttrEq, stAttrQuote, stEndTag:
			more, err = p.lexPunct(end)
		case stAttrValue:
			more, err = p.lexAttrValue(end)
		case stEmptyEnd:
			err = p.lexEmptyEnd()
		case stEndName:
			more, err = p.lexEndName(end)
		default:
			err = stanza.NewStreamError(stanza.StreamInternalError, "xmlstream: bad state")
		}
		if more || err != nil || p.emit != 0 || !p.inTok {
			return more, err
		}
		if p.r == r0 && p.state == st0 {
			// Every step consumes input, changes state or asks for more.
			return false, stanza.NewStreamError(stanza.StreamInternalError, "xmlstream: parser stalled")
		}
	}
	return true, nil
}

// lexOutside skips white space outside any top-level element: before the
// header, between stanzas and after the end of the stream.
func (p *Parser) lexOutside(end int) (bool, error) {
	in, i := p.in, p.r
	if !p.bomChecked {
		// A UTF-8 byte order mark may start the document.
		if in[i] == 0xEF {
			if end-i < 3 {
				return true, nil
			}
			if in[i+1] == 0xBB && in[i+2] == 0xBF {
				i += 3
			}
		}
		p.bomChecked = true
	}
	for ; i < end; i++ {
		c := in[i]
		if isSpace(c) {
			continue
		}
		p.r = i
		if c != '<' {
			if p.state == stBetween {
				return false, notWellFormed("character data outside a stanza")
			}
			return false, notWellFormed("content outside the root element")
		}
		if p.state == stDone {
			return false, notWellFormed("content after the end of the stream")
		}
		p.r = i + 1
		p.beginUnit()
		p.state = stLT
		return false, nil
	}
	p.r = i
	return true, nil
}

// lexLT dispatches on the byte after '<'.
func (p *Parser) lexLT() error {
	c := p.in[p.r]
	top := p.depth == 0 && !p.inHeader
	switch {
	case c == '/':
		p.r++
		if top && (p.mode == modeElement || !p.started) {
			return notWellFormed("end tag outside an element")
		}
		p.state = stEndName
	case c == '!':
		p.r++
		p.match = 0
		p.state = stBang
	case c == '?':
		p.r++
		if p.started || p.declSeen {
			return restricted("processing instructions are not allowed")
		}
		p.state = stDecl
	case charClass[c]&cNameStart != 0 || c >= utf8.RuneSelf:
		p.state = stStartName
	default:
		return notWellFormed("bad character after '<'")
	}
	return nil
}

// scanName reads a name from p.r. done is false when the input ended inside
// the name: what was read is kept in p.s.name and consumed.
func (p *Parser) scanName(end int) (name []byte, done bool, err error) {
	in, i := p.in, p.r
	s := p.s
	first := len(s.name) == 0
	for i < end {
		c := in[i]
		if c < utf8.RuneSelf {
			cl := charClass[c]
			if cl&cName == 0 || (first && cl&cNameStart == 0) {
				break
			}
			first = false
			i++
			continue
		}
		if !utf8.FullRune(in[i:end]) {
			s.name = append(s.name, in[p.r:i]...)
			p.r = i
			return nil, false, nil
		}
		r, n := utf8.DecodeRune(in[i:end])
		if r == utf8.RuneError && n == 1 {
			p.r = i
			return nil, false, notWellFormed("invalid UTF-8")
		}
		if !isNameRune(r, first) {
			break
		}
		first = false
		i += n
	}
	if i == end {
		s.name = append(s.name, in[p.r:i]...)
		p.r = i
		return nil, false, nil
	}
	if len(s.name) > 0 {
		s.name = append(s.name, in[p.r:i]...)
		name = s.name
	} else {
		name = in[p.r:i]
	}
	p.r = i
	if len(name) == 0 {
		return nil, false, notWellFormed("name expected")
	}
	return name, true, nil
}

func (p *Parser) lexStartName(end int) (bool, error) {
	name, done, err := p.scanName(end)
	if !done || err != nil {
		return err == nil, err
	}
	err = p.openElement(name)
	p.s.name = p.s.name[:0]
	p.needSpace = false
	p.state = stTag
	return false, err
}

// lexTag reads the inside of a start tag between attributes.
func (p *Parser) lexTag(end int) (bool, error) {
	in, i := p.in, p.r
	for ; i < end; i++ {
		c := in[i]
		if isSpace(c) {
			p.needSpace = false
			continue
		}
		p.r = i
		switch {
		case c == '>':
			p.r++
			return false, p.endStartTag(false)
		case c == '/':
			p.r++
			p.state = stEmptyEnd
			return false, nil
		case p.needSpace:
			return false, notWellFormed("white space required between attributes")
		case charClass[c]&cNameStart != 0 || c >= utf8.RuneSelf:
			p.state = stAttrName
			return false, nil
		default:
			return false, notWellFormed("bad character in start tag")
		}
	}
	p.r = i
	return true, nil
}

func (p *Parser) lexEmptyEnd() error {
	if p.in[p.r] != '>' {
		return notWellFormed("'>' expected after '/'")
	}
	p.r++
	return p.endStartTag(true)
}

func (p *Parser) lexAttrName(end int) (bool, error) {
	name, done, err := p.scanName(end)
	if !done || err != nil {
		return err == nil, err
	}
	err = p.addAttr(name)
	p.s.name = p.s.name[:0]
	p.state = stAttrEq
	return false, err
}

// lexPunct skips white space before '=', an opening quote or an end tag's
// '>'.
func (p *Parser) lexPunct(end int) (bool, error) {
	in, i := p.in, p.r
	for i < end && isSpace(in[i]) {
		i++
	}
	p.r = i
	if i == end {
		return true, nil
	}
	c := in[i]
	switch p.state {
	case stAttrEq:
		if c != '=' {
			return false, notWellFormed("'=' expected after attribute name")
		}
		p.state = stAttrQuote
	case stAttrQuote:
		if c != '"' && c != '\'' {
			return false, notWellFormed("attribute value must be quoted")
		}
		p.quote = c
		p.startValue()
		p.state = stAttrValue
	default: // stEndTag
		if c != '>' {
			return false, notWellFormed("'>' expected in end tag")
		}
		p.r = i + 1
		return false, p.closeElement()
	}
	p.r = i + 1
	return false, nil
}

// lexAttrValue reads an attribute value up to its closing quote, decoding
// references and normalizing white space (XML 1.0 section 3.3.3).
func (p *Parser) lexAttrValue(end int) (bool, error) {
	in, i := p.in, p.r
	s := p.s
	if p.cr {
		p.cr = false
		if in[i] == '\n' {
			i++
		}
	}
	for i < end {
		j, _, err := scanRun(in, i, end, cAttrPlain)
		if err != nil {
			p.r = j
			return false, err
		}
		if j > i {
			s.str = append(s.str, in[i:j]...)
			i = j
			if i == end {
				break
			}
		}
		switch c := in[i]; c {
		case p.quote:
			p.r = i + 1
			p.needSpace = true
			p.state = stTag
			return false, p.endValue()
		case '"', '\'':
			s.str = append(s.str, c)
			i++
		case '\t', '\n':
			s.str = append(s.str, ' ')
			i++
		case '\r':
			s.str = append(s.str, ' ')
			i = p.skipLF(i + 1)
		case '&':
			r, n, err := entity(in[i:end])
			if err != nil {
				p.r = i
				return false, err
			}
			if n == 0 {
				p.r = i
				return true, nil
			}
			s.str = utf8.AppendRune(s.str, r)
			i += n
		case '<':
			p.r = i
			return false, notWellFormed("'<' in attribute value")
		default:
			p.r = i
			if c >= utf8.RuneSelf {
				return true, nil // partial UTF-8 sequence
			}
			return false, notWellFormed("character not allowed in XML")
		}
	}
	p.r = i
	return true, nil
}

func (p *Parser) lexEndName(end int) (bool, error) {
	name, done, err := p.scanName(end)
	if !done || err != nil {
		return err == nil, err
	}
	err = p.matchEnd(name)
	p.s.name = p.s.name[:0]
	p.state = stEndTag
	return false, err
}
