package media

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/media/blob"
)

// interruptedPut sends the headers of a PUT of the whole file and only
// the first n bytes of its body, then drops the connection, as a phone
// losing its network does.
func interruptedPut(t *testing.T, s Slot, total int, part []byte) {
	t.Helper()
	u, _ := url.Parse(s.PutURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, s.PutHeaders["Authorization"], total)
	if _, err := c.Write(part); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// offset asks the server how much of the upload it holds (HEAD).
func offset(t *testing.T, s Slot) (int64, string) {
	t.Helper()
	r := do(t, http.MethodHead, s.PutURL, nil, s.PutHeaders)
	if r.status != http.StatusOK {
		t.Fatalf("HEAD of the upload URL: %d", r.status)
	}
	n, err := strconv.ParseInt(r.header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatalf("Upload-Offset %q", r.header.Get("Upload-Offset"))
	}
	return n, r.header.Get("Upload-Complete")
}

// waitOffset waits until the interrupted upload's handler is done and
// the staged offset is want.
func waitOffset(t *testing.T, e *env, s Slot, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	u, _ := url.Parse(s.PutURL)
	slot := strings.Split(u.Path, "/")[3]
	for {
		n, _ := offset(t, s)
		e.svc.mu.Lock()
		busy := e.svc.busy[slot]
		e.svc.mu.Unlock()
		if n == want && !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("staged offset stays %d, want %d", n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInterruptedUploadResumesAndCompletes(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 1<<20)
	s := e.slot(t, "video.mp4", len(data), "video/mp4", sum(data))
	interruptedPut(t, s, len(data), data[:400000])
	waitOffset(t, e, s, 400000)
	if r := get(t, s.GetURL, nil); r.status != http.StatusNotFound {
		t.Fatalf("GET of a half-uploaded file: %d, want 404", r.status)
	}
	// A part that does not start at the staged offset is refused, saying where to go on.
	r := put(t, s, data[500000:], map[string]string{"Content-Range": fmt.Sprintf("bytes 500000-%d/%d", len(data)-1, len(data))})
	wantStatus(t, "part at the wrong offset", r, http.StatusConflict, "offset")
	if r.header.Get("Upload-Offset") != "400000" {
		t.Fatalf("Upload-Offset %q, want 400000", r.header.Get("Upload-Offset"))
	}
	// One more part, then the rest.
	r = put(t, s, data[400000:700000], map[string]string{"Content-Range": fmt.Sprintf("bytes 400000-699999/%d", len(data))})
	if r.status != http.StatusNoContent || r.header.Get("Upload-Offset") != "700000" {
		t.Fatalf("middle part: %d, Upload-Offset %q; want 204 and 700000", r.status, r.header.Get("Upload-Offset"))
	}
	r = put(t, s, data[700000:], map[string]string{"Content-Range": fmt.Sprintf("bytes 700000-%d/%d", len(data)-1, len(data))})
	wantStatus(t, "last part", r, http.StatusCreated, "")
	if n, done := offset(t, s); n != int64(len(data)) || done != "?1" {
		t.Fatalf("HEAD after completion: %d %q", n, done)
	}
	if got := get(t, s.GetURL, nil); !bytes.Equal(got.body, data) {
		t.Fatal("the resumed upload downloads other bytes")
	}
	if entries, _ := os.ReadDir(e.cfg.StagingDir); len(entries) != 0 {
		t.Fatalf("staging files left after completion: %v", entries)
	}
}

// TestCrashMidUploadLeavesNoPartialBlob: the server restarts with half an
// upload staged; nothing of it is visible, and the upload resumes.
func TestCrashMidUploadLeavesNoPartialBlob(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 200000)
	s := e.slot(t, "a.bin", len(data), "", nil)
	interruptedPut(t, s, len(data), data[:120000])
	waitOffset(t, e, s, 120000)
	e.restart(t)
	var keys []string
	_ = e.blobs.List(context.Background(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil })
	if len(keys) != 0 {
		t.Fatalf("blobs visible after a crash mid-upload: %v", keys)
	}
	wantStatus(t, "GET", get(t, s.GetURL, nil), http.StatusNotFound, "not found")
	n, done := offset(t, s)
	if n != 120000 || done != "?0" {
		t.Fatalf("after restart: offset %d %q, want 120000 ?0", n, done)
	}
	r := put(t, s, data[n:], map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/%d", n, len(data)-1, len(data))})
	wantStatus(t, "resumed after restart", r, http.StatusCreated, "")
	if got := get(t, s.GetURL, nil); !bytes.Equal(got.body, data) {
		t.Fatal("other bytes after resuming")
	}
}

func TestOddNamesAndPathTraversal(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct{ name, ctype, wantName, wantDisp string }{
		{"../../etc/passwd", "", "passwd", `attachment; filename="passwd"`},
		{`C:\Users\me\evil.exe`, "application/x-msdownload", "evil.exe", `attachment; filename="evil.exe"`},
		{"résumé 📷.jpg", "image/jpeg", "résumé 📷.jpg", `inline; filename="r_sum_ _.jpg"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%F0%9F%93%B7.jpg`},
		{"<script>.html", "text/html", "<script>.html", `attachment; filename="<script>.html"`},
		{"a\"b\r\nX-Evil: 1", "text/html; charset=utf-8\r\nX-Evil: 1", "a\"bX-Evil: 1", `attachment; filename="a_bX-Evil: 1"`},
		{"..", "image/svg+xml", "file", `attachment; filename="file"`},
		{"", "not a type", "file", `attachment; filename="file"`},
	} {
		data := []byte("payload of " + c.name)
		s := e.slot(t, c.name, len(data), c.ctype, nil)
		wantStatus(t, "PUT "+c.name, put(t, s, data, nil), http.StatusCreated, "")
		r := get(t, s.GetURL, nil)
		if !bytes.Equal(r.body, data) || r.header.Get("X-Evil") != "" {
			t.Fatalf("%q: %d %v", c.name, r.status, r.header)
		}
		if d := r.header.Get("Content-Disposition"); !strings.HasPrefix(d, c.wantDisp) {
			t.Errorf("%q: Content-Disposition %q, want prefix %q", c.name, d, c.wantDisp)
		}
		if u, _ := url.Parse(s.GetURL); !strings.HasSuffix(u.Path, "/"+c.wantName) {
			t.Errorf("%q: GET URL path %q, want it to end in %q", c.name, u.Path, c.wantName)
		}
		if ct := r.header.Get("Content-Type"); strings.ContainsAny(ct, "\r\n;") {
			t.Errorf("%q: Content-Type %q", c.name, ct)
		}
	}
	s := e.slot(t, "x", 1, "", nil)
	u, _ := url.Parse(s.PutURL)
	parts := strings.Split(u.Path, "/") // "", upload, user, slot, name
	for _, p := range []string{
		"/media/../../etc/passwd", "/upload/" + parts[2] + "/..%2f..%2fetc/passwd", "/media/%2e%2e/%2e%2e/x",
		"/upload/" + parts[2] + "/" + parts[3] + "/..%2F..%2Fescape", "/media/" + parts[2] + "/../../../x?exp=1&sig=a",
	} {
		r := rawRequest(t, e.srv.URL, "PUT", p, "y")
		if r < 300 || r == 0 {
			t.Errorf("PUT %s: %d, want a refusal", p, r)
		}
		if r := rawRequest(t, e.srv.URL, "GET", p, ""); r < 300 {
			t.Errorf("GET %s: %d, want a refusal", p, r)
		}
	}
	filepath.WalkDir(filepath.Dir(e.dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && (d.Name() == "passwd" || d.Name() == "escape") {
			t.Errorf("a request created %s", p)
		}
		return nil
	})
}

// rawRequest sends a request with the path exactly as given (no cleaning
// by the client) and returns the status.
func rawRequest(t *testing.T, base, method, path, body string) int {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, path, u.Host, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLogsNeverContainSecrets runs refusals, an interrupted upload and a
// failure with debug logs on and looks for the secret and the signatures.
func TestLogsNeverContainSecrets(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 100000)
	s := e.slot(t, "a", len(data), "", nil)
	interruptedPut(t, s, len(data), data[:1000])
	waitOffset(t, e, s, 1000)
	put(t, s, data[:10], nil)
	put(t, s, data, nil)
	put(t, s, data, nil)
	get(t, s.GetURL+"x", nil)
	get(t, s.GetURL, map[string]string{"Range": "bytes=900000-"})
	logs := e.logs.String()
	gsig, _ := url.Parse(s.GetURL)
	for _, secret := range []string{testSecret, strings.TrimPrefix(s.PutHeaders["Authorization"], "Bearer "), gsig.Query().Get("sig")} {
		if strings.Contains(logs, secret) || strings.Contains(logs, secret[:16]) {
			t.Fatalf("logs contain a secret or signature %q:\n%s", secret[:8]+"...", logs)
		}
	}
	if !strings.Contains(logs, "upload interrupted") {
		t.Fatalf("the interrupted upload was not logged:\n%s", logs)
	}
}
