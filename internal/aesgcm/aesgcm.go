package aesgcm

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Sizes of XEP-0454's parameters.
const (
	IVSize       = 12 // the IV this package makes, as XEP-0454 requires
	LegacyIVSize = 16 // the IV of older OMEMO apps, accepted in URLs
	KeySize      = 32
	TagSize      = 16
)

// Errors.
var (
	ErrAuth     = errors.New("aesgcm: the file does not match its authentication tag (corrupted or tampered with)")
	ErrURL      = errors.New("aesgcm: not an aesgcm:// URL with a 12- or 16-byte IV and a 32-byte key")
	ErrIV       = errors.New("aesgcm: the IV must have 12 or 16 bytes")
	ErrTooLarge = errors.New("aesgcm: file too large for one GCM message")
	ErrSize     = errors.New("aesgcm: ciphertext shorter than its tag")
)

// Key is one file's IV and key.
type Key struct {
	IV  []byte // IVSize bytes, or LegacyIVSize from an older app's URL
	Key [KeySize]byte
}

// NewKey returns a fresh random IV and key.
func NewKey() (Key, error) {
	k := Key{IV: make([]byte, IVSize)}
	if _, err := rand.Read(k.IV); err != nil {
		return k, err
	}
	_, err := rand.Read(k.Key[:])
	return k, err
}

// Fragment is the URL fragment: hex of the IV followed by the key.
func (k Key) Fragment() string { return hex.EncodeToString(k.IV) + hex.EncodeToString(k.Key[:]) }

// FormatURL turns the HTTP(S) URL of the ciphertext into XEP-0454's form:
// scheme aesgcm, the key in the fragment.
func FormatURL(httpURL string, k Key) (string, error) {
	u, err := url.Parse(httpURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return "", fmt.Errorf("aesgcm: %q is not an http(s) URL without a fragment", httpURL)
	}
	u.Scheme = "aesgcm"
	u.Fragment = k.Fragment()
	return u.String(), nil
}

// ParseURL splits an aesgcm:// URL into the URL to fetch (its scheme given
// by scheme: "https" as XEP-0454 says, "http" for a loopback server) and
// the key. The fragment is 88 hex digits (a 12-byte IV, then the key), or
// 96 (a 16-byte IV, as older OMEMO apps sent; XEP-0454 asks receivers to
// accept both).
func ParseURL(s, scheme string) (string, Key, error) {
	var k Key
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, "aesgcm") || u.Host == "" {
		return "", k, ErrURL
	}
	raw, err := hex.DecodeString(u.Fragment)
	if err != nil || (len(raw) != IVSize+KeySize && len(raw) != LegacyIVSize+KeySize) {
		return "", k, ErrURL
	}
	k.IV = raw[:len(raw)-KeySize]
	copy(k.Key[:], raw[len(raw)-KeySize:])
	u.Scheme, u.Fragment, u.RawFragment = scheme, "", ""
	out := u.String()
	if v, err := url.Parse(out); err != nil || v.Host == "" { // a host such as "::0" that only parsed loosely
		return "", Key{}, ErrURL
	}
	return out, k, nil
}

// SealReader reads a plaintext and yields the ciphertext with its tag.
type SealReader struct {
	src  io.Reader
	s    *stream
	tag  []byte // the tag still to yield, once src is exhausted
	done bool
}

// NewSealReader encrypts src under k.
func NewSealReader(src io.Reader, k Key) (*SealReader, error) {
	s, err := newStream(k, defaultChunk)
	if err != nil {
		return nil, err
	}
	return &SealReader{src: src, s: s}, nil
}

// Read implements io.Reader.
func (r *SealReader) Read(p []byte) (int, error) {
	if r.done {
		if len(r.tag) == 0 {
			return 0, io.EOF
		}
		n := copy(p, r.tag)
		r.tag = r.tag[n:]
		return n, nil
	}
	n, err := r.src.Read(p)
	if r.s.n+int64(n) > MaxSize {
		return 0, ErrTooLarge
	}
	r.s.ctr.XORKeyStream(p[:n], p[:n])
	r.s.absorb(p[:n])
	if err == io.EOF {
		t := r.s.tag()
		r.tag, r.done = t[:], true
		err = nil
	}
	return n, err
}

// OpenWriter decrypts the ciphertext written to it (tag last) into dst.
// Close checks the tag: see the package documentation about what dst holds
// before that.
type OpenWriter struct {
	dst  io.Writer
	s    *stream
	tail [TagSize]byte // the last bytes seen: the tag if nothing follows
	nt   int
	buf  []byte
}

// NewOpenWriter decrypts into dst under k.
func NewOpenWriter(dst io.Writer, k Key) (*OpenWriter, error) {
	s, err := newStream(k, defaultChunk)
	if err != nil {
		return nil, err
	}
	return &OpenWriter{dst: dst, s: s, buf: make([]byte, 32<<10)}, nil
}

// Write implements io.Writer.
func (w *OpenWriter) Write(p []byte) (int, error) {
	total := len(p)
	if w.nt+len(p) <= TagSize { // still within what may be the tag
		w.nt += copy(w.tail[w.nt:], p)
		return total, nil
	}
	// Everything but the last TagSize bytes of tail‖p is ciphertext.
	release := w.nt + len(p) - TagSize
	fromTail := min(release, w.nt)
	if err := w.open(w.tail[:fromTail]); err != nil {
		return 0, err
	}
	w.nt = copy(w.tail[:], w.tail[fromTail:w.nt])
	if err := w.open(p[:release-fromTail]); err != nil {
		return 0, err
	}
	w.nt += copy(w.tail[w.nt:], p[release-fromTail:])
	return total, nil
}

// open decrypts ciphertext c into dst.
func (w *OpenWriter) open(c []byte) error {
	for len(c) > 0 {
		if w.s.n+int64(len(c)) > MaxSize {
			return ErrTooLarge
		}
		n := min(len(c), len(w.buf))
		w.s.absorb(c[:n])
		w.s.ctr.XORKeyStream(w.buf[:n], c[:n])
		if _, err := w.dst.Write(w.buf[:n]); err != nil {
			return err
		}
		c = c[n:]
	}
	return nil
}

// Close checks the tag: ErrAuth when the ciphertext or the tag was changed,
// ErrSize when fewer than TagSize bytes came.
func (w *OpenWriter) Close() error {
	if w.nt < TagSize {
		return ErrSize
	}
	t := w.s.tag()
	if subtle.ConstantTimeCompare(t[:], w.tail[:]) != 1 {
		return ErrAuth
	}
	return nil
}

// Plaintext returns how many bytes were decrypted so far.
func (w *OpenWriter) Plaintext() int64 { return w.s.n }
