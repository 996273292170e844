// Package devicelink holds what both ends of device pairing share
// (docs/protocol/devices.md): the QR payload format, device tokens and
// their hashes, and the encryption of a new device's credential to the
// X25519 key it generated (ECDH, HKDF-SHA-256, AES-256-GCM, all from the
// standard library).
//
// It imports only the standard library, so the server's devices feature,
// the c2s layer and the public client library can all use it. Functions
// are pure; there is no package-level mutable state; everything is safe
// for concurrent use. Errors never carry a token or a key.
package devicelink
