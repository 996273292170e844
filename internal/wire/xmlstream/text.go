package xmlstream

import (
	"unicode/utf8"
)

// Character data: text, CDATA sections and references.

// cdataOpen is what follows "<!" in a CDATA section's start.
const cdataOpen = "[CDATA["

func (p *Parser) lexBang(end int) (bool, error) {
	in, i := p.in, p.r
	if p.match == 0 {
		switch in[i] {
		case '-':
			return false, restricted("comments are not allowed")
		case 'D':
			return false, restricted("document type declarations are not allowed")
		case '[':
			if p.depth == 0 {
				return false, notWellFormed("character data outside a stanza")
			}
		default:
			return false, notWellFormed("bad markup after '<!'")
		}
	}
	for ; i < end && p.match < len(cdataOpen); i++ {
		if in[i] != cdataOpen[p.match] {
			p.r = i
			return false, notWellFormed("bad CDATA section start")
		}
		p.match++
	}
	p.r = i
	if p.match < len(cdataOpen) {
		return true, nil
	}
	p.match = 0
	p.state = stCDATA
	return false, nil
}

// lexCDATA copies a CDATA section into the current element's text.
func (p *Parser) lexCDATA(end int) (bool, error) {
	in, i := p.in, p.r
	if p.cr {
		p.cr = false
		if in[i] == '\n' {
			i++
		}
	}
	for i < end {
		c := in[i]
		if c == ']' {
			p.match++
			i++
			continue
		}
		if p.match > 0 {
			if c == '>' && p.match >= 2 {
				p.flushBrackets(p.match - 2)
				p.match = 0
				p.r = i + 1
				p.state = stContent
				return false, nil
			}
			p.flushBrackets(p.match)
			p.match = 0
		}
		j, acc, err := scanRun(in, i, end, cCDATAPlain)
		if err != nil {
			p.r = j
			return false, err
		}
		if j > i {
			addText(p, in[i:j], acc&cNonSpace != 0)
			i = j
			continue
		}
		switch {
		case c == '\r':
			addText(p, "\n", false)
			i = p.skipLF(i + 1)
		case c >= utf8.RuneSelf:
			p.r = i
			return true, nil // partial UTF-8 sequence
		default:
			p.r = i
			return false, notWellFormed("character not allowed in XML")
		}
	}
	p.r = i
	return true, nil
}

const brackets = "]]]]]]]]"

func (p *Parser) flushBrackets(n int) {
	for n > 0 {
		k := min(n, len(brackets))
		addText(p, brackets[:k], true)
		n -= k
	}
}

// skipLF is called after a '\r' that ended at i: it skips a '\n' at i, or
// remembers to skip one at the start of the next input.
func (p *Parser) skipLF(i int) int {
	if i < len(p.in) {
		if p.in[i] == '\n' {
			i++
		}
		return i
	}
	p.cr = true
	return i
}

// scanRun returns the end of the run of bytes from i that are plain in class
// plain or valid non-ASCII characters, and the OR of their classes. It stops
// at any other byte, including an incomplete UTF-8 sequence at end.
func scanRun(in []byte, i, end int, plain uint8) (int, uint8, error) {
	var acc uint8
	for i < end {
		c := in[i]
		if cl := charClass[c]; cl&plain != 0 {
			acc |= cl
			i++
			continue
		}
		if c < utf8.RuneSelf || !utf8.FullRune(in[i:end]) {
			break
		}
		r, n := utf8.DecodeRune(in[i:end])
		if r == utf8.RuneError && n == 1 {
			return i, acc, notWellFormed("invalid UTF-8")
		}
		if !isXMLChar(r) {
			return i, acc, notWellFormed("character not allowed in XML")
		}
		acc |= cNonSpace
		i += n
	}
	return i, acc, nil
}

// lexContent reads character data up to the next '<'.
func (p *Parser) lexContent(end int) (bool, error) {
	in, i := p.in, p.r
	if p.cr {
		p.cr = false
		if in[i] == '\n' {
			i++
		}
	}
	for i < end {
		j, acc, err := scanRun(in, i, end, cTextPlain)
		if err != nil {
			p.r = j
			return false, err
		}
		if j > i {
			addText(p, in[i:j], acc&cNonSpace != 0)
			p.brk = 0
			i = j
			if i == end {
				break
			}
		}
		switch c := in[i]; c {
		case '<':
			p.r = i + 1
			p.brk = 0
			p.state = stLT
			return false, nil
		case '&':
			var buf [utf8.UTFMax]byte
			r, n, err := entity(in[i:end])
			if err != nil {
				p.r = i
				return false, err
			}
			if n == 0 {
				p.r = i
				return true, nil
			}
			addText(p, utf8.AppendRune(buf[:0], r), r > ' ' || !isSpace(byte(r)))
			p.brk = 0
			i += n
		case ']':
			addText(p, brackets[:1], true)
			if p.brk < 2 {
				p.brk++
			}
			i++
		case '>':
			if p.brk >= 2 {
				p.r = i
				return false, notWellFormed("']]>' in character data")
			}
			addText(p, ">", true)
			p.brk = 0
			i++
		case '\r':
			addText(p, "\n", false)
			p.brk = 0
			i = p.skipLF(i + 1)
		default:
			if c >= utf8.RuneSelf {
				p.r = i
				return true, nil // partial UTF-8 sequence
			}
			p.r = i
			return false, notWellFormed("character not allowed in XML")
		}
	}
	p.r = i
	return true, nil
}

// entity decodes the reference at the start of b, which begins with '&'. It
// returns n == 0 when b ends before the reference does.
func entity(b []byte) (r rune, n int, err error) {
	const maxRef = 16 // "&#x0010FFFF;" fits; longer references are refused
	i := 1
	if len(b) > 1 && b[1] == '#' {
		i = 2
		base := rune(10)
		if len(b) > 2 && b[2] == 'x' {
			base, i = 16, 3
		}
		start := i
		for ; i < len(b) && i < maxRef; i++ {
			c := b[i]
			var d rune
			switch {
			case c >= '0' && c <= '9':
				d = rune(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				d = rune(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = rune(c-'A') + 10
			case c == ';' && i > start:
				if !isXMLChar(r) {
					return 0, 0, notWellFormed("character reference to a character not allowed in XML")
				}
				return r, i + 1, nil
			default:
				return 0, 0, notWellFormed("bad character reference")
			}
			r = r*base + d
			if r > utf8.MaxRune {
				return 0, 0, notWellFormed("character reference out of range")
			}
		}
	} else {
		for ; i < len(b) && i < maxRef; i++ {
			c := b[i]
			if c == ';' && i > 1 {
				switch string(b[1:i]) {
				case "lt":
					return '<', i + 1, nil
				case "gt":
					return '>', i + 1, nil
				case "amp":
					return '&', i + 1, nil
				case "quot":
					return '"', i + 1, nil
				case "apos":
					return '\'', i + 1, nil
				}
				return 0, 0, restricted("undefined entity")
			}
			cl := charClass[c]
			if cl&cName == 0 || (i == 1 && cl&cNameStart == 0) {
				return 0, 0, notWellFormed("bad entity reference")
			}
		}
	}
	if i >= maxRef {
		return 0, 0, notWellFormed("entity reference too long")
	}
	return 0, 0, nil
}
