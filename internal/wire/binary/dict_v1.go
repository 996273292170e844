package binary

// tokensV1 is dictionary version 1. Its order is the wire format: entry i
// is written as the single byte i+1 for i < 207 and as a page tag followed
// by one byte after that (see Dictionary). The list is frozen: a later
// dictionary version may only append to it (testdata/dictionary-v1.txt
// pins every code, and TestDictionaryGolden fails if one moves).
//
// The first 207 entries, the one-byte tokens, are the strings of the
// stanzas a chat client sends and receives all day: stanza names and
// attributes, message and presence types, receipts, markers, chat states,
// stanza ids, delay, carbons, stream management and the roster.
var tokensV1 = [...]string{
	// 0x01: stanzas and their attributes
	"message", "presence", "iq", "id", "to", "from", "type", "body",
	"chat", "groupchat", "normal", "headline", "error", "get", "set", "result",
	"unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe",
	"show", "status", "priority", "away", "xa", "dnd", "subject", "thread", "parent",
	"en", "lang",
	// 0x22: the namespaces of everyday stanzas
	"jabber:client", "urn:xmpp:receipts", "urn:xmpp:chat-markers:0",
	"http://jabber.org/protocol/chatstates", "urn:xmpp:sid:0", "urn:xmpp:delay",
	"urn:xmpp:carbons:2", "urn:xmpp:forward:0", "urn:xmpp:hints", "urn:xmpp:sm:3",
	"jabber:iq:roster", "http://jabber.org/protocol/caps", "urn:xmpp:mam:2",
	"http://jabber.org/protocol/rsm", "http://jabber.org/protocol/disco#info",
	"http://jabber.org/protocol/disco#items", "urn:xmpp:ping", "jabber:x:data",
	"urn:ietf:params:xml:ns:xmpp-stanzas", "http://www.w3.org/XML/1998/namespace",
	"http://jabber.org/protocol/pubsub", "http://jabber.org/protocol/pubsub#event",
	"urn:xmpp:csi:0", "urn:xmpp:blocking", "urn:xmpp:idle:1",
	// receipts, markers, chat states, ids, delay, carbons, hints
	"request", "received", "markable", "displayed", "acknowledged",
	"active", "composing", "paused", "inactive", "gone",
	"origin-id", "stanza-id", "by", "delay", "stamp",
	"sent", "forwarded", "private", "enable", "disable",
	"store", "no-store", "no-copy", "no-permanent-store",
	// stream management
	"r", "a", "h", "enabled", "resume", "resumed", "failed", "previd", "max", "location", "true", "false",
	// roster and subscriptions
	"query", "item", "group", "jid", "name", "subscription", "ask", "approved", "ver",
	"both", "none", "remove",
	// caps, disco, forms
	"c", "hash", "node", "sha-1", "identity", "feature", "category", "var",
	"x", "field", "value", "option", "label", "FORM_TYPE", "hidden", "form", "submit",
	"client", "phone", "pc", "web", "bot",
	// mam and rsm
	"fin", "complete", "queryid", "first", "last", "count", "before", "after", "index", "with", "start", "end",
	// stanza errors
	"cancel", "modify", "auth", "wait", "continue", "text", "code",
	"bad-request", "conflict", "feature-not-implemented", "forbidden", "item-not-found",
	"not-acceptable", "not-allowed", "not-authorized", "policy-violation",
	"recipient-unavailable", "service-unavailable", "undefined-condition",
	"unexpected-request", "internal-server-error", "resource-constraint",
	"remote-server-not-found", "subscription-required", "jid-malformed",
	// pubsub / PEP
	"pubsub", "event", "items", "publish", "publish-options", "retract", "item-id", "data", "metadata", "info",
	"urn:xmpp:avatar:metadata", "urn:xmpp:avatar:data", "http://jabber.org/protocol/nick", "nick",
	// small numbers
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "-1",
	// edits, replies, reactions, ping, last activity, blocking
	"ping", "replace", "reply", "reactions", "reaction", "fallback", "urn:xmpp:message-correct:0", "urn:xmpp:reactions:0", "urn:xmpp:reply:0", "urn:xmpp:fallback:0", "for", "jabber:iq:last", "seconds", "blocklist", "block", "unblock",

	// Two-byte tokens (page 0 from here).
	// stream negotiation
	"http://etherx.jabber.org/streams", "urn:ietf:params:xml:ns:xmpp-streams",
	"urn:ietf:params:xml:ns:xmpp-framing", "urn:ietf:params:xml:ns:xmpp-tls",
	"urn:ietf:params:xml:ns:xmpp-sasl", "urn:ietf:params:xml:ns:xmpp-bind",
	"urn:ietf:params:xml:ns:xmpp-session", "urn:xmpp:sasl-cb:0",
	"urn:xmpp:features:rosterver", "urn:xmpp:features:pre-approval",
	"http://jabber.org/features/iq-register", "urn:xmpp:sasl:2", "urn:xmpp:bind:0",
	"stream", "features", "open", "close", "version", "1.0",
	"starttls", "required", "proceed", "success", "failure", "challenge", "response", "abort",
	"mechanisms", "mechanism", "sasl-channel-binding", "channel-binding",
	"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN", "EXTERNAL",
	"tls-exporter", "tls-server-end-point", "tls-unique",
	"bind", "resource", "session", "optional", "sm", "sub", "rosterver", "pre-approval",
	// stream errors and SASL failures
	"bad-format", "connection-timeout", "host-unknown", "invalid-namespace", "not-well-formed",
	"restricted-xml", "system-shutdown", "unsupported-version", "unsupported-encoding",
	"unsupported-stanza-type", "invalid-xml", "reset", "see-other-host", "improper-addressing",
	"redirect", "registration-required", "payment-required",
	"temporary-auth-failure", "invalid-mechanism", "malformed-request", "aborted",
	"account-disabled", "credentials-expired", "encryption-required", "incorrect-encoding",
	"invalid-authzid", "mechanism-too-weak", "unexpected-out-of-order",
	// other namespaces of features Parley supports or clients send
	"jabber:iq:version", "jabber:iq:register", "jabber:iq:private",
	"vcard-temp", "vcard-temp:x:update", "urn:xmpp:http:upload:0", "urn:xmpp:push:0",
	"http://jabber.org/protocol/pubsub#owner", "http://jabber.org/protocol/pubsub#publish-options",
	"http://jabber.org/protocol/pubsub#node_config", "urn:xmpp:blocking:errors",
	"msgoffline", "urn:xmpp:time", "jabber:x:oob",
	"urn:xmpp:mam:2#extended",
	"urn:xmpp:omemo:2", "urn:xmpp:omemo:2:devices", "urn:xmpp:omemo:2:bundles",
	"eu.siacs.conversations.axolotl", "eu.siacs.conversations.axolotl.devicelist",
	"urn:xmpp:eme:0", "urn:xmpp:jingle-message:0", "urn:xmpp:jingle:1",
	"urn:xmpp:bookmarks:1", "urn:xmpp:mds:displayed:0", "http://jabber.org/protocol/muc",
	"http://jabber.org/protocol/muc#user", "jabber:server", "jabber:iq:auth",
	"urn:xmpp:extdisco:2", "urn:xmpp:dataforms:softwareinfo", "urn:xmpp:mam:2#",
	"urn:xmpp:avatar:metadata+notify", "http://jabber.org/protocol/nick+notify",
	"urn:xmpp:omemo:2:devices+notify", "eu.siacs.conversations.axolotl.devicelist+notify",
	"urn:xmpp:mds:displayed:0+notify", "urn:xmpp:bookmarks:1+notify",
	"http://jabber.org/protocol/pubsub#publish", "http://jabber.org/protocol/pubsub#pubsub",
	// disco, version, last, time, ping
	"os", "time", "tzo", "utc", "server", "im", "pep", "account", "registered",
	"instructions", "title", "reported", "text-single", "text-multi", "text-private",
	"list-single", "list-multi", "jid-single", "jid-multi", "boolean", "fixed",
	"desc", "media", "uri", "type-hint",
	"software", "software_version", "os_version",
	// blocking, csi, carbons, mam
	"report", "spam", "abuse",
	"prefs", "default", "always", "never", "roster", "stable", "retrieve",
	"flip-page",
	// http upload
	"slot", "put", "url", "header", "filename", "size", "content-type",
	"Authorization", "Cookie", "Expires", "file-too-large", "max-file-size",
	"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4", "audio/ogg", "audio/mp4",
	"application/octet-stream", "application/pdf",
	// pubsub / PEP
	"subscriptions", "affiliations", "affiliation", "configure", "create",
	"delete", "purge", "options", "notify", "max_items", "persist_items",
	"access_model", "whitelist", "owner", "publisher", "member", "outcast",
	"current", "bytes", "width", "height", "image",
	"devices", "device", "bundle", "spk", "spks", "ik", "prekeys", "pk",
	"encrypted", "key", "keys", "payload", "iv", "rid", "kex", "sid",
	"encryption", "namespace", "list", "storage", "conference", "autojoin", "password",
	// vcard
	"vCard", "FN", "N", "FAMILY", "GIVEN", "NICKNAME", "PHOTO", "TYPE", "BINVAL", "EXTVAL",
	"EMAIL", "USERID", "TEL", "NUMBER", "URL", "BDAY", "ORG", "ORGNAME", "DESC", "photo",
	// register
	"register", "username", "email",
	// push
	"push",
	// messages: corrections, replies, reactions, oob, jingle message, muc
	"propose", "accept", "reject", "finish", "ringing", "description", "jingle",
	"audio", "video", "urn:xmpp:jingle:apps:rtp:1",
	"idle", "since", "status-code", "role", "moderator", "participant", "visitor",
	"reason", "invite", "decline", "destroy", "legacy",
	"utf-8", "sha-256", "sha-512", "sha3-256", "blake2b-256",
}
