// Package tlsrecord is a small TLS 1.3 record layer (RFC 8446, sections 5
// and 7) for connections whose handshake crypto/tls has done: it protects
// and unprotects their application-data records itself, so that an idle
// connection holds only its traffic secrets, keys and sequence numbers, and
// no buffer at all. crypto/tls keeps, per connection and for the
// connection's life, the record buffer and handshake buffer it grew and
// its cipher state; with tens of thousands of idle phones per server that
// was most of a TLS connection's memory.
//
// # The handover
//
// Acceptor.Server runs crypto/tls's standard server handshake (the same
// certificates, ALPN, versions and suites as before). For that handshake
// only, the socket is read through handshakeConn, which reads what the
// socket holds (a client's flight, one read each) into a buffer from the
// Pool but never returns bytes past the end of the TLS record being read,
// so that when Handshake returns crypto/tls has buffered nothing of what
// follows. Application data that came in the handshake's last read is
// opened by the Conn at once: Read returns it first, and a caller that
// feeds the socket itself takes it with TakeRead. A client that
// offers TLS 1.3 gets a per-connection clone of the configuration whose
// KeyLogWriter takes the two application traffic secrets
// (CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0) into that connection's
// keys: nothing is logged, and the secrets live only as the keys' source
// (KeyUpdate derives the next ones from them). The clone also disables
// session tickets, the only records crypto/tls would otherwise send with
// the application keys after the handshake (Parley's clients do not resume
// TLS sessions), so both sequence numbers start at 0 at the handover. If
// TLS 1.3 was not negotiated (TLS 1.2), or with a suite this package does
// not implement, the *tls.Conn is used as before.
//
// # Records
//
// Conn seals what is written into records of at most 2^14 bytes of
// content (AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305; nonce = IV XOR
// sequence number; the record header as additional data) and opens what is
// fed to it: application data is delivered, close_notify ends the stream,
// any other alert is fatal, a KeyUpdate rotates the reading keys and, when
// the peer asks for it, ours (before our next record); everything else
// (unprotected records, other handshake messages, records too long, a
// record that fails authentication) ends the connection with the alert
// RFC 8446 prescribes, sent when the connection is closed. No data that
// failed authentication is ever delivered. The writing keys are updated
// after writeRecordsPerKey records (section 5.5).
//
// # Memory and concurrency
//
// Conn reads nothing by itself: the caller reads the socket (into a buffer
// of its own, borrowed only for the read) and feeds the bytes to Feed,
// which decrypts complete records in place and keeps only an incomplete
// record, in a buffer from the Pool that goes back as soon as the record is
// complete. ReleaseCiphers drops the AEAD instances (about 1.6 KB for both
// directions) while a connection is idle; they are rebuilt from the keys
// on the next record. Feed, Err, Pending and KeyUpdateDue belong to the one
// reader of the connection (at most one goroutine at a time); Write,
// FlushKeyUpdate, CloseWrite and Close may be called from any goroutine
// (writes are serialized inside). Read makes a Conn a net.Conn for callers
// that prefer blocking reads (tests, tools).
package tlsrecord
