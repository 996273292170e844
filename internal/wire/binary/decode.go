package binary

import (
	"strconv"

	"github.com/parley-im/parley/internal/stanza"
)

// Limits bound what one peer can make the decoder hold.
type Limits struct {
	MaxFrameBytes  int // payload bytes of one frame; checked on the length prefix, before buffering
	MaxDepth       int // element nesting (a stanza is depth 1)
	MaxAttrs       int // attributes per element
	MaxStringBytes int // bytes of the strings one decoded stanza holds (packed forms expand)
}

// Default limits.
const (
	DefaultMaxFrameBytes  = 256 << 10
	DefaultMaxDepth       = 32
	DefaultMaxAttrs       = 64
	DefaultMaxStringBytes = 4 * DefaultMaxFrameBytes
)

// maxLengthBytes bounds the uvarint frame length prefix (lengths < 256 MiB).
const maxLengthBytes = 4

// DefaultLimits returns the default limits: 256 KiB frames, depth 32, 64
// attributes per element, 1 MiB of decoded strings per stanza.
func DefaultLimits() Limits {
	return Limits{
		MaxFrameBytes:  DefaultMaxFrameBytes,
		MaxDepth:       DefaultMaxDepth,
		MaxAttrs:       DefaultMaxAttrs,
		MaxStringBytes: DefaultMaxStringBytes,
	}
}

// withDefaults replaces zero or negative fields by their defaults
// (MaxStringBytes by four times MaxFrameBytes).
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = d.MaxFrameBytes
	}
	l.MaxFrameBytes = min(l.MaxFrameBytes, 1<<(7*maxLengthBytes)-1)
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = d.MaxAttrs
	}
	if l.MaxStringBytes <= 0 {
		l.MaxStringBytes = 4 * l.MaxFrameBytes
	}
	return l
}

// TokenKind says what a Token carries.
type TokenKind int

// Token kinds, as in package xmlstream.
const (
	StreamStart TokenKind = iota + 1 // the peer's preamble (Token.Preamble)
	Stanza                           // one frame's element (Token.Element)
	StreamEnd                        // the stream end frame
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
	return "TokenKind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one unit of the stream.
type Token struct {
	Kind     TokenKind
	Preamble Preamble        // for StreamStart
	Element  *stanza.Element // for Stanza
}

type decState uint8

const (
	statePreamble decState = iota
	stateFrames
	stateEnded
)

// Decoder is a push decoder for one direction of a binary stream. The
// connection hands it whatever bytes arrived (Feed) and calls Next until
// ErrNeedMore. It never reads and never blocks. The zero value is not
// usable; call NewDecoder. A Decoder is owned by one goroutine.
type Decoder struct {
	lim   Limits
	state decState
	err   error // sticky *ProtocolError

	in  []byte // input; in[:r] is consumed
	r   int
	off int64 // stream offset of in[0]

	pre  Preamble // the peer's, once read
	dict *Dictionary
}

// NewDecoder returns a decoder expecting a preamble. Zero fields of l take
// their defaults.
func NewDecoder(l Limits) *Decoder {
	return &Decoder{lim: l.withDefaults()}
}

// Feed appends a copy of b to the input. It never decodes; call Next.
func (d *Decoder) Feed(b []byte) {
	if d.err != nil || len(b) == 0 {
		return
	}
	if d.r > 0 {
		n := copy(d.in, d.in[d.r:])
		d.in = d.in[:n]
		d.off += int64(d.r)
		d.r = 0
	}
	d.in = append(d.in, b...)
}

// Buffered returns the number of bytes fed and not yet returned as part of
// a token. When it is 0 the decoder holds no buffer.
func (d *Decoder) Buffered() int { return len(d.in) - d.r }

// Reset forgets all state and buffered input: the next thing expected is a
// preamble.
func (d *Decoder) Reset() { *d = Decoder{lim: d.lim} }

// Next returns the next complete token: StreamStart for the preamble, then
// Stanza for every frame, StreamEnd for the end frame. Empty frames
// (keep-alives) yield nothing. It returns ErrNeedMore when the input holds
// no complete token; any other error is a *ProtocolError, after which the
// decoder is dead and returns the same error forever.
func (d *Decoder) Next() (Token, error) {
	if d.err != nil {
		return Token{}, d.err
	}
	for {
		in := d.in[d.r:]
		switch d.state {
		case statePreamble:
			p, n, err := d.readPreamble(in)
			if err != nil {
				return Token{}, d.fail(err)
			}
			if n == 0 {
				return Token{}, d.needMore()
			}
			d.r += n
			d.state = stateFrames
			return Token{Kind: StreamStart, Preamble: p}, nil
		case stateFrames:
			size, n, err := readLength(in, d.lim.MaxFrameBytes)
			if err != nil {
				detail := "frame of " + strconv.Itoa(size) + " bytes, limit " + strconv.Itoa(d.lim.MaxFrameBytes)
				if err == ErrMalformed {
					detail = "non-minimal frame length"
				}
				return Token{}, d.fail(d.errAt(0, err, detail))
			}
			if n == 0 || len(in) < n+size {
				if n > 0 && cap(d.in)-d.r < n+size {
					// Grow once to the frame's size (it passed the limit).
					buf := make([]byte, len(in), n+size)
					copy(buf, in)
					d.off += int64(d.r)
					d.in, d.r = buf, 0
				}
				return Token{}, d.needMore()
			}
			payload := in[n : n+size]
			frameOff := d.off + int64(d.r+n)
			d.r += n + size
			switch size {
			case 0: // keep-alive
				continue
			case 1:
				if payload[0] != 0 {
					return Token{}, d.fail(&ProtocolError{Err: ErrMalformed, Offset: frameOff, Detail: "unknown control frame " + strconv.Itoa(int(payload[0]))})
				}
				d.state = stateEnded
				return Token{Kind: StreamEnd}, nil
			}
			el, pos, ferr := decodeFrame(payload, d.dict, d.pre.Strings, &d.lim)
			if ferr != nil {
				return Token{}, d.fail(&ProtocolError{Err: ferr.kind, Offset: frameOff + int64(pos), Detail: ferr.detail})
			}
			return Token{Kind: Stanza, Element: el}, nil
		default: // stateEnded
			if len(in) > 0 {
				return Token{}, d.fail(d.errAt(0, ErrMalformed, "data after the stream end"))
			}
			return Token{}, d.needMore()
		}
	}
}

// needMore drops the buffer of an idle decoder and returns ErrNeedMore.
func (d *Decoder) needMore() error {
	if d.r == len(d.in) {
		d.off += int64(d.r)
		d.in, d.r = nil, 0
	}
	return ErrNeedMore
}

// errAt returns a protocol error at offset pos of the unconsumed input.
func (d *Decoder) errAt(pos int, kind error, detail string) *ProtocolError {
	return &ProtocolError{Err: kind, Offset: d.off + int64(d.r+pos), Detail: detail}
}

// fail makes the decoder dead with err and drops its buffer.
func (d *Decoder) fail(err *ProtocolError) error {
	d.err = err
	d.in, d.r = nil, 0
	return err
}

// readLength reads a frame length prefix: a minimal uvarint of at most
// maxLengthBytes bytes. n is 0 when more input is needed.
func readLength(b []byte, limit int) (size, n int, err error) {
	var x uint64
	for i := 0; i < len(b); i++ {
		if i == maxLengthBytes {
			return int(x), 0, ErrFrameTooLarge
		}
		c := b[i]
		x |= uint64(c&0x7F) << (7 * i)
		if x > uint64(limit) {
			return int(min(x, 1<<31)), 0, ErrFrameTooLarge
		}
		if c < 0x80 {
			if c == 0 && i > 0 {
				return int(x), 0, ErrMalformed // not minimal
			}
			return int(x), i + 1, nil
		}
	}
	return 0, 0, nil
}

// readPreamble parses a preamble at the start of b. n is 0 when more input
// is needed. A wrong magic is reported as soon as its first wrong byte
// arrives, so a peer speaking XML is told at once.
func (d *Decoder) readPreamble(b []byte) (p Preamble, n int, err *ProtocolError) {
	for i := 0; i < len(Magic) && i < len(b); i++ {
		if b[i] != Magic[i] {
			return p, 0, d.errAt(i, ErrBadMagic, "bad magic "+strconv.Quote(string(b[:i+1])))
		}
	}
	const fixed = len(Magic) + 3
	if len(b) < fixed {
		return p, 0, nil
	}
	p.Version, p.Dictionary = int(b[4]), int(b[5])
	if p.Version != Version {
		return p, 0, d.errAt(4, ErrUnsupportedVersion, "protocol version "+strconv.Itoa(p.Version))
	}
	dict, ok := DictionaryVersion(p.Dictionary)
	if !ok {
		return p, 0, d.errAt(5, ErrUnknownDictionary, "dictionary version "+strconv.Itoa(p.Dictionary))
	}
	count := int(b[6])
	if count > maxStreamStrings {
		return p, 0, d.errAt(6, ErrMalformed, "more than 16 preamble strings")
	}
	pos := fixed
	for range count {
		size, m, lerr := readLength(b[pos:], MaxStreamStringBytes)
		if lerr != nil || m > 0 && size == 0 {
			return p, 0, d.errAt(pos, ErrMalformed, "bad preamble string length")
		}
		if m == 0 || len(b) < pos+m+size {
			return Preamble{}, 0, nil
		}
		pos += m + size
	}
	// Complete: copy the strings out.
	if count > 0 {
		p.Strings = make([]string, 0, count)
		pos = fixed
		for range count {
			size, m, _ := readLength(b[pos:], MaxStreamStringBytes)
			s := string(b[pos+m : pos+m+size])
			for _, t := range p.Strings {
				if t == s {
					return p, 0, d.errAt(pos, ErrMalformed, "preamble string "+strconv.Quote(s)+" twice")
				}
			}
			p.Strings = append(p.Strings, s)
			pos += m + size
		}
	}
	d.pre, d.dict = p, dict
	out := p
	out.Strings = append([]string(nil), p.Strings...)
	return out, pos, nil
}
