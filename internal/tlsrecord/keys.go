package tlsrecord

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// ivLen is the per-record nonce's length for all three suites (RFC 8446,
// 5.3), and tagLen their authentication tag's.
const (
	ivLen  = 12
	tagLen = 16
)

// suite is a TLS 1.3 cipher suite this package implements.
type suite struct {
	id      uint16
	keyLen  int
	hash    func() hash.Hash
	newAEAD func(key []byte) (cipher.AEAD, error)
}

// suiteFor returns the suite with the given id; false for any other
// (crypto/tls then keeps the connection).
func suiteFor(id uint16) (suite, bool) {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return suite{id: id, keyLen: 16, hash: sha256.New, newAEAD: newAESGCM}, true
	case tls.TLS_AES_256_GCM_SHA384:
		return suite{id: id, keyLen: 32, hash: sha512.New384, newAEAD: newAESGCM}, true
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return suite{id: id, keyLen: chacha20poly1305.KeySize, hash: sha256.New, newAEAD: chacha20poly1305.New}, true
	}
	return suite{}, false
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// expandLabel is HKDF-Expand-Label (RFC 8446, 7.1) with an empty context.
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	const prefix = "tls13 "
	info := make([]byte, 0, 4+len(prefix)+len(label))
	info = append(info, byte(length>>8), byte(length), byte(len(prefix)+len(label)))
	info = append(info, prefix...)
	info = append(info, label...)
	info = append(info, 0) // context: empty
	return hkdf.Expand(h, secret, string(info), length)
}

// direction is one direction's protection: the current application
// traffic secret, the key and IV derived from it (RFC 8446, 7.3), and the
// sequence number of the next record.
type direction struct {
	suite    suite
	secret   []byte
	key      []byte
	iv       [ivLen]byte
	seq      uint64
	nonceBuf [ivLen]byte // the current record's nonce (kept here: no allocation per record)
	// aead is built from key on first use and dropped by release while
	// the connection is idle.
	aead cipher.AEAD
}

// setSecret installs a traffic secret (taking ownership of it): new key
// and IV, sequence number 0. The previous secret and key are erased.
func (d *direction) setSecret(secret []byte) error {
	key, err := expandLabel(d.suite.hash, secret, "key", d.suite.keyLen)
	if err != nil {
		return err
	}
	iv, err := expandLabel(d.suite.hash, secret, "iv", ivLen)
	if err != nil {
		return err
	}
	clear(d.secret)
	clear(d.key)
	d.secret, d.key, d.seq, d.aead = secret, key, 0, nil
	copy(d.iv[:], iv)
	return nil
}

// update moves to the next traffic secret (KeyUpdate, RFC 8446, 7.2).
func (d *direction) update() error {
	next, err := expandLabel(d.suite.hash, d.secret, "traffic upd", d.suite.hash().Size())
	if err != nil {
		return err
	}
	return d.setSecret(next)
}

// cipher returns the AEAD for the current key, building it if released.
func (d *direction) cipher() (cipher.AEAD, error) {
	if d.aead == nil {
		a, err := d.suite.newAEAD(d.key)
		if err != nil {
			return nil, err
		}
		d.aead = a
	}
	return d.aead, nil
}

// release drops the AEAD (rebuilt from the key when next needed).
func (d *direction) release() { d.aead = nil }

// nonce is the current record's nonce: the IV XOR the sequence number,
// left-padded to the IV's length (RFC 8446, 5.3). It is valid until the
// next call.
func (d *direction) nonce() []byte {
	d.nonceBuf = d.iv
	for i := range 8 {
		d.nonceBuf[ivLen-1-i] ^= byte(d.seq >> (8 * i))
	}
	return d.nonceBuf[:]
}
