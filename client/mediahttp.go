package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// send PUTs the ciphertext to the slot, resuming with Content-Range after
// a broken connection (docs/media.md, "Resumable uploads").
func (up *upload) send(ctx context.Context, s slot) error {
	var h hash.Hash
	if up.sum == nil { // a one-shot reader: hash on the way
		h = sha256.New()
	}
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			up.c.opts.Logger.Info("upload interrupted; resuming", "err", err)
			if berr := backoff(ctx, attempt); berr != nil {
				return berr
			}
		}
		if err = up.attempt(ctx, s, attempt, h); err == nil {
			if h != nil {
				up.sum = h.Sum(nil)
			}
			return nil
		}
		if !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("upload failed after %d attempts: %w", maxAttempts, err)
}

// attempt sends the file, or after the first attempt what the server is
// missing of it.
func (up *upload) attempt(ctx context.Context, s slot, n int, h hash.Hash) error {
	var off int64
	if n > 0 {
		o, done, err := up.offset(ctx, s)
		if err != nil || done {
			return err
		}
		off = o
	}
	return up.put(ctx, s, off, h)
}

// put sends the ciphertext from off on.
func (up *upload) put(ctx context.Context, s slot, off int64, h hash.Hash) error {
	body, err := up.ciphertext(off)
	if err != nil {
		return err
	}
	if h != nil {
		body = io.TeeReader(body, h)
	}
	body = &progressReader{r: body, done: off, total: up.total, f: up.u.Progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.put, io.NopCloser(body))
	if err != nil {
		return err
	}
	req.ContentLength = up.total - off
	req.Header.Set("Content-Type", "application/octet-stream")
	if off > 0 {
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, up.total-1, up.total))
	}
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	resp, err := up.c.opts.HTTPClient.Do(req)
	if err != nil {
		return &netError{redact(err)}
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusCreated:
		want := up.sum
		if h != nil {
			want = h.Sum(nil)
		}
		if etag := strings.Trim(resp.Header.Get("ETag"), `"`); etag != "" && etag != hex.EncodeToString(want) {
			return fmt.Errorf("media server stored bytes with SHA-256 %s, not ours", etag)
		}
		return nil
	case http.StatusNoContent: // a part stored but not the end: ask again
		return &netError{errors.New("upload incomplete")}
	}
	return httpError(resp)
}

// offset asks how much of the upload the server has (HEAD on the PUT URL).
func (up *upload) offset(ctx context.Context, s slot) (int64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, s.put, nil)
	if err != nil {
		return 0, false, err
	}
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	resp, err := up.c.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, false, &netError{redact(err)}
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		return 0, false, &HTTPError{Status: resp.StatusCode, Reason: "asking for the upload offset"}
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 || off > up.total {
		return 0, false, fmt.Errorf("media server: bad Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return off, resp.Header.Get("Upload-Complete") == "?1", nil
}

// redact removes the query (the signature) from the URL of an HTTP error,
// so that errors and logs never hold a capability.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.Fragment = "", ""
			ue.URL = u.String()
		}
	}
	return err
}

// netError marks a failure worth retrying (the connection, not a refusal).
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// retryable: a broken connection, a 409 (a part at the wrong offset, or
// another attempt still finishing), or a server error.
func retryable(err error) bool {
	var ne *netError
	var he *HTTPError
	switch {
	case errors.As(err, &ne):
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	case errors.As(err, &he):
		return he.Status == http.StatusConflict || he.Status >= 500
	}
	return false
}

func backoff(ctx context.Context, attempt int) error {
	d := min(200*time.Millisecond<<attempt, 5*time.Second)
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func httpError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &HTTPError{Status: resp.StatusCode, Reason: strings.TrimSpace(string(b))}
}

// drain reads a little of what is left and closes, so the connection can
// be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
}

// progressReader reports bytes read to f.
type progressReader struct {
	r           io.Reader
	done, total int64
	f           func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.f != nil && n > 0 {
		p.f(p.done, p.total)
	}
	return n, err
}

// fetchScheme is how an aesgcm:// URL is fetched: https, as XEP-0454
// says, except from a loopback host (a server on this machine, such as
// "parley serve"'s default media listener), where it is plain http.
func fetchScheme(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "https"
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return "http"
	}
	return "https"
}

// nameFromURL is the last element of the URL's path.
func nameFromURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "file"
	}
	p := u.Path
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return "file"
	}
	return p
}
