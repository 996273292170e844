// Package auth turns passwords into stored credentials and runs the server
// side of SASL for client-to-server streams (RFC 6120 section 6).
//
// # Credentials
//
// Parley never stores a password. [NewAccount] and [NewCredentials] prepare
// the password with PRECIS OpaqueString (RFC 8265), draw a random 16-byte salt
// per hash, and keep only the SCRAM StoredKey and ServerKey for SHA-1 and
// SHA-256 (RFC 5802 section 3, RFC 7677) in a store.Account.
//
// # Mechanisms
//
// An [Authenticator] offers, strongest first, SCRAM-SHA-256-PLUS and
// SCRAM-SHA-1-PLUS (only when the connection has tls-exporter channel
// binding, RFC 9266), SCRAM-SHA-256, SCRAM-SHA-1 and, when the caller allows
// it, PLAIN (RFC 4616); with a device store in the Config (TLS only),
// X-PARLEY-DEVICE, the login of devices linked by QR-code pairing: one
// message, username NUL device-id NUL token, checked against the SHA-256
// of the token the store keeps (docs/protocol/devices.md). The server's side
// of SCRAM is this package's own (scram.go: the proof check and the server
// signature of RFC 5802 section 3, checked against RFC 5802's and RFC
// 7677's examples and github.com/xdg-go/scram's client in the tests), with
// what the XMPP server needs around it: strict parsing of
// the client's messages, gs2 header rules (p= only with a -PLUS mechanism and
// only tls-exporter; "y" accepted, see checkCBFlag),
// username normalization (the localpart, or a bare JID of our domain,
// normalized like package jid does), authzid checks, and RFC 6120 failure
// conditions ([Failure]).
//
// Unknown users are indistinguishable from wrong passwords: the exchange runs
// to the end against fake credentials derived from an HMAC of the username
// under a key the Authenticator draws at construction, so the salt and
// iteration count an attacker sees are stable per username and the failure
// is the same not-authorized. PLAIN runs the same PBKDF2 for both.
//
// The API works on raw bytes: the caller (the XMPP stream code) does the
// base64 of the element text and maps [Failure] to a <failure/> element.
// Errors never carry passwords, keys or proofs.
//
// # Concurrency
//
// An Authenticator is immutable after [NewAuthenticator] and safe for
// concurrent use by all connections; it holds no per-connection state. A
// [Negotiation] belongs to one connection and must not be used concurrently.
// A [FailureLimiter] is safe for concurrent use, bounded in memory and
// starts no goroutine: it prunes lazily. The package has no mutable
// package-level state.
package auth
