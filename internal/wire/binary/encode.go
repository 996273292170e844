package binary

import (
	"errors"
	"fmt"

	"github.com/parley-im/parley/internal/stanza"
)

// Protocol constants.
const (
	// Magic starts every stream: "PRLB".
	Magic = "PRLB"
	// Version is the protocol version this package speaks (framing and
	// encoding forms).
	Version = 1
	// MaxStreamStringBytes bounds one preamble string.
	MaxStreamStringBytes = 1023
)

// maxJIDBytes is the longest string the encoder tries to split as a JID
// (three parts of 1023 bytes, RFC 7622).
const maxJIDBytes = 3*1023 + 2

// Element header bits (the first byte of every element).
const (
	hNS       = 1 << 0 // a namespace slot follows the name (else the parent's namespace)
	hText     = 1 << 1 // a text slot follows the attributes
	hAttrShft = 2      // bits 2-4: attribute count 0-6, 7 = 7 + uvarint
	hKidShft  = 5      // bits 5-7: child count 0-6, 7 = 7 + uvarint
	hCountMax = 7
)

// Preamble is what a side sends first: the protocol version, the
// dictionary version its frames use, and up to 16 strings of its own (the
// server's domain, typically) that its frames may then write as one byte.
type Preamble struct {
	Version    int      // protocol version, Version
	Dictionary int      // dictionary version
	Strings    []string // at most 16, each 1 to MaxStreamStringBytes bytes, no duplicates
}

// Validate checks p against what this package can encode.
func (p Preamble) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("binary: protocol version %d: %w", p.Version, ErrUnsupportedVersion)
	}
	if _, ok := DictionaryVersion(p.Dictionary); !ok {
		return fmt.Errorf("binary: dictionary version %d: %w", p.Dictionary, ErrUnknownDictionary)
	}
	if len(p.Strings) > maxStreamStrings {
		return errors.New("binary: more than 16 preamble strings")
	}
	for i, s := range p.Strings {
		if s == "" || len(s) > MaxStreamStringBytes {
			return fmt.Errorf("binary: preamble string %d is empty or longer than %d bytes", i, MaxStreamStringBytes)
		}
		for _, t := range p.Strings[:i] {
			if t == s {
				return fmt.Errorf("binary: preamble string %q twice", s)
			}
		}
	}
	return nil
}

// Encoder writes stanzas in the binary form of one Preamble. It is
// immutable after NewEncoder and safe for concurrent use; its methods
// append to the caller's slice and allocate nothing else.
type Encoder struct {
	pre  Preamble
	dict *Dictionary
	// shared keys this encoder's templates of stanza.Shared copies: equal
	// for encoders of equal preambles, so that every connection of a
	// server uses the template the first one made. Held boxed, so that
	// looking a template up converts nothing (a sharedKey converted to
	// an interface at each copy allocated: 4.5% of the server's CPU when
	// fanning out one group post at a time).
	shared any
}

// NewEncoder returns an encoder for p (see Preamble.Validate). Zero Version
// and Dictionary fields mean Version and LatestDictionary.
func NewEncoder(p Preamble) (*Encoder, error) {
	if p.Version == 0 {
		p.Version = Version
	}
	if p.Dictionary == 0 {
		p.Dictionary = LatestDictionary
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.Strings = append([]string(nil), p.Strings...)
	d, _ := DictionaryVersion(p.Dictionary)
	return &Encoder{pre: p, dict: d, shared: newSharedKey(p)}, nil
}

// Preamble returns the preamble the encoder writes.
func (e *Encoder) Preamble() Preamble {
	p := e.pre
	p.Strings = append([]string(nil), p.Strings...)
	return p
}

// AppendPreamble appends the connection preamble: the magic, the protocol
// and dictionary versions, and the preamble strings.
func (e *Encoder) AppendPreamble(dst []byte) []byte {
	dst = append(dst, Magic...)
	dst = append(dst, byte(e.pre.Version), byte(e.pre.Dictionary), byte(len(e.pre.Strings)))
	for _, s := range e.pre.Strings {
		dst = appendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// AppendKeepAlive appends an empty frame, which the peer's decoder skips
// (the binary counterpart of XMPP's white space keep-alive).
func AppendKeepAlive(dst []byte) []byte { return append(dst, 0) }

// AppendStreamEnd appends the stream end frame (the counterpart of
// </stream:stream>).
func AppendStreamEnd(dst []byte) []byte { return append(dst, 1, 0) }

// AppendStanza appends el as one frame: its length as a uvarint, then the
// element. A top-level element inherits the namespace jabber:client, so a
// stanza writes none. Nil children are skipped; a nil el appends nothing.
// A copy made for one of many recipients (el.Shared) is written from its
// Shared's template: the same bytes, the common part encoded once.
func (e *Encoder) AppendStanza(dst []byte, el *stanza.Element) []byte {
	if el == nil {
		return dst
	}
	dst, start := startFrame(dst)
	if out, ok := e.appendShared(dst, el); ok {
		dst = out
	} else {
		dst = e.appendElement(dst, el, stanza.NSClient)
	}
	return finishFrame(dst, start)
}

// startFrame reserves two bytes for a frame's length (frames under 16
// KiB) and returns where the frame starts.
func startFrame(dst []byte) ([]byte, int) {
	return append(dst, 0, 0), len(dst)
}

// finishFrame writes the length of the frame begun at start, moving the
// payload if the length needs one byte or more than two.
func finishFrame(dst []byte, start int) []byte {
	n := len(dst) - start - 2
	switch {
	case n < 1<<7:
		dst[start] = byte(n)
		copy(dst[start+1:], dst[start+2:])
		dst = dst[:len(dst)-1]
	case n < 1<<14:
		dst[start] = byte(n) | 0x80
		dst[start+1] = byte(n >> 7)
	default:
		extra := uvarintLen(uint64(n)) - 2
		for range extra {
			dst = append(dst, 0)
		}
		copy(dst[start+2+extra:], dst[start+2:len(dst)-extra])
		appendUvarint(dst[start:start], uint64(n))
	}
	return dst
}

// appendElement appends el's encoding; parentNS is the namespace it
// inherits.
func (e *Encoder) appendElement(dst []byte, el *stanza.Element, parentNS string) []byte {
	kids := 0
	for _, c := range el.Children {
		if c != nil {
			kids++
		}
	}
	dst = e.appendHead(dst, el, len(el.Attrs), kids, parentNS)
	if el.Text != "" {
		dst = e.appendString(dst, el.Text, true)
	}
	for _, c := range el.Children {
		if c != nil {
			dst = e.appendElement(dst, c, el.Space)
		}
	}
	return dst
}

// appendHead appends an element's header byte, name, namespace and counts
// for na attributes and kids children, then el's attributes (na may count
// more, which the caller appends).
func (e *Encoder) appendHead(dst []byte, el *stanza.Element, na, kids int, parentNS string) []byte {
	h := byte(min(na, hCountMax)<<hAttrShft | min(kids, hCountMax)<<hKidShft)
	if el.Space != parentNS {
		h |= hNS
	}
	if el.Text != "" {
		h |= hText
	}
	dst = append(dst, h)
	dst = e.appendString(dst, el.Name, true)
	if h&hNS != 0 {
		dst = e.appendString(dst, el.Space, true)
	}
	if na >= hCountMax {
		dst = appendUvarint(dst, uint64(na-hCountMax))
	}
	if kids >= hCountMax {
		dst = appendUvarint(dst, uint64(kids-hCountMax))
	}
	for i := range el.Attrs {
		dst = e.appendAttr(dst, el.Attrs[i])
	}
	return dst
}

// appendAttr appends one attribute: its name, then its value.
func (e *Encoder) appendAttr(dst []byte, a stanza.Attr) []byte {
	switch {
	case a.Space == "":
		dst = e.appendString(dst, a.Name, true)
	case a.Space == stanza.NSXML && a.Name == "lang":
		dst = append(dst, tagXMLLang)
	default:
		dst = append(dst, tagQName)
		dst = e.appendString(dst, a.Space, true)
		dst = e.appendString(dst, a.Name, true)
	}
	return e.appendString(dst, a.Value, true)
}

// appendString appends one string slot in its shortest form. jidOK allows
// the JID form (not inside a JID).
func (e *Encoder) appendString(dst []byte, s string, jidOK bool) []byte {
	if s == "" {
		return append(dst, tagEmpty)
	}
	if i := e.dict.lookup(s); i >= 0 {
		return appendToken(dst, i)
	}
	for i, t := range e.pre.Strings {
		if len(t) == len(s) && t == s {
			return append(dst, tagStream0+byte(i))
		}
	}
	n := len(s)
	if n < 2 {
		return appendLiteral(dst, s)
	}
	// Nibble forms: all bytes in one alphabet. They beat every other form
	// and exclude a JID (no '@' or '/'), so they end the search.
	cls := tables.class[s[0]] & (cNum | cHexLow | cHexUp)
	for i := 1; cls != 0 && i < n; i++ {
		cls &= tables.class[s[i]]
	}
	if cls != 0 {
		tag, nib := byte(tagHexUp), &tables.hex
		switch {
		case cls&cNum != 0:
			tag, nib = tagNumber, &tables.num
		case cls&cHexLow != 0:
			tag = tagHexLow
		}
		dst = appendUvarint(append(dst, tag), uint64(n))
		return appendNibbles(dst, s, nib)
	}
	if n == 36 {
		if up := isUUID(s); up >= 0 {
			dst = append(dst, tagUUID+byte(up))
			for i := 0; i < 36; i += 2 {
				if s[i] == '-' {
					i++
				}
				dst = append(dst, tables.hex[s[i]]<<4|tables.hex[s[i+1]])
			}
			return dst
		}
	}
	// Base64 and JID forms: keep the shorter of them and the literal.
	bestSize := 1 + uvarintLen(uint64(n)) + n
	rawLen := -1
	if n >= 8 {
		if rawLen = base64Len(s); rawLen >= 0 {
			if sz := 1 + uvarintLen(uint64(rawLen)) + rawLen; sz < bestSize {
				bestSize = sz
			} else {
				rawLen = -1
			}
		}
	}
	if jidOK && n <= maxJIDBytes {
		if local, domain, resource, ok := splitJID(s); ok {
			start := len(dst)
			dst = append(dst, tagJID)
			dst = e.appendString(dst, local, false)
			dst = e.appendString(dst, domain, false)
			dst = e.appendString(dst, resource, false)
			if len(dst)-start < bestSize {
				return dst
			}
			dst = dst[:start]
		}
	}
	if rawLen >= 0 {
		dst = appendUvarint(append(dst, tagBase64), uint64(rawLen))
		return appendBase64Decoded(dst, s)
	}
	return appendLiteral(dst, s)
}

func appendLiteral(dst []byte, s string) []byte {
	dst = appendUvarint(append(dst, tagLiteral), uint64(len(s)))
	return append(dst, s...)
}
