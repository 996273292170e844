package binary

import (
	"encoding/base64"
	"strings"
)

// String tags: the first byte of every string slot (element name,
// namespace, attribute name and value, text). See docs/protocol/binary.md.
const (
	tagEmpty   = 0x00 // ""
	tagStream0 = 0xD0 // 0xD0..0xDF: string i of the sender's preamble
	tagPage0   = 0xE0 // 0xE0..0xE3: two-byte token, page tag-0xE0
	tagLiteral = 0xF0 // uvarint byte length, bytes
	tagNumber  = 0xF1 // uvarint char count, nibbles over numAlphabet
	tagHexLow  = 0xF2 // uvarint char count, nibbles over "0-9a-f"
	tagHexUp   = 0xF3 // uvarint char count, nibbles over "0-9A-F"
	tagUUID    = 0xF4 // 16 bytes: lowercase 8-4-4-4-12 UUID text
	tagUUIDUp  = 0xF5 // 16 bytes: uppercase UUID text
	tagBase64  = 0xF6 // uvarint byte length, bytes: canonical padded standard base64 text
	tagJID     = 0xF7 // local, domain, resource slots (local and resource may be empty)
	tagQName   = 0xF8 // attribute names only: namespace slot, local name slot
	tagXMLLang = 0xF9 // attribute names only: xml:lang
)

const maxStreamStrings = 16 // tags 0xD0..0xDF

// Nibble alphabets. A packed string of n characters takes (n+1)/2 bytes,
// high nibble first; when n is odd the last low nibble is 0.
const (
	numAlphabet    = "0123456789-.:+TZ" // decimal numbers, dates and times (XEP-0082), versions, phone numbers
	hexLowAlphabet = "0123456789abcdef"
	hexUpAlphabet  = "0123456789ABCDEF"
	b64Alphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// Character classes (bits of charTables.class).
const (
	cNum    = 1 << iota // in numAlphabet
	cHexLow             // in hexLowAlphabet
	cHexUp              // in hexUpAlphabet
	cB64                // in b64Alphabet
	cNoJID              // white space or a control character: never part of a JID we pack
)

// charTables are the byte classification tables, computed once and never
// modified.
type charTables struct {
	class  [256]uint8
	num    [256]uint8 // nibble of a numAlphabet byte
	hex    [256]uint8 // nibble of a hex digit (either case)
	b64val [256]uint8 // 6-bit value of a base64 byte
}

var tables = func() *charTables {
	t := new(charTables)
	for i := range 0x21 {
		t.class[i] |= cNoJID
	}
	t.class[0x7F] |= cNoJID
	for i := range 16 {
		c := numAlphabet[i]
		t.class[c] |= cNum
		t.num[c] = uint8(i)
		t.class[hexLowAlphabet[i]] |= cHexLow
		t.hex[hexLowAlphabet[i]] = uint8(i)
		t.class[hexUpAlphabet[i]] |= cHexUp
		t.hex[hexUpAlphabet[i]] = uint8(i)
	}
	for i := range 64 {
		t.class[b64Alphabet[i]] |= cB64
		t.b64val[b64Alphabet[i]] = uint8(i)
	}
	return t
}()

// appendUvarint appends x as an unsigned LEB128 varint.
func appendUvarint(dst []byte, x uint64) []byte {
	for x >= 0x80 {
		dst = append(dst, byte(x)|0x80)
		x >>= 7
	}
	return append(dst, byte(x))
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// isUUID returns 0 when s is a canonical 8-4-4-4-12 UUID in lowercase
// hex, 1 in uppercase, -1 otherwise (mixed case included).
func isUUID(s string) int {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return -1
	}
	cls := uint8(cHexLow | cHexUp)
	for i := range 36 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		cls &= tables.class[s[i]]
	}
	switch {
	case cls&cHexLow != 0:
		return 0
	case cls&cHexUp != 0:
		return 1
	}
	return -1
}

// base64Len returns the number of bytes s decodes to when s is canonical
// padded standard base64 (the form base64.StdEncoding writes), or -1.
func base64Len(s string) int {
	n := len(s)
	if n < 4 || n%4 != 0 {
		return -1
	}
	pad := 0
	if s[n-1] == '=' {
		pad++
		if s[n-2] == '=' {
			pad++
		}
	}
	for i := range n - pad {
		if tables.class[s[i]]&cB64 == 0 {
			return -1
		}
	}
	// Canonical: the bits the padding leaves over are zero.
	switch pad {
	case 1:
		if tables.b64val[s[n-2]]&0x3 != 0 {
			return -1
		}
	case 2:
		if tables.b64val[s[n-3]]&0xF != 0 {
			return -1
		}
	}
	return n/4*3 - pad
}

// appendBase64Decoded appends the bytes of s, which base64Len accepted.
func appendBase64Decoded(dst []byte, s string) []byte {
	v := &tables.b64val
	n := len(s)
	for i := 0; i < n; i += 4 {
		a, b := uint32(v[s[i]]), uint32(v[s[i+1]])
		w := a<<18 | b<<12
		switch {
		case s[i+2] == '=':
			dst = append(dst, byte(w>>16))
		case s[i+3] == '=':
			w |= uint32(v[s[i+2]]) << 6
			dst = append(dst, byte(w>>16), byte(w>>8))
		default:
			w |= uint32(v[s[i+2]])<<6 | uint32(v[s[i+3]])
			dst = append(dst, byte(w>>16), byte(w>>8), byte(w))
		}
	}
	return dst
}

// appendNibbles appends s packed two characters a byte, with nib giving
// each character's nibble.
func appendNibbles(dst []byte, s string, nib *[256]uint8) []byte {
	n := len(s)
	for i := 0; i+1 < n; i += 2 {
		dst = append(dst, nib[s[i]]<<4|nib[s[i+1]])
	}
	if n%2 == 1 {
		dst = append(dst, nib[s[n-1]]<<4)
	}
	return dst
}

// splitJID splits s the way an XMPP address is read (RFC 7622): the
// resource is what follows the first '/', the localpart what precedes the
// first '@' before it. ok is false unless s has a separator, its parts are
// not empty, and s holds no white space or control character (text, not an
// address). The parts join back to exactly s: nothing is normalized.
func splitJID(s string) (local, domain, resource string, ok bool) {
	slash := strings.IndexByte(s, '/')
	rest := s
	if slash >= 0 {
		rest, resource = s[:slash], s[slash+1:]
		if resource == "" {
			return "", "", "", false
		}
	}
	at := strings.IndexByte(rest, '@')
	if at >= 0 {
		local, rest = rest[:at], rest[at+1:]
		if local == "" {
			return "", "", "", false
		}
	}
	if rest == "" || slash < 0 && at < 0 {
		return "", "", "", false
	}
	for i := 0; i < len(s); i++ {
		if tables.class[s[i]]&cNoJID != 0 {
			return "", "", "", false
		}
	}
	return local, rest, resource, true
}

// base64Encoded is the text length of n bytes in padded base64.
func base64Encoded(n int) int { return base64.StdEncoding.EncodedLen(n) }
