package binary

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/stanza"
)

// frameError is a decoding error inside one frame; the Decoder adds the
// stream offset.
type frameError struct {
	kind   error // ErrMalformed or ErrLimit
	detail string
}

// frameReader decodes one frame's element. It runs twice over the frame:
// the first pass (build false) validates everything and counts elements,
// attributes and string bytes; the second builds the tree into exactly
// sized allocations, so a stanza costs four allocations whatever its size:
// its elements, its attributes, its child pointers and one buffer for all
// its strings that are not dictionary or preamble strings.
type frameReader struct {
	b    []byte
	p    int
	dict *Dictionary
	strs []string
	lim  *Limits

	build bool
	nEl   int // pass 1: elements; pass 2: next free element
	nAt   int // pass 1: attributes; pass 2: next free attribute
	nKid  int // pass 2: next free child pointer
	nStr  int // pass 1: string bytes

	els  []stanza.Element
	ats  []stanza.Attr
	kids []*stanza.Element
	sb   strings.Builder
}

// decodeFrame decodes payload, a frame of at least two bytes, into one
// element. On error pos is the offset in payload where it was found.
func decodeFrame(payload []byte, dict *Dictionary, strs []string, lim *Limits) (*stanza.Element, int, *frameError) {
	r := frameReader{b: payload, dict: dict, strs: strs, lim: lim, nEl: 1}
	if err := r.element(1, stanza.NSClient, nil); err != nil {
		return nil, r.p, err
	}
	if r.p != len(payload) {
		return nil, r.p, malformed("trailing bytes after the element")
	}
	nEl, nAt, nStr := r.nEl, r.nAt, r.nStr

	r = frameReader{b: payload, dict: dict, strs: strs, lim: lim, build: true, nEl: 1}
	r.els = make([]stanza.Element, nEl)
	if nAt > 0 {
		r.ats = make([]stanza.Attr, nAt)
	}
	if nEl > 1 {
		r.kids = make([]*stanza.Element, nEl-1)
	}
	r.sb.Grow(nStr)
	if err := r.element(1, stanza.NSClient, &r.els[0]); err != nil {
		return nil, r.p, err // cannot happen: pass 1 accepted the same bytes
	}
	return &r.els[0], 0, nil
}

func malformed(detail string) *frameError { return &frameError{kind: ErrMalformed, detail: detail} }

var errTruncated = &frameError{kind: ErrMalformed, detail: "truncated frame"}

func (r *frameReader) byte() (byte, *frameError) {
	if r.p >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.p]
	r.p++
	return c, nil
}

// uvarint reads a minimal uvarint no larger than twice the frame (a count of
// packed characters); callers check the value against the bytes that
// follow.
func (r *frameReader) uvarint() (int, *frameError) {
	var x uint64
	for i := 0; ; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		x |= uint64(c&0x7F) << (7 * i)
		if x > 2*uint64(len(r.b)) {
			return 0, malformed("count or length larger than the frame")
		}
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, malformed("non-minimal varint")
			}
			return int(x), nil
		}
	}
}

// element decodes one element at depth into el (nil in pass 1).
func (r *frameReader) element(depth int, parentNS string, el *stanza.Element) *frameError {
	if depth > r.lim.MaxDepth {
		return &frameError{kind: ErrLimit, detail: "elements nested deeper than " + strconv.Itoa(r.lim.MaxDepth)}
	}
	h, err := r.byte()
	if err != nil {
		return err
	}
	name, err := r.str(true)
	if err != nil {
		return err
	}
	space := parentNS
	if h&hNS != 0 {
		if space, err = r.str(true); err != nil {
			return err
		}
	}
	na, nk := int(h>>hAttrShft&hCountMax), int(h>>hKidShft)
	if na == hCountMax {
		x, err := r.uvarint()
		if err != nil {
			return err
		}
		na += x
	}
	if nk == hCountMax {
		x, err := r.uvarint()
		if err != nil {
			return err
		}
		nk += x
	}
	if na > r.lim.MaxAttrs {
		return &frameError{kind: ErrLimit, detail: strconv.Itoa(na) + " attributes, more than " + strconv.Itoa(r.lim.MaxAttrs)}
	}
	// Every attribute takes two bytes at least, every element two.
	if 2*(na+nk) > len(r.b)-r.p {
		return malformed("more attributes or children than the frame holds")
	}
	if el != nil {
		el.Space, el.Name = space, name
		if na > 0 {
			el.Attrs = r.ats[r.nAt : r.nAt+na : r.nAt+na]
			r.nAt += na
		}
	} else {
		r.nAt += na
	}
	for i := range na {
		if err := r.attr(el, i); err != nil {
			return err
		}
	}
	if h&hText != 0 {
		text, err := r.str(true)
		if err != nil {
			return err
		}
		if el != nil {
			el.Text = text
		}
	}
	if el == nil {
		r.nEl += nk
		for range nk {
			if err := r.element(depth+1, "", nil); err != nil {
				return err
			}
		}
		return nil
	}
	if nk > 0 {
		el.Children = r.kids[r.nKid : r.nKid+nk : r.nKid+nk]
		r.nKid += nk
		for i := range nk {
			c := &r.els[r.nEl]
			r.nEl++
			el.Children[i] = c
			if err := r.element(depth+1, space, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// attr decodes attribute i of el (nil in pass 1).
func (r *frameReader) attr(el *stanza.Element, i int) *frameError {
	if r.p >= len(r.b) {
		return errTruncated
	}
	var a stanza.Attr
	var err *frameError
	switch r.b[r.p] {
	case tagXMLLang:
		r.p++
		a.Space, a.Name = stanza.NSXML, "lang"
	case tagQName:
		r.p++
		if a.Space, err = r.str(true); err != nil {
			return err
		}
		if a.Name, err = r.str(true); err != nil {
			return err
		}
	default:
		if a.Name, err = r.str(true); err != nil {
			return err
		}
	}
	if a.Value, err = r.str(true); err != nil {
		return err
	}
	if el != nil {
		el.Attrs[i] = a
	}
	return nil
}

// str decodes one string slot. Dictionary and preamble strings are shared;
// other forms are written to the stanza's string buffer (pass 2) or counted
// (pass 1). jidOK is false inside a JID.
func (r *frameReader) str(jidOK bool) (string, *frameError) {
	tag, err := r.byte()
	if err != nil {
		return "", err
	}
	switch {
	case tag == tagEmpty:
		return "", nil
	case tag <= onePageTokens:
		return r.token(int(tag) - 1)
	case tag >= tagStream0 && tag < tagStream0+maxStreamStrings:
		i := int(tag - tagStream0)
		if i >= len(r.strs) {
			return "", malformed("preamble string " + strconv.Itoa(i) + " not declared")
		}
		return r.strs[i], nil
	case tag >= tagPage0 && tag < tagPage0+pages:
		lo, err := r.byte()
		if err != nil {
			return "", err
		}
		return r.token(onePageTokens + int(tag-tagPage0)*pageTokens + int(lo))
	case tag == tagJID && !jidOK:
		return "", malformed("JID inside a JID")
	}
	start := r.sb.Len()
	if err := r.packed(tag); err != nil {
		return "", err
	}
	if !r.build {
		return "", nil
	}
	return r.sb.String()[start:], nil
}

func (r *frameReader) token(i int) (string, *frameError) {
	if i >= r.dict.Len() {
		return "", malformed("token " + strconv.Itoa(i) + " not in dictionary v" + strconv.Itoa(r.dict.Version()))
	}
	return r.dict.tokens[i], nil
}

// packed decodes a string in one of the forms that are copied into the
// string buffer, tag already read.
func (r *frameReader) packed(tag byte) *frameError {
	switch tag {
	case tagLiteral:
		n, err := r.uvarint()
		if err != nil {
			return err
		}
		if n > len(r.b)-r.p {
			return errTruncated
		}
		if err := r.grow(n); err != nil {
			return err
		}
		if r.build {
			r.sb.Write(r.b[r.p : r.p+n])
		}
		r.p += n
		return nil
	case tagNumber:
		return r.nibbles(numAlphabet)
	case tagHexLow:
		return r.nibbles(hexLowAlphabet)
	case tagHexUp:
		return r.nibbles(hexUpAlphabet)
	case tagUUID, tagUUIDUp:
		return r.uuid(tag == tagUUIDUp)
	case tagBase64:
		return r.base64()
	case tagJID:
		return r.jid()
	}
	if tag == tagQName || tag == tagXMLLang {
		return malformed("attribute name tag 0x" + strconv.FormatUint(uint64(tag), 16) + " outside an attribute name")
	}
	return malformed("unknown tag 0x" + strconv.FormatUint(uint64(tag), 16))
}

// grow counts n more string bytes against the limit.
func (r *frameReader) grow(n int) *frameError {
	if r.build {
		return nil
	}
	r.nStr += n
	if r.nStr > r.lim.MaxStringBytes {
		return &frameError{kind: ErrLimit, detail: "decoded strings over " + strconv.Itoa(r.lim.MaxStringBytes) + " bytes"}
	}
	return nil
}

// nibbles decodes a packed string over alphabet. The number alphabet uses
// all 16 nibbles; the hex ones too, so there is no invalid nibble, only a
// non-zero pad.
func (r *frameReader) nibbles(alphabet string) *frameError {
	n, err := r.uvarint()
	if err != nil {
		return err
	}
	if n == 0 {
		return malformed("empty packed string")
	}
	size := (n + 1) / 2
	if size > len(r.b)-r.p {
		return errTruncated
	}
	src := r.b[r.p : r.p+size]
	if n%2 == 1 && src[size-1]&0xF != 0 {
		return malformed("non-zero pad nibble")
	}
	if err := r.grow(n); err != nil {
		return err
	}
	r.p += size
	if !r.build {
		return nil
	}
	var buf [128]byte
	k := 0
	for i, c := range src {
		buf[k] = alphabet[c>>4]
		k++
		if 2*i+1 < n {
			buf[k] = alphabet[c&0xF]
			k++
		}
		if k >= len(buf)-1 {
			r.sb.Write(buf[:k])
			k = 0
		}
	}
	r.sb.Write(buf[:k])
	return nil
}

func (r *frameReader) uuid(upper bool) *frameError {
	if len(r.b)-r.p < 16 {
		return errTruncated
	}
	if err := r.grow(36); err != nil {
		return err
	}
	src := r.b[r.p : r.p+16]
	r.p += 16
	if !r.build {
		return nil
	}
	alphabet := hexLowAlphabet
	if upper {
		alphabet = hexUpAlphabet
	}
	var buf [36]byte
	k := 0
	for i, c := range src {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf[k] = '-'
			k++
		}
		buf[k], buf[k+1] = alphabet[c>>4], alphabet[c&0xF]
		k += 2
	}
	r.sb.Write(buf[:])
	return nil
}

func (r *frameReader) base64() *frameError {
	n, err := r.uvarint()
	if err != nil {
		return err
	}
	if n == 0 {
		return malformed("empty base64 string")
	}
	if n > len(r.b)-r.p {
		return errTruncated
	}
	if err := r.grow(base64Encoded(n)); err != nil {
		return err
	}
	src := r.b[r.p : r.p+n]
	r.p += n
	if !r.build {
		return nil
	}
	var buf [64]byte // 48 source bytes at a time
	for len(src) > 48 {
		base64.StdEncoding.Encode(buf[:], src[:48])
		r.sb.Write(buf[:])
		src = src[48:]
	}
	m := base64.StdEncoding.EncodedLen(len(src))
	base64.StdEncoding.Encode(buf[:m], src)
	r.sb.Write(buf[:m])
	return nil
}

// jid decodes the three parts of a JID into one string. An empty local or
// resource slot (tagEmpty) means the part and its separator are absent.
func (r *frameReader) jid() *frameError {
	if r.present() {
		if err := r.part(); err != nil {
			return err
		}
		if err := r.sep('@'); err != nil {
			return err
		}
	}
	if !r.present() {
		return malformed("JID without a domain")
	}
	if err := r.part(); err != nil {
		return err
	}
	if r.present() {
		if err := r.sep('/'); err != nil {
			return err
		}
		return r.part()
	}
	return nil
}

// present reports whether a JID part follows, skipping an empty slot.
func (r *frameReader) present() bool {
	if r.p < len(r.b) && r.b[r.p] == tagEmpty {
		r.p++
		return false
	}
	return true
}

// part decodes one JID part into the string buffer, copying dictionary and
// preamble strings too.
func (r *frameReader) part() *frameError {
	if r.p >= len(r.b) {
		return errTruncated
	}
	tag := r.b[r.p]
	shared := tag <= onePageTokens || tag >= tagStream0 && tag < tagStream0+maxStreamStrings || tag >= tagPage0 && tag < tagPage0+pages
	s, err := r.str(false)
	if err != nil || !shared {
		return err
	}
	if err := r.grow(len(s)); err != nil {
		return err
	}
	if r.build {
		r.sb.WriteString(s)
	}
	return nil
}

func (r *frameReader) sep(c byte) *frameError {
	if err := r.grow(1); err != nil {
		return err
	}
	if r.build {
		r.sb.WriteByte(c)
	}
	return nil
}
