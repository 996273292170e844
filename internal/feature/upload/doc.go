// Package upload is XEP-0363 HTTP File Upload: a client asks the server for
// an upload slot (file name, size, content type, and optionally the SHA-256
// of the bytes as an XEP-0300 hash) and gets a PUT URL with its headers and
// a GET URL, from the media server (internal/media) behind the Slotter
// interface.
//
// Discovery: the server's own disco#info carries the identity store/file,
// the feature urn:xmpp:http:upload:0 and an XEP-0128 form with
// max-file-size, where slixmpp's xep_0363 plugin and Conversations look
// first; slots are requested from the server's domain.
//
// The feature holds no state; its Slotter must be safe for concurrent use.
package upload
