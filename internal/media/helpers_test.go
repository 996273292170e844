package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/logbuf"
	"github.com/parley-im/parley/internal/media/blob"
	"github.com/prometheus/client_golang/prometheus"
)

const testSecret = "0123456789abcdef-test-secret-0123456789"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a media server on a real loopback HTTP listener.
type env struct {
	svc   *Service
	srv   *httptest.Server
	blobs blob.Store
	clock *clock
	reg   *prometheus.Registry
	logs  *logbuf.Buffer
	dir   string
	cfg   Config
}

func newEnv(t testing.TB, tweak func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	blobs, err := blob.NewFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{blobs: blobs, clock: &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, reg: prometheus.NewRegistry(),
		logs: &logbuf.Buffer{}, dir: dir}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.svc.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.cfg = Config{BaseURL: e.srv.URL, Secret: []byte(testSecret), Blobs: blobs, StagingDir: filepath.Join(dir, "staging"),
		MaxFileSize: 10 << 20, Retention: 30 * 24 * time.Hour, Now: e.clock.now, Registerer: e.reg,
		Log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(&e.cfg)
	}
	e.restart(t)
	return e
}

// restart replaces the service by a new one on the same storage (a
// server restart, or a crash).
func (e *env) restart(t testing.TB) {
	t.Helper()
	cfg := e.cfg
	cfg.Registerer = nil
	if e.svc == nil {
		cfg.Registerer = e.reg
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sum(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

func (e *env) slot(t testing.TB, name string, size int, ctype string, sha []byte) Slot {
	t.Helper()
	s, err := e.svc.NewSlot(context.Background(), SlotRequest{User: "alice@localhost", Filename: name, Size: int64(size),
		ContentType: ctype, SHA256: sha})
	if err != nil {
		t.Fatalf("NewSlot: %v", err)
	}
	return s
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if br, ok := body.(*bytes.Reader); ok {
		req.ContentLength = int64(br.Len())
	}
	for k, v := range header {
		if k == "Content-Length" {
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// put uploads data to the slot with its headers plus extra ones.
func put(t testing.TB, s Slot, data []byte, extra map[string]string) response {
	t.Helper()
	h := map[string]string{}
	for k, v := range s.PutHeaders {
		h[k] = v
	}
	for k, v := range extra {
		h[k] = v
	}
	return do(t, http.MethodPut, s.PutURL, bytes.NewReader(data), h)
}

func get(t testing.TB, url string, header map[string]string) response {
	t.Helper()
	return do(t, http.MethodGet, url, nil, header)
}

func wantStatus(t testing.TB, what string, r response, status int, bodyHas string) {
	t.Helper()
	if r.status != status || !bytes.Contains(r.body, []byte(bodyHas)) {
		t.Fatalf("%s: got %d %q, want %d with %q", what, r.status, r.body, status, bodyHas)
	}
}

// hookedStore is a blob store that runs afterList once a List of exactly
// that prefix has walked every key, so a test can act at that point of a
// sweep (before the sweep goes on) without sleeping.
type hookedStore struct {
	blob.Store
	prefix    string
	afterList func()
}

func (h *hookedStore) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	err := h.Store.List(ctx, prefix, fn)
	if err == nil && prefix == h.prefix && h.afterList != nil {
		h.afterList()
	}
	return err
}

// putStatus uploads data to the slot and returns the status; unlike put it
// may run in a goroutine of its own.
func putStatus(s Slot, data []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPut, s.PutURL, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	for k, v := range s.PutHeaders {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
