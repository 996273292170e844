package xmlstream

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/parley-im/parley/internal/stanza"
)

// AppendStreamHeader appends an XML declaration and the <stream:stream>
// start tag. Empty fields are left out; an empty DefaultNS means
// jabber:client.
func AppendStreamHeader(dst []byte, h StreamHeader) []byte {
	ns := h.DefaultNS
	if ns == "" {
		ns = stanza.NSClient
	}
	dst = append(dst, "<?xml version='1.0'?><stream:stream xmlns='"...)
	dst = appendAttrValue(dst, ns, '\'')
	dst = append(dst, "' xmlns:stream='"+stanza.NSStream+"'"...)
	dst = appendHeaderAttr(dst, "id", h.ID)
	dst = appendHeaderAttr(dst, "from", h.From)
	dst = appendHeaderAttr(dst, "to", h.To)
	dst = appendHeaderAttr(dst, "version", h.Version)
	dst = appendHeaderAttr(dst, "xml:lang", h.Lang)
	return append(dst, '>')
}

func appendHeaderAttr(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, "='"...)
	dst = appendAttrValue(dst, value, '\'')
	return append(dst, '\'')
}

// AppendStreamEnd appends </stream:stream>.
func AppendStreamEnd(dst []byte) []byte {
	return append(dst, "</stream:stream>"...)
}

// AppendElement appends e as XML. parentNS is the default namespace in scope
// where e is written: jabber:client inside a client stream (stanzas then need
// no xmlns, and elements in the streams namespace use the "stream" prefix the
// header declared), or "" for a standalone element such as an RFC 7395
// WebSocket message (every namespace is declared, "stream" included).
//
// Namespace declarations are written where an element's namespace differs
// from the default in scope; xml:* attributes keep the xml prefix; other
// qualified attributes get a generated prefix declared on their element.
// Text and attribute values are escaped so that the output parses back to an
// equal tree; characters XML cannot carry (invalid UTF-8, most control
// characters) are written as U+FFFD. Attributes named xmlns are skipped.
//
// A copy made for one of many recipients (e.Shared) is written from its
// Shared's template: the same bytes, the common part encoded once.
func AppendElement(dst []byte, e *stanza.Element, parentNS string) []byte {
	if out, ok := appendShared(dst, e, parentNS); ok {
		return out
	}
	if n := sizeHint(e); cap(dst)-len(dst) < n {
		dst = slices.Grow(dst, n) // one allocation instead of one per doubling
	}
	return appendElement(dst, e, parentNS, parentNS != "")
}

// sizeHint is about how many bytes e takes as XML, escaping aside (a
// namespace declaration is counted on every element: an overestimate).
func sizeHint(e *stanza.Element) int {
	n := 2*len(e.Name) + len(e.Space) + len(e.Text) + 14
	for i := range e.Attrs {
		n += len(e.Attrs[i].Name) + len(e.Attrs[i].Value) + 4
	}
	for _, c := range e.Children {
		if c != nil {
			n += sizeHint(c)
		}
	}
	return n
}

func appendElement(dst []byte, e *stanza.Element, defNS string, streamBound bool) []byte {
	dst = append(dst, '<')
	inStream := e.Space == stanza.NSStream
	if inStream {
		dst = append(dst, "stream:"...)
		dst = append(dst, e.Name...)
		if !streamBound {
			dst = append(dst, ` xmlns:stream="`+stanza.NSStream+`"`...)
			streamBound = true
		}
	} else {
		dst = append(dst, e.Name...)
		if e.Space != defNS {
			dst = append(dst, ` xmlns="`...)
			dst = appendAttrValue(dst, e.Space, '"')
			dst = append(dst, '"')
			defNS = e.Space
		}
	}
	for i := range e.Attrs {
		dst = appendAttr(dst, e.Attrs, i)
	}
	if e.Text == "" && len(e.Children) == 0 {
		return append(dst, "/>"...)
	}
	dst = append(dst, '>')
	dst = appendText(dst, e.Text)
	for _, c := range e.Children {
		if c != nil {
			dst = appendElement(dst, c, defNS, streamBound)
		}
	}
	dst = append(dst, "</"...)
	if inStream {
		dst = append(dst, "stream:"...)
	}
	dst = append(dst, e.Name...)
	return append(dst, '>')
}

// appendAttr appends attrs[i], with a prefix declaration if it is qualified
// by a namespace no earlier attribute of the element used.
func appendAttr(dst []byte, attrs []stanza.Attr, i int) []byte {
	a := &attrs[i]
	dst = append(dst, ' ')
	switch a.Space {
	case "":
		if a.Name == "xmlns" {
			return dst[:len(dst)-1]
		}
	case stanza.NSXML:
		dst = append(dst, "xml:"...)
	case nsXMLNS:
		return dst[:len(dst)-1]
	default:
		k := i
		for j := range i {
			if attrs[j].Space == a.Space {
				k = j
				break
			}
		}
		if k == i {
			dst = append(dst, "xmlns:ns"...)
			dst = strconv.AppendInt(dst, int64(i), 10)
			dst = append(dst, `="`...)
			dst = appendAttrValue(dst, a.Space, '"')
			dst = append(dst, `" `...)
		}
		dst = append(dst, "ns"...)
		dst = strconv.AppendInt(dst, int64(k), 10)
		dst = append(dst, ':')
	}
	dst = append(dst, a.Name...)
	dst = append(dst, `="`...)
	dst = appendAttrValue(dst, a.Value, '"')
	return append(dst, '"')
}

// textSafe marks ASCII bytes written as is in character data; attrSafe in
// attribute values (either quote is escaped by the caller's choice).
var textSafe, attrSafe = func() (t, a [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c], a[c] = true, true
	}
	t['\t'], t['\n'] = true, true
	t['&'], t['<'], t['>'] = false, false, false
	a['&'], a['<'], a['"'], a['\''] = false, false, false, false
	return t, a
}()

// appendText appends s escaped as character data.
func appendText(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if textSafe[c] {
			i++
			continue
		}
		var esc string
		n := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			if n = validRuneLen(s[i:]); n > 0 {
				i += n
				continue
			}
			esc, n = "\uFFFD", -n
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += n
		start = i
	}
	return append(dst, s[start:]...)
}

// appendAttrValue appends s escaped for an attribute value quoted by quote.
func appendAttrValue(dst []byte, s string, quote byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if attrSafe[c] || (c == '\'' || c == '"') && c != quote {
			i++
			continue
		}
		var esc string
		n := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if n = validRuneLen(s[i:]); n > 0 {
				i += n
				continue
			}
			esc, n = "\uFFFD", -n
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += n
		start = i
	}
	return append(dst, s[start:]...)
}

// validRuneLen returns the length of the XML character that starts s (which
// does not start with a safe ASCII byte), or minus the number of bytes to
// replace by U+FFFD when it is not one.
func validRuneLen(s string) int {
	if s[0] < utf8.RuneSelf {
		return -1 // a control character
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
		return -n
	}
	return n
}
