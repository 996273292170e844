package stanza

// Namespaces Parley understands. Features keep their own namespace constants
// next to their code when no other package needs them; the ones here are
// shared by the codecs, the session and several features.
const (
	NSXML                = "http://www.w3.org/XML/1998/namespace"
	NSClient             = "jabber:client"
	NSStream             = "http://etherx.jabber.org/streams"
	NSFraming            = "urn:ietf:params:xml:ns:xmpp-framing" // RFC 7395
	NSStreamErr          = "urn:ietf:params:xml:ns:xmpp-streams"
	NSStanzaErr          = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSTLS                = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL               = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSSASLChannelBinding = "urn:xmpp:sasl-cb:0" // XEP-0440
	NSSASL2              = "urn:xmpp:sasl:2"    // XEP-0388
	NSBind2              = "urn:xmpp:bind:0"    // XEP-0386
	NSBind               = "urn:ietf:params:xml:ns:xmpp-bind"
	NSSession            = "urn:ietf:params:xml:ns:xmpp-session"
	NSSM                 = "urn:xmpp:sm:3"    // XEP-0198
	NSRoster             = "jabber:iq:roster" // RFC 6121
	NSRosterVer          = "urn:xmpp:features:rosterver"
	NSPreApproval        = "urn:xmpp:features:pre-approval"
	NSDiscoInfo          = "http://jabber.org/protocol/disco#info"
	NSDiscoItems         = "http://jabber.org/protocol/disco#items"
	NSVersion            = "jabber:iq:version"  // XEP-0092
	NSPing               = "urn:xmpp:ping"      // XEP-0199
	NSLast               = "jabber:iq:last"     // XEP-0012
	NSRegister           = "jabber:iq:register" // XEP-0077
	NSRegisterFeature    = "http://jabber.org/features/iq-register"
	NSDelay              = "urn:xmpp:delay"                        // XEP-0203
	NSSID                = "urn:xmpp:sid:0"                        // XEP-0359
	NSReceipts           = "urn:xmpp:receipts"                     // XEP-0184
	NSMarkers            = "urn:xmpp:chat-markers:0"               // XEP-0333
	NSChatStates         = "http://jabber.org/protocol/chatstates" // XEP-0085
	NSHints              = "urn:xmpp:hints"                        // XEP-0334
	NSOffline            = "msgoffline"                            // XEP-0160 disco feature
	NSJingleMessage      = "urn:xmpp:jingle-message:0"             // XEP-0353 call proposals
	// NSParley qualifies Parley's own protocol extensions (server acks,
	// offline preview, multi-id receipts): docs/protocol/binary.md.
	NSParley = "urn:parley:0"
)

// Stanza kinds: the local names of the three top-level stanzas.
const (
	KindMessage  = "message"
	KindPresence = "presence"
	KindIQ       = "iq"
)
