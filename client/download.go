package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/aesgcm"
)

// Download errors.
var (
	// ErrHashMismatch: the downloaded bytes do not have the SHA-256 the
	// message announced.
	ErrHashMismatch = errors.New("client: downloaded file does not match its SHA-256")
	// ErrTampered: an encrypted file failed its authentication tag, or its
	// size differs from the announced one.
	ErrTampered = errors.New("client: encrypted file failed authentication (corrupted or tampered with)")
)

// DownloadAttachment fetches a file into w, resuming with Range requests
// after a broken connection, checks the SHA-256 of the fetched bytes when
// the attachment announces one, and, for an aesgcm:// URL, decrypts and
// checks the GCM tag; all streaming, in flat memory. progress, if set, is
// called with the bytes fetched and the total. For a bare URL (no
// metadata), pass Attachment{URL: url}: nothing is checked but the tag.
//
// w receives plaintext before the tag can be checked at the end: when an
// error is returned, discard what w got. DownloadAttachmentFile does that.
func (c *Client) DownloadAttachment(ctx context.Context, a Attachment, w io.Writer, progress func(done, total int64)) error {
	getURL, sink, ow, err := openSink(a, w)
	if err != nil {
		return err
	}
	h := sha256.New()
	want := int64(-1) // the bytes to fetch, when the message says
	if a.Size > 0 {
		want = a.Size
		if ow != nil {
			want += aesgcm.TagSize
		}
	}
	if err := c.fetch(ctx, getURL, want, io.MultiWriter(h, sink), progress); err != nil {
		return err
	}
	if a.SHA256 != "" && !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), a.SHA256) {
		return ErrHashMismatch
	}
	if ow == nil {
		return nil
	}
	if err := ow.Close(); err != nil {
		return fmt.Errorf("%w: %v", ErrTampered, err)
	}
	if a.Size > 0 && ow.Plaintext() != a.Size {
		return fmt.Errorf("%w: %d bytes, the message said %d", ErrTampered, ow.Plaintext(), a.Size)
	}
	return nil
}

// openSink returns the URL to fetch and where its bytes go: w itself for
// a plain URL, a decrypter writing into w for an aesgcm:// one.
func openSink(a Attachment, w io.Writer) (string, io.Writer, *aesgcm.OpenWriter, error) {
	if !a.Encrypted() {
		if !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://") {
			return "", nil, nil, fmt.Errorf("client: cannot fetch %q (want aesgcm://, https:// or http://)", a.URL)
		}
		return a.URL, w, nil, nil
	}
	getURL, key, err := aesgcm.ParseURL(a.URL, fetchScheme(a.URL))
	if err != nil {
		return "", nil, nil, err
	}
	ow, err := aesgcm.NewOpenWriter(w, key)
	return getURL, ow, ow, err
}

// DownloadAttachmentFile downloads into a temporary file beside path and
// renames it to path only once the hash and the tag are checked: path
// never holds unverified bytes.
func (c *Client) DownloadAttachmentFile(ctx context.Context, a Attachment, path string, progress func(done, total int64)) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".parley-download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	err = c.DownloadAttachment(ctx, a, tmp, progress)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// fetch GETs rawURL into dst, resuming after a broken connection with
// Range and If-Range (the file must not change between the parts). want,
// unless negative, is the size the file must have.
func (c *Client) fetch(ctx context.Context, rawURL string, want int64, dst io.Writer, progress func(done, total int64)) error {
	f := &fetcher{c: c, url: rawURL, dst: dst, progress: progress, total: -1, want: want}
	var last error
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
			c.opts.Logger.Info("download interrupted; resuming", "at", f.off, "err", last)
		}
		err := f.get(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		last = err
	}
	return fmt.Errorf("download failed after %d attempts: %w", maxAttempts, last)
}

// fetcher is one download in progress.
type fetcher struct {
	c        *Client
	url      string
	dst      io.Writer
	progress func(done, total int64)
	off      int64 // bytes written to dst
	total    int64 // -1 until known
	want     int64 // the expected size, -1 if unknown
	etag     string
}

// get fetches the rest of the file, from f.off.
func (f *fetcher) get(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return err
	}
	if f.off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", f.off))
		if f.etag != "" {
			req.Header.Set("If-Range", f.etag)
		}
	}
	resp, err := f.c.opts.HTTPClient.Do(req)
	if err != nil {
		return &netError{redact(err)}
	}
	defer resp.Body.Close()
	if err := f.check(resp); err != nil {
		return err
	}
	var src io.Reader = resp.Body
	if f.total >= 0 {
		src = io.LimitReader(src, f.total-f.off+1) // one byte too many shows as a size error
	}
	body := &progressReader{r: src, done: f.off, total: f.total, f: f.progress}
	n, err := io.Copy(f.dst, readErrors{body})
	f.off += n
	var re readError
	switch {
	case errors.As(err, &re):
		return &netError{re.err}
	case err != nil:
		return err // the writer's: not worth another request
	case f.total >= 0 && f.off > f.total:
		return fmt.Errorf("%w: the server sent more than %d bytes", ErrTampered, f.total)
	case f.total >= 0 && f.off != f.total:
		return &netError{fmt.Errorf("connection closed at byte %d of %d: %w", f.off, f.total, io.ErrUnexpectedEOF)}
	}
	return nil
}

// check accepts a 200 for a first request and a 206 starting at f.off for
// a resumption, and learns the total size and the ETag.
func (f *fetcher) check(resp *http.Response) error {
	switch {
	case f.off == 0 && resp.StatusCode == http.StatusOK:
		f.total, f.etag = resp.ContentLength, resp.Header.Get("ETag")
		if f.want >= 0 && f.total >= 0 && f.total != f.want {
			return fmt.Errorf("%w: the server has %d bytes, the message said %d", ErrTampered, f.total, f.want)
		}
		if f.total < 0 {
			f.total = f.want // no Content-Length: hold the server to the announced size
		}
		return nil
	case f.off > 0 && resp.StatusCode == http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != f.off || (f.total >= 0 && total != f.total) {
			return fmt.Errorf("media server answered range %q to a resumption at %d", resp.Header.Get("Content-Range"), f.off)
		}
		return nil
	case f.off > 0 && resp.StatusCode == http.StatusOK:
		return errors.New("media server: the file changed during the download")
	}
	return httpError(resp)
}

// parseContentRange reads "bytes first-last/total".
func parseContentRange(s string) (start, total int64, ok bool) {
	rng, found := strings.CutPrefix(s, "bytes ")
	first, rest, ok1 := strings.Cut(rng, "-")
	_, tot, ok2 := strings.Cut(rest, "/")
	a, err1 := strconv.ParseInt(first, 10, 64)
	t, err2 := strconv.ParseInt(tot, 10, 64)
	return a, t, found && ok1 && ok2 && err1 == nil && err2 == nil
}

// readErrors tells the body's errors from the writer's in io.Copy.
type readErrors struct{ r io.Reader }

type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

func (r readErrors) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}
