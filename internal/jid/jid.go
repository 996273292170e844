package jid

import (
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// ErrMalformed is returned (wrapped) for an address that is not a valid JID.
var ErrMalformed = errors.New("jid: malformed address")

// maxPart is the largest size of each part in bytes (RFC 7622 section 3).
const maxPart = 1023

// JID is a parsed, normalized XMPP address. The zero value is the empty
// address. JIDs are small values: copy them freely.
//
// A JID holds its canonical form, with where the domainpart starts and
// ends in it: String returns it, and Bare and the parts are substrings of
// it, so that none of them allocates (the address of every routed stanza
// is rendered several times: its "from", its queue's key, the lookups of
// the blocking and privacy lists). Equal addresses have equal fields, so
// == and map keys work as on the parts.
type JID struct {
	full string
	// dom is where the domainpart starts in full (0 without a
	// localpart), end where it ends (len(full) without a resourcepart).
	dom, end int32
}

// New builds a JID from its parts, normalizing each one.
func New(local, domain, resource string) (JID, error) {
	l, d, r, err := normalizeParts(local, domain, resource)
	if err != nil {
		return JID{}, err
	}
	return join(l, d, r), nil
}

// normalizeParts normalizes the three parts of an address.
func normalizeParts(local, domain, resource string) (l, d, r string, err error) {
	if l, err = normalizeLocal(local); err != nil {
		return "", "", "", err
	}
	if d, err = normalizeDomain(domain); err != nil {
		return "", "", "", err
	}
	if r, err = normalizeResource(resource); err != nil {
		return "", "", "", err
	}
	return l, d, r, nil
}

// join builds the JID of normalized parts (the zero JID without a
// domainpart, as before it had one).
func join(local, domain, resource string) JID {
	if domain == "" {
		return JID{}
	}
	n := len(domain)
	if local != "" {
		n += len(local) + 1
	}
	if resource != "" {
		n += len(resource) + 1
	}
	var b strings.Builder
	b.Grow(n)
	if local != "" {
		b.WriteString(local)
		b.WriteByte('@')
	}
	b.WriteString(domain)
	if resource != "" {
		b.WriteByte('/')
		b.WriteString(resource)
	}
	return at(b.String(), local, domain)
}

// at is the JID whose canonical form is full, made of local, domain and
// (after them) a resource.
func at(full, local, domain string) JID {
	dom := 0
	if local != "" {
		dom = len(local) + 1
	}
	return JID{full: full, dom: int32(dom), end: int32(dom + len(domain))}
}

// Parse parses and normalizes "local@domain/resource" (local and resource optional).
func Parse(s string) (JID, error) {
	if s == "" {
		return JID{}, errWrap("empty address")
	}
	var local, domain, resource string
	rest := s
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		resource = rest[i+1:]
		if resource == "" {
			return JID{}, errWrap("empty resource")
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		local = rest[:i]
		if local == "" {
			return JID{}, errWrap("empty localpart")
		}
		rest = rest[i+1:]
	}
	domain = rest
	l, d, r, err := normalizeParts(local, domain, resource)
	if err != nil {
		return JID{}, err
	}
	if l == local && d == domain && r == resource {
		return at(s, l, d), nil // already canonical: s is the JID's form
	}
	return join(l, d, r), nil
}

// MustParse is Parse for constants in tests and setup code; it panics on error.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// Local returns the localpart ("alice" in alice@example.org/phone).
func (j JID) Local() string {
	if j.dom == 0 {
		return ""
	}
	return j.full[:j.dom-1]
}

// Domain returns the domainpart.
func (j JID) Domain() string { return j.full[j.dom:j.end] }

// Resource returns the resourcepart.
func (j JID) Resource() string {
	if int(j.end) == len(j.full) {
		return ""
	}
	return j.full[j.end+1:]
}

// IsZero reports whether j is the empty address.
func (j JID) IsZero() bool { return j.full == "" }

// IsBare reports whether j has no resource.
func (j JID) IsBare() bool { return int(j.end) == len(j.full) }

// Bare returns j without its resource.
func (j JID) Bare() JID { return JID{full: j.full[:j.end], dom: j.dom, end: j.end} }

// WithResource returns j with the given (already validated) resource.
func (j JID) WithResource(resource string) (JID, error) {
	r, err := normalizeResource(resource)
	if err != nil {
		return JID{}, err
	}
	return join(j.Local(), j.Domain(), r), nil
}

// String renders the address in its canonical form.
func (j JID) String() string { return j.full }

// AppendBare appends the canonical form of j's bare address to dst: a
// lookup by bare address (the registry's, on every routed stanza) builds
// its key in a stack buffer instead of allocating a string.
func (j JID) AppendBare(dst []byte) []byte { return append(dst, j.full[:j.end]...) }

func errWrap(reason string) error {
	return &malformedError{reason: reason}
}

type malformedError struct{ reason string }

func (e *malformedError) Error() string { return "jid: " + e.reason }
func (e *malformedError) Unwrap() error { return ErrMalformed }

// isSimpleASCII reports whether s holds only the ASCII characters for which
// PRECIS normalization is just lower-casing (letters, digits, and . _ -).
func isSimpleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// isPrintableASCII reports whether s holds only printable ASCII other than
// space (0x21 to 0x7E): PRECIS's OpaqueString leaves such a string as it
// is (all of ASCII7 is valid in the FreeformClass, nothing is mapped, NFC
// changes nothing), so a resourcepart like a MUC nickname "bob@example.com"
// needs no PRECIS pass.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func normalizeLocal(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxPart {
		return "", errWrap("localpart too long")
	}
	if isSimpleASCII(s) {
		return lowerASCII(s), nil
	}
	if strings.ContainsAny(s, "\"&'/:<>@") {
		return "", errWrap("localpart has a forbidden character")
	}
	out, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", errWrap("localpart: " + err.Error())
	}
	return out, nil
}

func normalizeDomain(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", errWrap("empty domainpart")
	}
	if len(s) > maxPart {
		return "", errWrap("domainpart too long")
	}
	if isSimpleASCII(s) {
		if strings.Contains(s, "..") || s[0] == '.' {
			return "", errWrap("domainpart has an empty label")
		}
		return lowerASCII(s), nil
	}
	if s[0] == '[' { // IPv6 literal
		if s[len(s)-1] != ']' {
			return "", errWrap("bad IPv6 literal")
		}
		return s, nil
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, " @/\"&'<>") {
		return "", errWrap("domainpart has a forbidden character")
	}
	out, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", errWrap("domainpart: " + err.Error())
	}
	return out, nil
}

func normalizeResource(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxPart {
		return "", errWrap("resourcepart too long")
	}
	if isPrintableASCII(s) {
		return s, nil
	}
	out, err := precis.OpaqueString.String(s)
	if err != nil {
		return "", errWrap("resourcepart: " + err.Error())
	}
	return out, nil
}
