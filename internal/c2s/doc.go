// Package c2s accepts client connections and runs XMPP stream negotiation
// (RFC 6120): the stream header, STARTTLS (or direct TLS, XEP-0368), SASL,
// resource binding and stream-management resumption, over plain TCP and over
// WebSocket (RFC 7395). Once a resource is bound, the connection's reader
// hands every stanza to the device's session (package session) and the
// session writes through the connection's Transport.
//
// One goroutine per connection reads; it holds a small read buffer and the
// push parser's state. Negotiation runs entirely on that goroutine, with a
// deadline; after binding, reads have no deadline (the keep-alive sweep
// closes dead sessions).
//
// TLS handshakes are crypto/tls's; a TLS 1.3 connection then runs on
// package tlsrecord, whose records the connection reads from the socket
// like plaintext and feeds through it (so the parker can open a
// keep-alive record without waking the connection); TLS 1.2 and WebSocket
// over HTTPS stay on crypto/tls.
//
// The two framings (an XML stream over TCP, one element per WebSocket
// message) differ only in how elements are cut and wrapped; the framing
// interface hides that from the negotiation code.
package c2s
