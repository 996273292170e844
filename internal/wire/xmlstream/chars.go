package xmlstream

import "github.com/parley-im/parley/internal/stanza"

// Byte classes used by the lexer's inner loops. A byte with the "plain" bit of
// the current context is copied verbatim; anything else takes the slow path.
const (
	cTextPlain  = 1 << iota // character data: copied as is (not < & ] > \r, ASCII, allowed)
	cAttrPlain              // attribute value: copied as is (not < & quotes \t \n \r)
	cCDATAPlain             // CDATA section: copied as is (not ] \r)
	cNameStart              // ASCII NameStartChar (':' included; QNames are split later)
	cName                   // ASCII NameChar
	cSpace                  // XML white space (S production)
	cNonSpace               // anything but white space
)

// charClass classifies ASCII bytes; bytes >= 0x80 have class 0 (UTF-8 path).
var charClass = func() (t [256]uint8) {
	for c := 0; c < 0x80; c++ {
		b := byte(c)
		var cl uint8
		if c >= 0x20 {
			cl |= cTextPlain | cAttrPlain | cCDATAPlain
		}
		switch b {
		case '<', '&', ']', '>':
			cl &^= cTextPlain
		}
		switch b {
		case '<', '&', '"', '\'':
			cl &^= cAttrPlain
		}
		if b == ']' {
			cl &^= cCDATAPlain
		}
		if b == '\t' || b == '\n' {
			cl |= cTextPlain | cCDATAPlain
		}
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b == '_', b == ':':
			cl |= cNameStart | cName
		case b >= '0' && b <= '9', b == '-', b == '.':
			cl |= cName
		}
		if b == ' ' || b == '\t' || b == '\n' || b == '\r' {
			cl |= cSpace
		} else {
			cl |= cNonSpace
		}
		t[c] = cl
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = cNonSpace
	}
	return t
}()

func isSpace(c byte) bool { return charClass[c]&cSpace != 0 }

// isXMLChar reports whether r is allowed in an XML 1.0 document (Char
// production). Surrogates never get here: utf8.DecodeRune rejects them.
func isXMLChar(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// isNameRune reports whether the non-ASCII rune r may appear in a name
// (XML 1.0 fifth edition NameStartChar / NameChar).
func isNameRune(r rune, first bool) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	if first {
		return false
	}
	return r == 0xB7 || (r >= 0x300 && r <= 0x36F) || (r >= 0x203F && r <= 0x2040)
}

// nsXMLNS is the namespace of namespace declarations; no prefix may be bound
// to it.
const nsXMLNS = "http://www.w3.org/2000/xmlns/"

// internList holds the names, namespaces and header values that are common
// enough that the parser returns a shared string instead of copying bytes.
var internList = [...]string{
	// namespaces
	stanza.NSXML, stanza.NSClient, stanza.NSStream, stanza.NSFraming, stanza.NSStreamErr,
	stanza.NSStanzaErr, stanza.NSTLS, stanza.NSSASL, stanza.NSBind, stanza.NSSession, stanza.NSSM,
	stanza.NSRoster, stanza.NSRosterVer, stanza.NSPreApproval, stanza.NSDiscoInfo, stanza.NSDiscoItems,
	stanza.NSVersion, stanza.NSPing, stanza.NSLast, stanza.NSRegister, stanza.NSRegisterFeature,
	stanza.NSDelay, stanza.NSSID, stanza.NSReceipts, stanza.NSMarkers, stanza.NSChatStates,
	stanza.NSHints, "jabber:server", "http://jabber.org/protocol/caps", "jabber:x:data",
	"urn:xmpp:carbons:2", "urn:xmpp:forward:0", "urn:xmpp:mam:2", "vcard-temp", "urn:xmpp:csi:0",
	"urn:xmpp:blocking", "http://jabber.org/protocol/muc", "http://jabber.org/protocol/muc#user",
	"urn:xmpp:push:0", "http://jabber.org/protocol/rsm", "jabber:iq:private", "jabber:x:oob",
	"urn:xmpp:idle:1", "urn:xmpp:jingle:1", "urn:xmpp:jingle-message:0", "urn:xmpp:http:upload:0",
	"urn:xmpp:omemo:2", "eu.siacs.conversations.axolotl", "urn:xmpp:eme:0", "urn:xmpp:reply:0",
	"urn:xmpp:message-correct:0", "urn:xmpp:reactions:0", "urn:xmpp:avatar:metadata",
	"http://jabber.org/protocol/pubsub", "http://jabber.org/protocol/pubsub#event",
	"urn:xmpp:sasl:2", "urn:xmpp:bind:0", "urn:xmpp:time", "jabber:iq:auth",
	// element names
	"stream", "features", "error", "message", "presence", "iq", "body", "subject", "thread",
	"show", "status", "priority", "query", "item", "group", "x", "c", "delay", "request",
	"received", "origin-id", "stanza-id", "active", "composing", "paused", "inactive", "gone",
	"markable", "displayed", "acknowledged", "r", "a", "enable", "enabled", "resume", "resumed",
	"failed", "starttls", "required", "proceed", "auth", "success", "failure", "challenge",
	"response", "abort", "mechanisms", "mechanism", "bind", "jid", "resource", "session",
	"optional", "ping", "identity", "feature", "no-store", "store", "no-copy", "no-permanent-store",
	"private", "sent", "forwarded", "result", "fin", "set", "first", "last", "count", "before",
	"after", "max", "open", "close", "ver", "sm", "sub", "register", "text", "blocklist", "block",
	"unblock", "nick", "photo", "vCard", "field", "value", "option", "instructions", "title",
	"reported", "data", "encrypted", "header", "key", "keys", "payload", "encryption", "store-hint",
	"reply", "replace", "reactions", "reaction", "fallback", "slot", "put", "get", "url",
	"propose", "proceed", "accept", "reject", "retract", "finish", "description", "jingle",
	"idle", "time", "tzo", "utc", "name", "version", "os", "seconds", "pubsub", "event", "items",
	"publish", "publish-options", "password", "username", "remove", "instant", "csi",
	"bad-request", "conflict", "feature-not-implemented", "forbidden", "item-not-found",
	"not-acceptable", "not-allowed", "not-authorized", "policy-violation",
	"recipient-unavailable", "service-unavailable", "undefined-condition", "unexpected-request",
	"internal-server-error", "resource-constraint", "not-well-formed", "restricted-xml",
	"host-unknown", "invalid-namespace", "system-shutdown", "connection-timeout",
	"unsupported-version", "bad-format", "invalid-xml", "temporary-auth-failure",
	"invalid-mechanism", "malformed-request", "aborted", "account-disabled", "credentials-expired",
	"encryption-required", "incorrect-encoding", "invalid-authzid", "mechanism-too-weak",
	// attribute names and header values
	"xml", "xmlns", "lang", "to", "from", "id", "type", "h", "node", "hash", "ext", "subscription",
	"ask", "category", "var", "stamp", "by", "code", "location", "previd", "label", "xmlns:stream",
	"1.0", "en", "chat", "normal", "groupchat", "headline", "result", "unavailable", "subscribe",
	"subscribed", "unsubscribe", "unsubscribed", "probe", "sha-1", "urn:xmpp:sid:0", "rid", "sid",
}

// internTable is an open-addressing hash table over internList (constant
// after package initialization).
var internTable = func() (t [1024]int16) {
	for i := range t {
		t[i] = -1
	}
	for i, s := range internList {
		h := internHash([]byte(s))
		for {
			if t[h] < 0 {
				t[h] = int16(i)
				break
			}
			if internList[t[h]] == s {
				break // duplicate in the list: keep the first
			}
			h = (h + 1) & (len(t) - 1)
		}
	}
	return t
}()

// internHash mixes the length and three bytes of b: cheap, and enough to
// tell the listed strings apart (most probes end at the first slot).
func internHash(b []byte) int {
	n := len(b)
	h := uint32(n) ^ uint32(b[0])<<8 ^ uint32(b[n-1])<<16 ^ uint32(b[n/2])<<24 ^ uint32(b[n*3/4])<<4
	return int((h * 0x9E3779B1) >> 22)
}

// intern returns the index in internList of the string equal to b, or -1.
func intern(b []byte) int {
	if len(b) == 0 || len(b) > 64 {
		return -1
	}
	for h := internHash(b); ; h = (h + 1) & 1023 {
		i := internTable[h]
		if i < 0 {
			return -1
		}
		if internList[i] == string(b) {
			return int(i)
		}
	}
}

// mustIntern is intern for strings known to be in the list.
func mustIntern(s string) int32 {
	i := intern([]byte(s))
	if i < 0 {
		panic("xmlstream: " + s + " missing from internList") // programming error, at init only
	}
	return int32(i)
}

// idxNSXML is the interned index of the XML namespace, which the xml prefix
// is always bound to.
var idxNSXML = mustIntern(stanza.NSXML)
