package aesgcm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// reference seals with the standard library's one-shot GCM: what any
// XEP-0454 app computes.
func reference(t *testing.T, k Key, plain []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(k.Key[:])
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return g.Seal(nil, k.IV[:], plain, nil)
}

// chunkedReader returns at most a random number of bytes per Read.
type chunkedReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	n := 1 + c.rnd.IntN(len(p))
	return c.r.Read(p[:min(n, len(p))])
}

func sizesFor(chunk int) []int {
	return []int{0, 1, 15, 16, 17, 31, 32, 33, 47, 48, chunk - 1, chunk, chunk + 1, chunk + 15, chunk + 16, chunk + 17,
		chunk + 32, chunk + 33, 2*chunk - 1, 2 * chunk, 3*chunk + 5, 5*chunk + 31}
}

// TestSealMatchesStandardGCM: the streamed ciphertext and tag equal
// cipher.NewGCM's for every size class, with several chunk sizes (so
// that each last-chunk case of stream.tag runs) and random read splits;
// OpenWriter, fed in random pieces, gives the plaintext back.
func TestSealMatchesStandardGCM(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, chunk := range []int{32, 48, 64, 4096, defaultChunk} {
		for _, size := range sizesFor(chunk) {
			if size < 0 {
				continue
			}
			k, _ := NewKey()
			plain := make([]byte, size)
			for i := range plain {
				plain[i] = byte(rnd.Uint32())
			}
			want := reference(t, k, plain)
			got := seal(t, k, chunk, &chunkedReader{bytes.NewReader(plain), rnd})
			if !bytes.Equal(got, want) {
				t.Fatalf("chunk %d size %d: ciphertext differs from cipher.NewGCM", chunk, size)
			}
			var out bytes.Buffer
			if err := open(k, chunk, &out, got, rnd); err != nil {
				t.Fatalf("chunk %d size %d: open: %v", chunk, size, err)
			}
			if !bytes.Equal(out.Bytes(), plain) {
				t.Fatalf("chunk %d size %d: decrypted bytes differ", chunk, size)
			}
		}
	}
}

func seal(t *testing.T, k Key, chunk int, src io.Reader) []byte {
	t.Helper()
	s, err := newStream(k, chunk)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(&SealReader{src: src, s: s})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func open(k Key, chunk int, dst io.Writer, ct []byte, rnd *rand.Rand) error {
	s, err := newStream(k, chunk)
	if err != nil {
		return err
	}
	w := &OpenWriter{dst: dst, s: s, buf: make([]byte, 7)}
	for len(ct) > 0 {
		n := min(len(ct), 1+rnd.IntN(3*chunk))
		if _, err := w.Write(ct[:n]); err != nil {
			return err
		}
		ct = ct[n:]
	}
	return w.Close()
}

// TestOpenRefusesTampering: a flipped bit anywhere (ciphertext or tag), a
// truncated file, or the wrong key is ErrAuth (or ErrSize).
func TestOpenRefusesTampering(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	k, _ := NewKey()
	plain := bytes.Repeat([]byte("parley "), 20000)
	ct := reference(t, k, plain)
	for _, pos := range []int{0, 17, len(ct) / 2, len(ct) - TagSize - 1, len(ct) - 1} {
		bad := bytes.Clone(ct)
		bad[pos] ^= 0x40
		if err := open(k, defaultChunk, io.Discard, bad, rnd); !errors.Is(err, ErrAuth) {
			t.Fatalf("bit flipped at %d: %v, want ErrAuth", pos, err)
		}
	}
	if err := open(k, defaultChunk, io.Discard, ct[:len(ct)-1], rnd); !errors.Is(err, ErrAuth) {
		t.Fatalf("truncated: %v", err)
	}
	if err := open(k, defaultChunk, io.Discard, ct[:5], rnd); !errors.Is(err, ErrSize) {
		t.Fatalf("shorter than a tag: %v", err)
	}
	other, _ := NewKey()
	if err := open(other, defaultChunk, io.Discard, ct, rnd); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
}

// TestURL: the XEP-0454 form round-trips; malformed fragments are refused.
func TestURL(t *testing.T) {
	k, _ := NewKey()
	u, err := FormatURL("https://media.example.org/media/u/s/cat.jpg?exp=1&sig=x", k)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "aesgcm://media.example.org/media/u/s/cat.jpg?exp=1&sig=x#") || len(u[strings.Index(u, "#")+1:]) != 88 {
		t.Fatalf("URL %q", u)
	}
	get, k2, err := ParseURL(u, "https")
	if err != nil || k2.Fragment() != k.Fragment() || get != "https://media.example.org/media/u/s/cat.jpg?exp=1&sig=x" {
		t.Fatalf("ParseURL = %q, %v", get, err)
	}
	for _, bad := range []string{"https://h/p#" + k.Fragment(), "aesgcm://h/p", "aesgcm://h/p#" + k.Fragment()[:80],
		"aesgcm://h/p#" + k.Fragment() + "0000", "aesgcm://h/p#" + k.Fragment() + "0000000000", "aesgcm:///p#" + k.Fragment(),
		"aesgcm://h/p#zz" + k.Fragment()[2:]} {
		if _, _, err := ParseURL(bad, "https"); !errors.Is(err, ErrURL) {
			t.Errorf("ParseURL(%q) = %v, want ErrURL", bad, err)
		}
	}
}

// TestLegacyIV: files from older OMEMO apps, with a 16-byte IV (96 hex
// digits in the URL), open too; the ciphertext equals cipher.NewGCM's
// with that nonce size.
func TestLegacyIV(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 8))
	for _, size := range sizesFor(64) {
		k, _ := NewKey()
		k.IV = make([]byte, LegacyIVSize)
		for i := range k.IV {
			k.IV[i] = byte(rnd.Uint32())
		}
		plain := make([]byte, size)
		for i := range plain {
			plain[i] = byte(rnd.Uint32())
		}
		block, _ := aes.NewCipher(k.Key[:])
		g, _ := cipher.NewGCMWithNonceSize(block, LegacyIVSize)
		want := g.Seal(nil, k.IV, plain, nil)
		if got := seal(t, k, 64, bytes.NewReader(plain)); !bytes.Equal(got, want) {
			t.Fatalf("size %d: differs from cipher.NewGCMWithNonceSize(16)", size)
		}
		u, _ := FormatURL("https://h/f.jpg", k)
		_, k2, err := ParseURL(u, "https")
		if err != nil || len(k2.IV) != LegacyIVSize {
			t.Fatalf("ParseURL(%q): %v", u, err)
		}
		var out bytes.Buffer
		if err := open(k2, 64, &out, want, rnd); err != nil || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("size %d: open: %v", size, err)
		}
	}
}

// TestCTR32Wraps: GCM's counter wraps in its last 32 bits (inc32) and
// leaves the other 96 alone, whatever the write sizes.
func TestCTR32Wraps(t *testing.T) {
	block, _ := aes.NewCipher(make([]byte, 32))
	var start [16]byte
	for i := range 12 {
		start[i] = 0xff // a carry would show here
	}
	start[12], start[13], start[14], start[15] = 0xff, 0xff, 0xff, 0xfd
	var want []byte
	ctr := start
	for range 7 { // blocks ...fd, ...fe, ...ff, 0, 1, 2, 3
		var ks [16]byte
		block.Encrypt(ks[:], ctr[:])
		want = append(want, ks[:]...)
		for i := 15; i >= 12; i-- {
			ctr[i]++
			if ctr[i] != 0 {
				break
			}
		}
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	c := newCTR32(block, start)
	got := make([]byte, len(want))
	for off := 0; off < len(got); {
		n := min(len(got)-off, 1+rnd.IntN(20))
		c.XORKeyStream(got[off:off+n], got[off:off+n])
		off += n
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the counter does not wrap as inc32")
	}
}

func FuzzParseURL(f *testing.F) {
	f.Add("aesgcm://media.example.org/f.jpg#" + strings.Repeat("ab", 44))
	f.Add("aesgcm://h/p?q=1#00")
	f.Fuzz(func(t *testing.T, s string) {
		get, k, err := ParseURL(s, "https")
		if err != nil {
			return
		}
		if !strings.HasPrefix(get, "https://") {
			t.Fatalf("fetch URL %q", get)
		}
		if _, err := FormatURL(get, k); err != nil {
			t.Fatalf("FormatURL(%q): %v", get, err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k, _ := NewKey()
	buf := make([]byte, 16<<20)
	src := bytes.NewReader(buf)
	b.SetBytes(16 << 20)
	for b.Loop() {
		src.Reset(buf)
		r, _ := NewSealReader(io.NopCloser(src), k)
		_, _ = io.Copy(io.Discard, r)
	}
}
