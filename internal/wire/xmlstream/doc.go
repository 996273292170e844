// Package xmlstream is Parley's XML codec for XMPP streams: an incremental
// push parser for the XML subset RFC 6120 section 11 allows, and a serializer
// for stanza.Element trees. It does not use encoding/xml.
//
// # Parsing
//
// The connection code owns the socket. It hands the Parser whatever bytes
// arrived (Feed, which copies them) and then calls Next until it returns
// ErrNeedMore. Next never blocks and never reads: it returns a StreamStart
// token as soon as the <stream:stream> start tag is complete, a Stanza token
// for every complete child of the stream element (message, presence, iq, but
// also <starttls/>, <auth/>, <r/>, <stream:features/>, ...), and StreamEnd
// for </stream:stream>. White space between stanzas (keep-alives) yields
// nothing. Reset makes the parser expect a new stream header and drops any
// buffered input; the connection calls it after STARTTLS and after SASL
// success (RFC 6120 sections 5.4.3.3 and 6.4.6).
//
// For RFC 7395 (XMPP over WebSocket), where each message is one complete
// element, ParseElement parses a single element without a Parser.
//
// # State machine
//
// The lexer is a byte-level state machine (see type state in lex.go) whose
// state survives between Feed calls, so bytes may arrive split anywhere: in a
// name, an attribute value, an entity reference or a UTF-8 sequence. Each
// state consumes as much input as it can in one tight loop; only units too
// short to decide on (a partial UTF-8 sequence, entity reference or
// "<![CDATA[", a few dozen bytes at most) are left unconsumed and looked at
// again when more input comes. Names split across Feed calls are accumulated,
// never rescanned.
//
//	prolog --'<'--> LT --name--> start tag (name, attributes) --'>'--> header: StreamStart
//	between stanzas --'<'--> LT --name--> start tag --'>'--> content <--> nested tags
//	                                                  content --end tag at depth 0--> Stanza
//	between stanzas --"</"--> end tag --'>'--> StreamEnd, done
//
// While a stanza is read its strings (names that are not common, attribute
// values, text) are appended to one scratch buffer and its elements and
// attributes are recorded as offsets; common names and namespaces
// ("message", "body", "jabber:client", ...) are interned instead of copied.
// When the stanza's end tag arrives the tree is built with four allocations
// whatever its size: one string for all its text, one slice of elements, one
// of attributes and one of child pointers. Consequently any string or child
// element a caller keeps from a stanza keeps the whole stanza's memory alive;
// copy it (strings.Clone, Element.Copy) to keep a small part of a large
// stanza for long.
//
// When Next returns ErrNeedMore and no partial token is held (Buffered
// returns 0), the parser drops its input and scratch buffers, so an idle
// connection's parser holds only its fixed state and the stream header's
// namespace declarations.
//
// # XML rules
//
// Names are namespace-resolved: Element.Space is the namespace URI and Name
// the local name; declarations are not kept in Attrs; xml:lang is
// Attr{Space: stanza.NSXML, Name: "lang"}. A stanza without a default
// namespace gets the stream's (jabber:client; if the header declares none,
// jabber:client too, and StreamHeader.DefaultNS is "" so the caller can
// refuse it). An element's Text is all its character data concatenated
// (entity and character references and CDATA sections decoded, line ends
// and attribute white space normalized as XML 1.0 requires); white-space-only
// text in an element that has child elements is dropped.
//
// Errors are *stanza.StreamError values with the RFC 6120 condition:
// restricted-xml for comments, processing instructions, DTDs and undefined
// entities; not-well-formed for syntax errors, invalid UTF-8, characters XML
// does not allow, mismatched tags, duplicate attributes and text outside
// stanzas; bad-namespace-prefix for an unbound prefix; invalid-namespace for
// a root that is not stream:stream in the streams namespace;
// unsupported-encoding for an XML declaration naming another encoding than
// UTF-8; policy-violation when a limit is exceeded. After an error the Parser
// is dead and returns that error forever.
//
// # Limits
//
// Limits.MaxStanzaBytes bounds the bytes of one top-level element (and of
// the stream header); it is enforced as bytes are consumed, so a peer cannot
// make the parser buffer more than the limit plus one Feed. MaxDepth bounds
// element nesting below the stream element (a stanza is at depth 1) and
// MaxAttrs the attributes of one element, namespace declarations included.
//
// # Serializing
//
// AppendStreamHeader, AppendElement and AppendStreamEnd append to a byte
// slice. AppendElement's output parses back to a stanza.Equal tree (the
// package's round-trip and fuzz tests check this).
//
// # Concurrency
//
// A Parser is owned by one goroutine: none of its methods may be called
// concurrently. Elements returned by Next belong to the caller and share no
// memory with the Parser. The Append functions and ParseElement are safe for
// concurrent use, and so is a ScratchPool, which a server shares among its
// parsers: a pooled parser (NewPooledParser) borrows its per-stanza working
// memory only while it holds input, and a stream between stanzas can be
// parked (Parser.Park: a ParkedStream of a few words instead of the Parser)
// and resumed when bytes come. The package has no mutable package-level
// state.
package xmlstream
