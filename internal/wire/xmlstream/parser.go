package xmlstream

import (
	"errors"

	"github.com/parley-im/parley/internal/stanza"
)

// Limits bound what one peer can make the parser hold.
type Limits struct {
	MaxStanzaBytes int // bytes of one top-level element (stanza) including its children; over -> policy-violation
	MaxDepth       int // element nesting below the stream element (a stanza is depth 1)
	MaxAttrs       int // attributes per element, namespace declarations included
}

// Default limits.
const (
	DefaultMaxStanzaBytes = 256 << 10
	DefaultMaxDepth       = 32
	DefaultMaxAttrs       = 64
)

// DefaultLimits returns the default limits: 256 KiB per stanza, depth 32,
// 64 attributes per element.
func DefaultLimits() Limits {
	return Limits{MaxStanzaBytes: DefaultMaxStanzaBytes, MaxDepth: DefaultMaxDepth, MaxAttrs: DefaultMaxAttrs}
}

// withDefaults replaces zero or negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxStanzaBytes <= 0 {
		l.MaxStanzaBytes = d.MaxStanzaBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = d.MaxAttrs
	}
	return l
}

// StreamHeader holds the attributes of a <stream:stream> start tag.
type StreamHeader struct {
	To, From, ID, Version, Lang string // attributes of <stream:stream>; Lang is xml:lang
	DefaultNS                   string // the default namespace declared on the header (jabber:client expected)
}

// TokenKind says what a Token carries.
type TokenKind int

// Token kinds.
const (
	StreamStart TokenKind = iota + 1 // the stream header's start tag (Token.Header)
	Stanza                           // a complete depth-1 element (Token.Element)
	StreamEnd                        // </stream:stream>
)

func (k TokenKind) String() string {
	switch k {
	case StreamStart:
		return "StreamStart"
	case Stanza:
		return "Stanza"
	case StreamEnd:
		return "StreamEnd"
	}
	return "TokenKind(?)"
}

// Token is one unit of the stream.
type Token struct {
	Kind    TokenKind
	Header  StreamHeader    // for StreamStart
	Element *stanza.Element // for Stanza
}

// ErrNeedMore is returned by Next when the input holds no complete token yet.
var ErrNeedMore = errors.New("xmlstream: need more input")

// condBadNamespacePrefix is RFC 6120's condition for an unbound prefix.
const condBadNamespacePrefix = stanza.Condition("bad-namespace-prefix")

type mode uint8

const (
	modeStream  mode = iota // a stream: header, elements, end tag
	modeElement             // ParseElement: one element
)

// slack is how far past the stanza budget a lexer step may look, so that a
// small unit left incomplete at the budget's edge (an entity, a UTF-8
// sequence, "<![CDATA[") is never mistaken for missing input.
const slack = 64

// Parser is an incremental push parser for an XMPP XML stream. The zero value
// is not usable; call NewParser. A Parser is owned by one goroutine.
type Parser struct {
	lim   Limits
	mode  mode
	state state
	err   error // sticky *stanza.StreamError

	in []byte // input; in[:r] is consumed
	r  int
	// inBuf is the pool's holder of in's array, when in came from the
	// pool (given back with it by release).
	inBuf *[]byte

	// The token being read.
	inTok    bool // between the '<' that starts a top-level unit and its end
	tokBytes int  // bytes of the current unit consumed so far
	emit     TokenKind
	hdr      StreamHeader
	el       *stanza.Element

	// Lexer state carried across Feed calls.
	started    bool // stream mode: header seen; element mode: root seen
	declSeen   bool
	bomChecked bool
	inHeader   bool
	pendingEnd bool  // a self-closed header: StreamEnd follows StreamStart
	cr         bool  // a '\r' ended the last run: skip a following '\n'
	needSpace  bool  // an attribute value just ended: white space must follow
	brk        uint8 // ']' seen just before, in character data (for "]]>")
	match      int   // progress matching "[CDATA[", or ']' count in CDATA
	quote      byte  // quote of the attribute value being read
	depth      int   // open elements below the stream element

	s    *scratch     // per-stanza working memory; nil while idle
	pool *ScratchPool // where s comes from and goes back to (nil: allocated, dropped)

	// Stream scope: strings that outlive one stanza (sref kind owned).
	owned       []string  // owned[0] is the content namespace stanzas inherit
	streamBinds []binding // prefixes declared on the stream header
	rootQName   string    // the header's name as written, for the end tag
}

// NewParser returns a parser expecting a stream header. Zero fields of l take
// their defaults.
func NewParser(l Limits) *Parser {
	return &Parser{lim: l.withDefaults()}
}

// NewPooledParser is NewParser with its per-stanza working memory taken
// from pool and given back whenever the parser holds no input: a
// connection that sends a stanza now and then (an idle phone's ping
// answers) then allocates only the stanza it gets, not 1.5 KB of parser
// state each time.
func NewPooledParser(l Limits, pool *ScratchPool) *Parser {
	return &Parser{lim: l.withDefaults(), pool: pool}
}

// Feed appends a copy of b to the input. It never parses; call Next.
func (p *Parser) Feed(b []byte) {
	if p.err != nil || len(b) == 0 {
		return
	}
	if p.r > 0 {
		n := copy(p.in, p.in[p.r:])
		p.in = p.in[:n]
		p.r = 0
	}
	if p.in == nil && p.pool != nil {
		p.inBuf = p.pool.getInput()
		p.in = (*p.inBuf)[:0]
	}
	p.in = append(p.in, b...)
}

// Buffered returns the number of bytes held that have not been returned as
// part of a token: unread input plus the part of a token read so far. When it
// is 0 the parser holds no buffers.
func (p *Parser) Buffered() int {
	n := len(p.in) - p.r
	if p.inTok {
		n += p.tokBytes
	}
	return n
}

// AtKeepAlivePoint reports whether the parser is inside a stream, between
// its top-level elements, with nothing buffered: white space arriving now
// is a keep-alive (RFC 6120, section 4.6.1) that Next would only skip, so a
// caller may consume it without feeding it.
func (p *Parser) AtKeepAlivePoint() bool {
	return p.mode == modeStream && p.state == stBetween && p.err == nil && !p.pendingEnd && p.Buffered() == 0
}

// IsKeepAliveByte reports whether c is white space, which a stream may
// carry between its elements (AtKeepAlivePoint).
func IsKeepAliveByte(c byte) bool { return isSpace(c) }

// Reset forgets all state, including buffered input (bytes received before
// STARTTLS must not be read as if they came over TLS): the next token
// expected is a fresh stream header.
func (p *Parser) Reset() {
	p.release()
	*p = Parser{lim: p.lim, mode: p.mode, pool: p.pool, owned: p.owned[:0], streamBinds: p.streamBinds[:0]}
}

// Next returns the next complete token. It returns ErrNeedMore when the input
// holds no complete token yet; any other error is a *stanza.StreamError, after
// which the parser is dead and every call returns the same error.
func (p *Parser) Next() (Token, error) {
	if p.err != nil {
		return Token{}, p.err
	}
	if p.pendingEnd {
		p.pendingEnd = false
		return Token{Kind: StreamEnd}, nil
	}
	for p.r < len(p.in) {
		end := len(p.in)
		counting := p.inTok
		if counting {
			if lim := p.r + (p.lim.MaxStanzaBytes - p.tokBytes) + slack; lim < end {
				end = lim
			}
		}
		r0 := p.r
		more, err := p.run(end)
		if counting {
			p.tokBytes += p.r - r0
			if err == nil && p.tokBytes > p.lim.MaxStanzaBytes {
				err = stanza.NewStreamError(stanza.StreamPolicyViolation, "stanza too large")
			}
			if !p.inTok { // the unit ended in this step
				p.tokBytes = 0
			}
		}
		if err != nil {
			return Token{}, p.fail(err)
		}
		if p.emit != 0 {
			return p.token(), nil
		}
		if more {
			if end < len(p.in) {
				return Token{}, p.fail(stanza.NewStreamError(stanza.StreamPolicyViolation, "stanza too large"))
			}
			break
		}
	}
	if p.Buffered() == 0 {
		p.release()
	}
	return Token{}, ErrNeedMore
}

// token hands out the pending token.
func (p *Parser) token() Token {
	t := Token{Kind: p.emit, Header: p.hdr, Element: p.el}
	p.emit, p.hdr, p.el = 0, StreamHeader{}, nil
	return t
}

// fail makes the parser dead with err and drops its buffers.
func (p *Parser) fail(err error) error {
	p.err = err
	p.release()
	p.inTok, p.tokBytes = false, 0
	return err
}

// release drops the buffers of an idle parser, giving its working
// memory back to the pool. Nothing handed out refers to it: build copies
// the strings of a stanza out of it.
func (p *Parser) release() {
	if p.pool != nil {
		if p.s != nil {
			p.pool.put(p.s)
		}
		if p.inBuf != nil {
			p.pool.putInput(p.inBuf, p.in)
		}
	}
	p.in, p.r, p.s, p.inBuf = nil, 0, nil, nil
}

// beginUnit is called at the '<' that starts a top-level unit (XML
// declaration, stream header, stanza or stream end tag).
func (p *Parser) beginUnit() {
	p.inTok, p.tokBytes = true, 1
	if p.s == nil {
		p.s = p.pool.get()
	} else {
		p.s.reset()
	}
}

// endUnit is called when a top-level unit is complete. Next counts the
// bytes of the step that ended it, then resets tokBytes.
func (p *Parser) endUnit() {
	p.inTok = false
}

// ParseElement parses b as exactly one complete element, as RFC 7395
// (WebSocket) framing carries them: an element without a default namespace
// gets defaultNS, the prefix "stream" is bound to the streams namespace, and
// only white space (and an XML declaration before the element) may surround
// it. Errors are *stanza.StreamError.
func ParseElement(b []byte, defaultNS string, l Limits) (*stanza.Element, error) {
	l = l.withDefaults()
	if len(b) > l.MaxStanzaBytes+slack {
		return nil, stanza.NewStreamError(stanza.StreamPolicyViolation, "element too large")
	}
	p := Parser{lim: l, mode: modeElement, in: b}
	var owned [3]string
	owned[0], owned[1], owned[2] = defaultNS, "stream", stanza.NSStream
	p.owned = owned[:]
	var binds [1]binding
	binds[0] = binding{prefix: ownedRef(1), uri: ownedRef(2)}
	p.streamBinds = binds[:]
	tok, err := p.Next()
	if err == ErrNeedMore {
		return nil, stanza.NewStreamError(stanza.StreamNotWellFormed, "incomplete element")
	}
	if err != nil {
		return nil, err
	}
	if _, err := p.Next(); err != ErrNeedMore {
		return nil, err // only white space may follow
	}
	return tok.Element, nil
}
