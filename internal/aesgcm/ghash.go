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
	ej0   [16]byte    // E_K(J0), the tag's mask
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
	if len(k.IV) != IVSize && len(k.IV) != LegacyIVSize {
		return nil, ErrIV
	}
	s := &stream{aead: aead, chunk: chunk, pend: make([]byte, 0, chunk), zero: make([]byte, chunk)}
	block.Encrypt(s.h[:], s.h[:])
	j0 := s.j0(k.IV)
	block.Encrypt(s.ej0[:], j0[:])
	binary.BigEndian.PutUint32(j0[12:], binary.BigEndian.Uint32(j0[12:])+1) // inc32
	s.ctr = newCTR32(block, j0)
	s.base = s.helperTag(s.zero)
	return s, nil
}

// j0 is GCM's pre-counter block (NIST SP 800-38D, 7.1): IV‖1 for a
// 12-byte IV; GHASH(IV ‖ 0^64 ‖ [128]_64) = IV·H² ⊕ [128]·H for a 16-byte
// one.
func (s *stream) j0(iv []byte) [16]byte {
	var j [16]byte
	if len(iv) == IVSize {
		copy(j[:], iv)
		j[15] = 1
		return j
	}
	g, zt := s.helperTag(iv), s.helperTag(s.zero[:16])
	var lens [16]byte
	binary.BigEndian.PutUint64(lens[8:], 8*LegacyIVSize)
	p := gfMul(lens, s.h)
	subtle.XORBytes(j[:], g[:], zt[:])
	subtle.XORBytes(j[:], j[:], p[:])
	return j
}

// ctr32 is GCM's counter mode: only the last 32 bits of the counter block
// count, and wrap around (inc32), where cipher.NewCTR would carry into the
// rest. A wrap needs a 16-byte IV (a J0 from GHASH): from a 12-byte IV
// the count starts at 2 and MaxSize stops it first.
type ctr32 struct {
	block cipher.Block
	next  [16]byte // the counter block where the current stream started
	s     cipher.Stream
	left  uint64 // bytes before the 32-bit count wraps
}

func newCTR32(b cipher.Block, ctr [16]byte) *ctr32 {
	c := &ctr32{block: b, next: ctr}
	c.start()
	return c
}

func (c *ctr32) start() {
	c.left = (1<<32 - uint64(binary.BigEndian.Uint32(c.next[12:]))) * 16
	c.s = cipher.NewCTR(c.block, c.next[:])
}

// XORKeyStream implements cipher.Stream.
func (c *ctr32) XORKeyStream(dst, src []byte) {
	for len(src) > 0 {
		n := len(src)
		if uint64(n) > c.left {
			n = int(c.left)
		}
		c.s.XORKeyStream(dst[:n], src[:n])
		dst, src, c.left = dst[n:], src[n:], c.left-uint64(n)
		if c.left == 0 { // the count wraps to 0; the other 96 bits stay
			binary.BigEndian.PutUint32(c.next[12:], 0)
			c.start()
		}
	}
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
