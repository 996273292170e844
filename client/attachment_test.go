package client_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

// randomFile writes n pseudo-random bytes to a file in dir.
func randomFile(t *testing.T, name string, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rnd := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestAttachmentRoundTrip: alice uploads an encrypted file and sends it
// with a caption; bob's client sees the attachment, downloads, verifies
// and decrypts it byte-identical; an independent one-shot AES-GCM
// decryption of the raw download (what any XEP-0454 app does) agrees.
// Over both encodings.
func TestAttachmentRoundTrip(t *testing.T) {
	for _, enc := range []string{"binary", "xml"} {
		t.Run(enc, func(t *testing.T) {
			srv := servertest.Start(t, nil)
			srv.AddUser(t, "alice@localhost", "pw-alice")
			srv.AddUser(t, "bob@localhost", "pw-bob")
			tweak := xml
			if enc == "binary" {
				tweak = binary(srv)
			}
			alice := dial(t, srv, "alice@localhost/phone", "pw-alice", tweak)
			bob := dial(t, srv, "bob@localhost/phone", "pw-bob", tweak)
			if err := bob.SetPresence("", ""); err != nil {
				t.Fatal(err)
			}
			path, data := randomFile(t, "report 2026.pdf", 3<<20+5)
			var calls int
			var last int64
			a, err := alice.UploadFile(ctxT(t), path, func(done, total int64) { calls++; last = done })
			if err != nil {
				t.Fatal(err)
			}
			if calls == 0 || last != int64(len(data))+16 {
				t.Fatalf("progress: %d calls, last %d", calls, last)
			}
			checkUploaded(t, a, len(data))
			if _, err := alice.SendAttachment("bob@localhost", a, "the report"); err != nil {
				t.Fatal(err)
			}
			m := next(t, bob, func(*client.Message) bool { return true })
			if m.Attachment == nil || *m.Attachment != a || m.Caption != "the report" || m.Body != a.URL {
				t.Fatalf("bob got %+v with attachment %+v, want %+v", m, m.Attachment, a)
			}
			var got bytes.Buffer
			if err := bob.DownloadAttachment(ctxT(t), *m.Attachment, &got, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatal("downloaded file differs from the original")
			}
			if !bytes.Equal(independentOpen(t, a.URL), data) {
				t.Fatal("the independent XEP-0454 decryption differs")
			}
		})
	}
}

func checkUploaded(t *testing.T, a client.Attachment, size int) {
	t.Helper()
	frag := a.URL[strings.LastIndexByte(a.URL, '#')+1:]
	if !strings.HasPrefix(a.URL, "aesgcm://127.0.0.1:") || len(frag) != 88 || a.Size != int64(size) ||
		a.MediaType != "application/pdf" || a.Name != "report 2026.pdf" || len(a.SHA256) != 64 || a.Thumbnail != "" {
		t.Fatalf("attachment %+v", a)
	}
	if strings.Contains(a.URL, "report") || strings.Contains(a.SHA256, frag[24:]) {
		t.Fatalf("the URL reveals the name, or the key is outside the fragment: %+v", a)
	}
}

// independentOpen fetches the ciphertext of an aesgcm:// URL and opens it
// with crypto/aes and cipher.NewGCM on the whole file, parsing the URL by
// hand as XEP-0454 describes (IV: the first 12 bytes of the fragment, key:
// the next 32).
func independentOpen(t *testing.T, aesgcmURL string) []byte {
	t.Helper()
	rest, frag, _ := strings.Cut(strings.TrimPrefix(aesgcmURL, "aesgcm://"), "#")
	raw, err := hex.DecodeString(frag)
	if err != nil || len(raw) != 44 {
		t.Fatalf("fragment %q", frag)
	}
	resp, err := http.Get("http://" + rest)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ct, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %d %v", resp.StatusCode, err)
	}
	block, _ := aes.NewCipher(raw[12:])
	g, _ := cipher.NewGCM(block)
	plain, err := g.Open(nil, raw[:12], ct, nil)
	if err != nil {
		t.Fatalf("cipher.NewGCM refuses our file: %v", err)
	}
	return plain
}

// TestImageThumbnail: an image gets a JPEG thumbnail of at most 2 KiB that
// travels in the message.
func TestImageThumbnail(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: uint8(x ^ y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	a, err := alice.Upload(ctxT(t), client.FileUpload{Reader: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len()), Name: "photo.png"})
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := base64.StdEncoding.DecodeString(a.Thumbnail)
	if err != nil || len(thumb) == 0 || len(thumb) > 2048 || a.MediaType != "image/png" {
		t.Fatalf("thumbnail of %d bytes (%v), type %q", len(thumb), err, a.MediaType)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err != nil || cfg.Width > 64 || cfg.Width < 16 {
		t.Fatalf("thumbnail %+v %v", cfg, err)
	}
}

// TestDownloadRefusesTampering: a wrong announced hash or size, a
// ciphertext changed on the server's disk, and a wrong key are all refused, and
// DownloadAttachmentFile leaves no file behind.
func TestDownloadRefusesTampering(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	path, _ := randomFile(t, "x.bin", 200<<10)
	a, err := alice.UploadFile(ctxT(t), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrongHash := a
	wrongHash.SHA256 = strings.Repeat("0", 64)
	if err := alice.DownloadAttachment(ctxT(t), wrongHash, io.Discard, nil); !errors.Is(err, client.ErrHashMismatch) {
		t.Fatalf("wrong hash: %v", err)
	}
	wrongKey := a
	wrongKey.URL = a.URL[:len(a.URL)-2] + "00"
	if a.URL == wrongKey.URL {
		wrongKey.URL = a.URL[:len(a.URL)-2] + "11"
	}
	if err := alice.DownloadAttachment(ctxT(t), wrongKey, io.Discard, nil); !errors.Is(err, client.ErrTampered) {
		t.Fatalf("wrong key: %v", err)
	}
	wrongSize := a
	wrongSize.Size++
	if err := alice.DownloadAttachment(ctxT(t), wrongSize, io.Discard, nil); !errors.Is(err, client.ErrTampered) {
		t.Fatalf("wrong size: %v", err)
	}
	flipBlobByte(t, srv, a.SHA256, 1000)
	if err := alice.DownloadAttachment(ctxT(t), a, io.Discard, nil); !errors.Is(err, client.ErrHashMismatch) {
		t.Fatalf("tampered, hash known: %v", err)
	}
	noHash := a
	noHash.SHA256 = ""
	out := filepath.Join(t.TempDir(), "x.bin")
	if err := alice.DownloadAttachmentFile(ctxT(t), noHash, out, nil); !errors.Is(err, client.ErrTampered) {
		t.Fatalf("tampered, no hash: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Fatalf("a refused download left %v", entries)
	}
}

// flipBlobByte changes one byte of a stored blob (the filesystem store's
// layout: key blobs/<aa>/<sha256> under media/blobs).
func flipBlobByte(t *testing.T, srv *servertest.Server, sum string, at int64) {
	t.Helper()
	p := filepath.Join(srv.Config.Data, "media", "blobs", "blobs", sum[:2], sum)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b[:], at); err != nil {
		t.Fatal(err)
	}
}

// cutter is an HTTP transport that breaks the first request of a method
// after limit bytes of its body (a PUT's request body, a GET's response
// body), and records the requests.
type cutter struct {
	method string
	limit  int64
	mu     sync.Mutex
	cut    bool
	seen   []*http.Request
}

var errCut = errors.New("connection cut by the test")

func (c *cutter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.seen = append(c.seen, r)
	cutNow := r.Method == c.method && !c.cut
	c.cut = c.cut || cutNow
	c.mu.Unlock()
	if cutNow && r.Method == http.MethodPut {
		r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, c.limit), errReader{}))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if cutNow && err == nil && r.Method == http.MethodGet {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(io.LimitReader(resp.Body, c.limit), errReader{}), resp.Body}
	}
	return resp, err
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errCut }

func (c *cutter) headers(method, name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var v []string
	for _, r := range c.seen {
		if r.Method == method {
			v = append(v, r.Header.Get(name))
		}
	}
	return v
}

// TestInterruptedTransfersResume: an upload cut after 1 MiB continues with
// Content-Range where the server's staged bytes end; a download cut after
// 1 MiB continues with a Range request; the file arrives intact.
func TestInterruptedTransfersResume(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	up := &cutter{method: http.MethodPut, limit: 1 << 20}
	down := &cutter{method: http.MethodGet, limit: 1 << 20}
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv),
		func(o *client.Options) { o.HTTPClient = &http.Client{Transport: up} })
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv),
		func(o *client.Options) { o.HTTPClient = &http.Client{Transport: down} })
	path, data := randomFile(t, "video.mp4", 3<<20)
	a, err := alice.UploadFile(ctxT(t), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cr := up.headers(http.MethodPut, "Content-Range"); len(cr) != 2 || cr[0] != "" || !strings.HasPrefix(cr[1], "bytes ") {
		t.Fatalf("PUTs with Content-Range %q, want a whole PUT then a resumed part", cr)
	}
	var got bytes.Buffer
	if err := bob.DownloadAttachment(ctxT(t), a, &got, nil); err != nil {
		t.Fatal(err)
	}
	if rg := down.headers(http.MethodGet, "Range"); len(rg) != 2 || rg[0] != "" || !strings.HasPrefix(rg[1], "bytes=") {
		t.Fatalf("GETs with Range %q, want a whole GET then a resumption", rg)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("resumed transfers changed the file")
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) == a.SHA256 {
		t.Fatal("the announced hash is of the plaintext, want the ciphertext's")
	}
}

// TestUploadFromStream: a reader that cannot seek (a pipe) is uploaded in
// one pass; its hash, learnt on the way, matches what is downloaded.
func TestUploadFromStream(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	data := bytes.Repeat([]byte("0123456789abcdef"), 100_000)
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write(data); _ = pw.Close() }()
	a, err := alice.Upload(ctxT(t), client.FileUpload{Reader: pr, Size: int64(len(data)), Name: "log.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.SHA256) != 64 || a.MediaType != "text/plain; charset=utf-8" {
		t.Fatalf("attachment %+v", a)
	}
	var got bytes.Buffer
	if err := alice.DownloadAttachment(ctxT(t), a, &got, nil); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("download: %v", err)
	}
	short := client.FileUpload{Reader: bytes.NewReader(data[:10]), Size: 20, Name: "short.txt"}
	if _, err := alice.Upload(ctxT(t), short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a reader shorter than its size: %v", err)
	}
}

// TestFileTooLarge: a file at the server's limit is refused before any
// upload (the tag makes it 16 bytes larger); 16 bytes less goes through.
func TestFileTooLarge(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.MediaMaxFileSize = 64 << 10 })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	data := make([]byte, 64<<10)
	_, err := alice.Upload(ctxT(t), client.FileUpload{Reader: bytes.NewReader(data), Size: int64(len(data)), Name: "a.bin"})
	if !errors.Is(err, client.ErrFileTooLarge) || !strings.Contains(err.Error(), "65536") {
		t.Fatalf("a file at the limit: %v", err)
	}
	data = data[:len(data)-16]
	if _, err := alice.Upload(ctxT(t), client.FileUpload{Reader: bytes.NewReader(data), Size: int64(len(data)), Name: "a.bin"}); err != nil {
		t.Fatalf("a file 16 bytes under the limit: %v", err)
	}
}
