package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/aesgcm"
	"github.com/parley-im/parley/internal/stanza"
)

// FileUpload is a file to upload with Upload.
type FileUpload struct {
	// Reader yields the file's bytes. An io.ReadSeeker (such as an
	// *os.File) lets the upload resume after a broken connection, lets
	// the slot request declare the hash (the server then refuses other
	// bytes) and gives images a thumbnail; a plain io.Reader is read
	// once. A seekable Reader is read from its start. Images of up to 25
	// megapixels get a thumbnail (decoding one takes up to 100 MB).
	Reader io.Reader
	Size   int64  // bytes Reader yields
	Name   string // shown to the recipient
	// MediaType is the MIME type; "" guesses it from the name (and the
	// first bytes of a seekable Reader).
	MediaType string
	// Progress, if set, is called as the encrypted bytes go out, with the
	// bytes the server has and the total (Size + 16).
	Progress func(done, total int64)
}

// HTTPError is a refusal by the media server: its status and the one-line
// reason it gave.
type HTTPError struct {
	Status int
	Reason string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("media server: %d %s", e.Status, e.Reason) }

// ErrFileTooLarge: the server's upload service refused the size. The
// upload is the file plus a 16-byte tag, so the largest file is the
// server's limit minus 16 bytes.
var ErrFileTooLarge = errors.New("client: file too large for the server")

// ErrNotResumable reports a broken upload of a plain io.Reader, which
// cannot be read again.
var ErrNotResumable = errors.New("client: upload interrupted and its reader cannot be rewound")

// maxAttempts bounds the HTTP requests of one upload or download.
const maxAttempts = 5

// UploadFile encrypts the file at path and uploads it (see Upload).
func (c *Client) UploadFile(ctx context.Context, path string, progress func(done, total int64)) (Attachment, error) {
	f, err := os.Open(path)
	if err != nil {
		return Attachment{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Attachment{}, err
	}
	if !fi.Mode().IsRegular() {
		return Attachment{}, fmt.Errorf("%s is not a regular file", path)
	}
	return c.Upload(ctx, FileUpload{Reader: f, Size: fi.Size(), Name: filepath.Base(path), Progress: progress})
}

// Upload encrypts a file on this device with a fresh random key
// (AES-256-GCM, XEP-0454) and uploads the ciphertext through an HTTP
// upload slot (XEP-0363) that it asks the account's domain for (where
// Parley's upload service answers). Memory stays flat whatever the size.
// The slot's name is random (with the file's extension, which XEP-0454
// apps read) and its type application/octet-stream: the media server
// learns neither the name nor the type. Send the result with
// SendAttachment.
func (c *Client) Upload(ctx context.Context, u FileUpload) (Attachment, error) {
	if u.Reader == nil || u.Size < 0 || u.Size > aesgcm.MaxSize {
		return Attachment{}, fmt.Errorf("%w: a file upload needs a Reader and a size from 0 to %d", ErrBadOptions, int64(aesgcm.MaxSize))
	}
	key, err := aesgcm.NewKey()
	if err != nil {
		return Attachment{}, err
	}
	up := &upload{c: c, u: u, key: key, total: u.Size + aesgcm.TagSize}
	rs, seekable := u.Reader.(io.ReadSeeker)
	if seekable {
		up.rs = rs
	}
	a := Attachment{Size: u.Size, Name: u.Name, MediaType: u.MediaType}
	if a.MediaType == "" {
		a.MediaType = guessType(u.Name, up.rs)
	}
	if seekable {
		if up.sum, err = up.prepass(); err != nil {
			return Attachment{}, err
		}
		a.Thumbnail = thumbnail(rs, a.MediaType)
	}
	s, err := c.requestSlot(ctx, slotName(u.Name), up.total, up.sum)
	if err != nil {
		return Attachment{}, err
	}
	if err := up.send(ctx, s); err != nil {
		return Attachment{}, err
	}
	a.SHA256 = hex.EncodeToString(up.sum)
	a.URL, err = aesgcm.FormatURL(s.get, key)
	return a, err
}

// slot is an upload slot (XEP-0363).
type slot struct {
	put, get string
	headers  map[string]string
}

// requestSlot asks the server's upload service for a slot.
func (c *Client) requestSlot(ctx context.Context, name string, size int64, sum []byte) (slot, error) {
	req := stanza.NewElement(nsUpload, "request", "filename", name, "size", strconv.FormatInt(size, 10),
		"content-type", "application/octet-stream")
	if sum != nil {
		h := stanza.NewElement(nsHashes, "hash", "algo", "sha-256")
		h.Text = base64.StdEncoding.EncodeToString(sum)
		req.AddChild(h)
	}
	res, err := c.call(ctx, c.account.domain, req)
	var iqe *IQError
	if errors.As(err, &iqe) && iqe.Condition == "not-acceptable" {
		return slot{}, fmt.Errorf("%w: %d bytes once encrypted (%s)", ErrFileTooLarge, size, iqe.Text)
	}
	if err != nil {
		return slot{}, fmt.Errorf("asking for an upload slot: %w", err)
	}
	el := res.Child(nsUpload, "slot")
	if el == nil || el.Child(nsUpload, "put") == nil || el.Child(nsUpload, "get") == nil {
		return slot{}, errors.New("asking for an upload slot: the answer has no slot")
	}
	put := el.Child(nsUpload, "put")
	s := slot{put: put.Attr("url"), get: el.Child(nsUpload, "get").Attr("url"), headers: map[string]string{}}
	for _, h := range put.Children {
		if h.Name == "header" {
			s.headers[h.Attr("name")] = h.Text
		}
	}
	return s, nil
}

// upload is one Upload in progress.
type upload struct {
	c     *Client
	u     FileUpload
	rs    io.ReadSeeker // nil: u.Reader can be read once only
	key   aesgcm.Key
	total int64  // ciphertext bytes
	sum   []byte // SHA-256 of the ciphertext, once known
	used  bool   // the one-shot reader was consumed
}

// ciphertext returns the encrypted file from byte off on.
func (up *upload) ciphertext(off int64) (io.Reader, error) {
	src := up.u.Reader
	if up.rs != nil {
		if _, err := up.rs.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	} else if up.used {
		return nil, ErrNotResumable
	}
	up.used = true
	r, err := aesgcm.NewSealReader(&exactReader{r: src, left: up.u.Size}, up.key)
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		return nil, err
	}
	return r, nil
}

// prepass encrypts the file once to learn the ciphertext's hash.
func (up *upload) prepass() ([]byte, error) {
	r, err := up.ciphertext(0)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// exactReader yields exactly left bytes of r, or an error.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n, err := e.r.Read(p[:min(int64(len(p)), e.left)])
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = fmt.Errorf("the file ended %d bytes before its size: %w", e.left, io.ErrUnexpectedEOF)
	}
	return n, err
}

// guessType is the MIME type by extension, else by content, else binary.
func guessType(name string, rs io.ReadSeeker) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); t != "" {
		return t
	}
	if rs != nil {
		var head [512]byte
		if _, err := rs.Seek(0, io.SeekStart); err == nil {
			n, _ := io.ReadFull(rs, head[:])
			return http.DetectContentType(head[:n])
		}
	}
	return "application/octet-stream"
}

// slotName is a random name with the file's (short, alphanumeric)
// extension.
func slotName(name string) string {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	ok := len(ext) > 0 && len(ext) <= 8 && strings.IndexFunc(ext, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) < 0
	n := strings.ToLower(rand.Text()[:16])
	if ok {
		return n + "." + ext
	}
	return n + ".bin"
}
