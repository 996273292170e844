package media

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/media/blob"
)

// get serves GET and HEAD of /media/<user>/<slot>/<name>?exp=&sig=.
func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	c, err := parseGet(s.sign, r, s.cfg.Now())
	if err != nil {
		s.refuseURL(w, err)
		return
	}
	rec, err := s.readRecord(r.Context(), c.user, c.slot)
	if errors.Is(err, blob.ErrNotFound) {
		s.refuse(w, http.StatusNotFound, reasonNotFound, "not found")
		return
	}
	if err != nil {
		s.internal(w, "reading a slot record", err)
		return
	}
	etag := `"` + rec.SHA256 + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Accept-Ranges", "bytes")
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == "*" || strings.Contains(inm, etag)) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	status := http.StatusOK
	rng := r.Header.Get("Range")
	if ir := r.Header.Get("If-Range"); ir != "" && ir != etag {
		rng = "" // the client has another version: send it all
	}
	from, n, ok := parseRange(rng, rec.Size)
	switch {
	case !ok:
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", rec.Size))
		s.refuse(w, http.StatusRequestedRangeNotSatisfiable, reasonRange, "range not satisfiable")
		return
	case n != rec.Size:
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, from+n-1, rec.Size))
	}
	s.send(w, r, rec, from, n, status)
}

// send writes the headers and, for GET, n bytes of the blob from offset
// from, streamed from the store.
func (s *Service) send(w http.ResponseWriter, r *http.Request, rec record, from, n int64, status int) {
	var body io.ReadCloser
	if r.Method != http.MethodHead {
		var err error
		if body, err = s.cfg.Blobs.Open(r.Context(), blobKey(rec.SHA256), from, n); err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				s.refuse(w, http.StatusNotFound, reasonNotFound, "not found")
				return
			}
			s.internal(w, "opening a blob", err)
			return
		}
		defer body.Close()
	}
	h := w.Header()
	h.Set("Content-Type", rec.Type)
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	h.Set("Content-Disposition", disposition(rec.Type, rec.Name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(status)
	if body == nil {
		return
	}
	s.m.downloads.Inc()
	sent, err := io.Copy(w, body)
	s.m.downloadBytes.Add(float64(sent))
	if err != nil && r.Context().Err() == nil {
		s.log.Debug("download interrupted", "sent", sent, "of", n, "err", err)
	}
}

// parseRange reads a Range header for a body of size bytes and returns the
// part to send. No header, a malformed one or several ranges mean the whole
// body (RFC 9110 lets a server ignore Range); ok is false for a single
// range that is not satisfiable.
func parseRange(h string, size int64) (from, n int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, size, true
	}
	if first == "" { // suffix: the last N bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k < 0 {
			return 0, size, true
		}
		if k == 0 || size == 0 {
			return 0, 0, false
		}
		k = min(k, size)
		return size - k, k, true
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, size, true
	}
	if a >= size {
		return 0, 0, false
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return 0, size, true
		}
		b = min(b, size-1)
	}
	return a, b - a + 1, true
}

// disposition is a Content-Disposition that browsers cannot misuse:
// pictures, sound and video inline, anything else (HTML, SVG, scripts) as
// an attachment; the name as a quoted ASCII fallback and RFC 8187 UTF-8.
func disposition(ctype, name string) string {
	kind := "attachment"
	if inlineType(ctype) {
		kind = "inline"
	}
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, ascii, attrChars(name))
}

func inlineType(ct string) bool {
	switch ct {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/heic":
		return true
	}
	return strings.HasPrefix(ct, "audio/") || strings.HasPrefix(ct, "video/")
}

// attrChars percent-encodes s as an RFC 8187 value: every byte but
// letters, digits and !#$&+-.^_`|~.
func attrChars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
