package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
)

// defaultChunk is how much ciphertext one GHASH step takes (a multiple of
// the block size, at least two blocks).
const defaultChunk = 64 << 10

// MaxSize is the largest plaintext GCM can encrypt under one IV:
// (2^32 - 2) blocks.
const MaxSize = (1<<32 - 2) * aes.BlockSize

// stream is the state shared by encryption and decryption: the counter
// stream and the running GHASH of the ciphertext.
type stream struct {
	ctr   cipher.Stream
	aead  cipher.AEAD // GHASH through additional data (doc.go)
	h     [16]byte    // the GHASH key E_K(0)
	ej0   [16]byte    // E_K(IV‖1), the tag's mask
	acc   [16]byte    // G of the ciphertext hashed so far
	pend  []byte      // ciphertext not yet hashed, < chunk bytes
	zero  []byte      // chunk zero bytes
	base  [16]byte    // the helper tag over chunk zero bytes
	n     int64       // ciphertext bytes so far
	chunk int
}

func newStream(k Key, chunk int) (*stream, error) {
	block, err := aes.NewCipher(k.Key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s := &stream{aead: aead, chunk: chunk, pend: make([]byte, 0, chunk), zero: make([]byte, chunk)}
	block.Encrypt(s.h[:], s.h[:])
	var ctr [16]byte
	copy(ctr[:], k.IV[:])
	ctr[15] = 1
	block.Encrypt(s.ej0[:], ctr[:])
	ctr[15] = 2
	s.ctr = cipher.NewCTR(block, ctr[:])
	s.base = s.helperTag(s.zero)
	return s, nil
}

// helperTag is the standard library's GCM tag over additional data z.
func (s *stream) helperTag(z []byte) [16]byte {
	var t [16]byte
	var nonce [12]byte // fixed: see doc.go
	s.aead.Seal(t[:0], nonce[:], nil, z)
	return t
}

// absorb adds ciphertext to the GHASH.
func (s *stream) absorb(c []byte) {
	s.n += int64(len(c))
	for len(c) > 0 {
		k := copy(s.pend[len(s.pend):s.chunk], c)
		s.pend = s.pend[:len(s.pend)+k]
		c = c[k:]
		if len(s.pend) == s.chunk {
			s.acc = s.fold(s.pend, s.base)
			s.pend = s.pend[:0]
		}
	}
}

// fold returns acc·H^k ⊕ G(z) for z of k ≥ 2 whole blocks (base is the
// helper tag over len(z) zero bytes). It overwrites z.
func (s *stream) fold(z []byte, base [16]byte) [16]byte {
	subtle.XORBytes(z[16:32], z[16:32], s.acc[:])
	t := s.helperTag(z)
	subtle.XORBytes(t[:], t[:], base[:])
	return t
}

// tag finishes the GHASH and returns the GCM tag.
func (s *stream) tag() [16]byte {
	var lens [16]byte
	binary.BigEndian.PutUint64(lens[8:], uint64(s.n)*8)
	padded := (len(s.pend) + 15) &^ 15
	var g, mulBy [16]byte // the tag is E_K(J0) ⊕ g ⊕ mulBy·H
	switch padded / 16 {
	case 0:
		g, mulBy = s.acc, lens
	case 1:
		var z [16]byte
		copy(z[:], s.pend)
		g = s.helperTag(z[:])
		zt := s.helperTag(s.zero[:16])
		subtle.XORBytes(g[:], g[:], zt[:])
		subtle.XORBytes(mulBy[:], s.acc[:], lens[:])
	default:
		z := s.pend[:padded]
		clear(z[len(s.pend):])
		g = s.fold(z, s.helperTag(s.zero[:padded]))
		mulBy = lens
	}
	p := gfMul(mulBy, s.h)
	var t [16]byte
	subtle.XORBytes(t[:], s.ej0[:], g[:])
	subtle.XORBytes(t[:], t[:], p[:])
	return t
}

// gfMul multiplies x and y in GCM's GF(2^128) (NIST SP 800-38D,
// Algorithm 1), without branches or table look-ups on the values.
func gfMul(x, y [16]byte) [16]byte {
	x0, x1 := binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(x[8:])
	v0, v1 := binary.BigEndian.Uint64(y[:8]), binary.BigEndian.Uint64(y[8:])
	var z0, z1 uint64
	for i := range 128 {
		var bit uint64
		if i < 64 {
			bit = x0 >> (63 - i) & 1
		} else {
			bit = x1 >> (127 - i) & 1
		}
		m := -bit
		z0 ^= v0 & m
		z1 ^= v1 & m
		lsb := v1 & 1
		v1 = v1>>1 | v0<<63
		v0 = v0>>1 ^ 0xe100000000000000&-lsb
	}
	var z [16]byte
	binary.BigEndian.PutUint64(z[:8], z0)
	binary.BigEndian.PutUint64(z[8:], z1)
	return z
}
