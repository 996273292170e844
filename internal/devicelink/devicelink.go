package devicelink

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// NS is the namespace of the pairing and device-management elements.
const NS = "urn:parley:devices:0"

// Mechanism is the SASL mechanism a linked device logs in with.
const Mechanism = "X-PARLEY-DEVICE"

// payloadPrefix starts every QR payload: scheme and format version.
const payloadPrefix = "parley-link:1:"

// hkdfInfo is the HKDF info string of the credential key.
const hkdfInfo = "parley-link:1 credential"

// ErrPayload reports a string that is not a pairing payload.
var ErrPayload = errors.New("devicelink: not a parley-link:1 payload")

// ErrDecrypt reports a credential that does not decrypt with our key
// (tampered, or meant for another device).
var ErrDecrypt = errors.New("devicelink: the credential does not decrypt")

var b64 = base64.RawURLEncoding

// Payload is what the new device shows as a QR code: the server's pairing
// reference and the device's X25519 public key.
type Payload struct {
	Ref string
	Key []byte // 32 bytes
}

// String formats the payload: parley-link:1:<ref>:<base64url key>.
func (p Payload) String() string { return payloadPrefix + p.Ref + ":" + b64.EncodeToString(p.Key) }

// ParsePayload parses a payload, surrounding white space ignored.
func ParsePayload(s string) (Payload, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), payloadPrefix)
	if !ok {
		return Payload{}, ErrPayload
	}
	ref, key, ok := strings.Cut(rest, ":")
	if !ok || !ValidRef(ref) {
		return Payload{}, fmt.Errorf("%w: bad reference", ErrPayload)
	}
	k, err := DecodeKey(key)
	if err != nil {
		return Payload{}, err
	}
	return Payload{Ref: ref, Key: k}, nil
}

// DecodeKey decodes a base64url X25519 public key and checks its size.
func DecodeKey(s string) ([]byte, error) {
	k, err := b64.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%w: the key must be 32 bytes in base64url", ErrPayload)
	}
	return k, nil
}

// EncodeKey is the base64url form of a key (or of any bytes).
func EncodeKey(k []byte) string { return b64.EncodeToString(k) }

// DecodeBytes decodes base64url without padding.
func DecodeBytes(s string) ([]byte, error) { return b64.DecodeString(s) }

// NewRef draws a pairing reference: 16 random bytes in base64url.
func NewRef() string { return b64.EncodeToString(random(16)) }

// ValidRef reports whether s can be a reference: 1 to 64 base64url
// characters.
func ValidRef(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// deviceIDPrefix starts every device id.
const deviceIDPrefix = "dev-"

// NewDeviceID draws a device id (also its resource): "dev-" and 12 hex
// digits.
func NewDeviceID() string { return fmt.Sprintf(deviceIDPrefix+"%x", random(6)) }

// IsDeviceID reports whether a resource has the form of a device id: the
// server keeps such resources for linked devices.
func IsDeviceID(resource string) bool { return strings.HasPrefix(resource, deviceIDPrefix) }

// NewToken draws a device token: 32 random bytes in base64url (43
// characters). Store only HashToken of it.
func NewToken() string { return b64.EncodeToString(random(32)) }

// HashToken is what the server stores of a token: its SHA-256.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// TokenMatches compares a token with a stored hash in constant time.
func TokenMatches(token string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashToken(token), hash) == 1
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return b
}

// AAD binds a sealed credential to the account and the device id it is
// for, so that neither can be swapped without failing decryption.
func AAD(jid, deviceID string) []byte { return []byte("parley-link:1\x00" + jid + "\x00" + deviceID) }

// Seal encrypts plaintext to the device's X25519 public key: it draws an
// ephemeral key pair, derives an AES-256 key with HKDF-SHA-256 from the
// shared secret (salt: ephemeral then device public key) and seals with
// AES-GCM. It returns the ephemeral public key and nonce||ciphertext.
func Seal(devicePub, plaintext, aad []byte) (ephPub, sealed []byte, err error) {
	pub, err := ecdh.X25519().NewPublicKey(devicePub)
	if err != nil {
		return nil, nil, fmt.Errorf("devicelink: device key: %w", err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	aead, err := credentialAEAD(eph, pub, eph.PublicKey().Bytes(), devicePub)
	if err != nil {
		return nil, nil, err
	}
	nonce := random(aead.NonceSize())
	return eph.PublicKey().Bytes(), aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts what Seal sealed for priv's public key.
func Open(priv *ecdh.PrivateKey, ephPub, sealed, aad []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(ephPub)
	if err != nil {
		return nil, ErrDecrypt
	}
	aead, err := credentialAEAD(priv, pub, ephPub, priv.PublicKey().Bytes())
	if err != nil {
		return nil, ErrDecrypt
	}
	if len(sealed) < aead.NonceSize() {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func credentialAEAD(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, ephPub, devicePub []byte) (cipher.AEAD, error) {
	shared, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	salt := append(append([]byte{}, ephPub...), devicePub...)
	key, err := hkdf.Key(sha256.New, shared, salt, hkdfInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
