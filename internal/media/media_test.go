package media

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/parley-im/parley/internal/media/blob"
)

func TestUploadThenDownloadByteIdentical(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 300000)
	s := e.slot(t, "holiday photo.jpg", len(data), "image/jpeg", nil)
	if !strings.HasPrefix(s.PutURL, e.srv.URL+"/upload/") || !strings.HasPrefix(s.GetURL, e.srv.URL+"/media/") ||
		!strings.HasPrefix(s.PutHeaders["Authorization"], "Bearer ") {
		t.Fatalf("slot %+v", s)
	}
	r := put(t, s, data, map[string]string{"Content-Type": "image/jpeg"})
	wantStatus(t, "PUT", r, http.StatusCreated, "")
	sha := hex.EncodeToString(sum(data))
	got := get(t, s.GetURL, nil)
	wantStatus(t, "GET", got, http.StatusOK, "")
	if !bytes.Equal(got.body, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(got.body), len(data))
	}
	want := map[string]string{
		"Content-Type": "image/jpeg", "Content-Length": "300000", "ETag": `"` + sha + `"`,
		"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": `inline; filename="holiday photo.jpg"; filename*=UTF-8''holiday%20photo.jpg`,
		"Accept-Ranges":       "bytes", "Content-Security-Policy": "default-src 'none'; sandbox",
	}
	for k, v := range want {
		if got.header.Get(k) != v {
			t.Errorf("GET header %s = %q, want %q", k, got.header.Get(k), v)
		}
	}
	head := do(t, http.MethodHead, s.GetURL, nil, nil)
	if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != "300000" || head.header.Get("ETag") != want["ETag"] {
		t.Errorf("HEAD: %d %v", head.status, head.header)
	}
	if r := get(t, s.GetURL, map[string]string{"If-None-Match": want["ETag"]}); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.status)
	}
	if n := counterValue(e.svc.m.uploads); n != 1 {
		t.Errorf("uploads_total = %v", n)
	}
}

func TestSecondPutToAUsedSlotIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	s := e.slot(t, "a.txt", 5, "text/plain", nil)
	wantStatus(t, "first PUT", put(t, s, []byte("hello"), nil), http.StatusCreated, "")
	wantStatus(t, "second PUT", put(t, s, []byte("HELLO"), nil), http.StatusConflict, "slot already used")
	if got := get(t, s.GetURL, nil); string(got.body) != "hello" {
		t.Fatalf("after a refused second PUT: %q", got.body)
	}
}

func TestPutLargerOrSmallerThanItsSlot(t *testing.T) {
	e := newEnv(t, nil)
	s := e.slot(t, "a.bin", 100, "", nil)
	wantStatus(t, "PUT of 101 bytes", put(t, s, randomBytes(t, 101), nil), http.StatusRequestEntityTooLarge, "larger than the slot")
	// Chunked, so the server finds out while reading.
	req, _ := http.NewRequest(http.MethodPut, s.PutURL, struct{ *bytes.Reader }{bytes.NewReader(randomBytes(t, 5000))})
	req.Header.Set("Authorization", s.PutHeaders["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked PUT of 5000 bytes to a 100-byte slot: %d, want 413", resp.StatusCode)
	}
	wantStatus(t, "PUT of 99 bytes", put(t, s, randomBytes(t, 99), nil), http.StatusBadRequest, "Content-Length")
	wantStatus(t, "PUT with Content-Range past the slot", put(t, s, randomBytes(t, 10), map[string]string{"Content-Range": "bytes 0-9/200"}),
		http.StatusRequestEntityTooLarge, "")
	wantStatus(t, "PUT of 100 bytes", put(t, s, randomBytes(t, 100), nil), http.StatusCreated, "")
}

func TestSlotsOverTheLimitAndQuota(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize, c.Quota = 1000, 1500 })
	ctx := context.Background()
	if _, err := e.svc.NewSlot(ctx, SlotRequest{User: "alice@localhost", Filename: "big", Size: 1001}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("slot over the limit: %v, want ErrTooLarge", err)
	}
	a, b := e.slot(t, "a", 1000, "", nil), e.slot(t, "b", 1000, "", nil) // both fit before any upload
	wantStatus(t, "first upload", put(t, a, randomBytes(t, 1000), nil), http.StatusCreated, "")
	if _, err := e.svc.NewSlot(ctx, SlotRequest{User: "alice@localhost", Filename: "c", Size: 600}); !errors.Is(err, ErrQuota) {
		t.Fatalf("slot over the quota: %v, want ErrQuota", err)
	}
	if _, err := e.svc.NewSlot(ctx, SlotRequest{User: "bob@localhost", Filename: "c", Size: 600}); err != nil {
		t.Fatalf("another user's slot: %v", err)
	}
	wantStatus(t, "upload over the quota", put(t, b, randomBytes(t, 1000), nil), http.StatusRequestEntityTooLarge, "quota exceeded")
	if n := counterValue(e.svc.m.rejections.WithLabelValues(reasonQuota)); n != 2 {
		t.Errorf("quota rejections = %v, want 2", n)
	}
}

func TestDeclaredHashMismatchIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 4096)
	s := e.slot(t, "doc.pdf", len(data), "application/pdf", sum(data))
	wrong := bytes.Clone(data)
	wrong[100] ^= 1
	wantStatus(t, "PUT of other bytes", put(t, s, wrong, nil), http.StatusBadRequest, "SHA-256")
	if r := get(t, s.GetURL, nil); r.status != http.StatusNotFound {
		t.Fatalf("GET after a refused upload: %d", r.status)
	}
	wantStatus(t, "PUT of the declared bytes", put(t, s, data, nil), http.StatusCreated, "")
}

func TestExpiredOrForgedSignaturesAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	s := e.slot(t, "a", 3, "", nil)
	sig := strings.TrimPrefix(s.PutHeaders["Authorization"], "Bearer ")
	forged := sig[:10] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sig[10])+1)%16]) + sig[11:]
	wantStatus(t, "no signature", do(t, http.MethodPut, s.PutURL, bytes.NewReader([]byte("abc")), nil), http.StatusForbidden, "invalid signature")
	wantStatus(t, "forged signature", put(t, s, []byte("abc"), map[string]string{"Authorization": "Bearer " + forged}), http.StatusForbidden, "invalid signature")
	bigger := strings.Replace(s.PutURL, "size=3", "size=30", 1)
	wantStatus(t, "size changed", do(t, http.MethodPut, bigger, bytes.NewReader([]byte("abc")), s.PutHeaders), http.StatusBadRequest, "malformed")
	other := strings.Replace(s.PutURL, "type=application%2Foctet-stream", "type=text%2Fhtml", 1)
	wantStatus(t, "type changed", do(t, http.MethodPut, other, bytes.NewReader([]byte("abc")), s.PutHeaders), http.StatusForbidden, "invalid signature")
	u, _ := url.Parse(s.GetURL)
	q := u.Query()
	q.Set("sig", forged)
	u.RawQuery = q.Encode()
	wantStatus(t, "GET forged", get(t, u.String(), nil), http.StatusForbidden, "invalid signature")
	wantStatus(t, "sig in the query instead", do(t, http.MethodPut, s.PutURL+"&sig="+sig, bytes.NewReader([]byte("abc")), nil), http.StatusCreated, "")

	s2 := e.slot(t, "b", 3, "", nil)
	e.clock.add(25 * time.Hour)
	wantStatus(t, "expired PUT", put(t, s2, []byte("abc"), nil), http.StatusForbidden, "expired")
	wantStatus(t, "GET within retention", get(t, s.GetURL, nil), http.StatusOK, "abc")
	e.clock.add(30 * 24 * time.Hour)
	wantStatus(t, "expired GET", get(t, s.GetURL, nil), http.StatusForbidden, "expired")
	for _, reason := range []string{reasonSignature, reasonExpired} {
		if counterValue(e.svc.m.rejections.WithLabelValues(reason)) == 0 {
			t.Errorf("no rejection counted for %s", reason)
		}
	}
}

func TestRangeRequests(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 10000)
	s := e.slot(t, "song.ogg", len(data), "audio/ogg", nil)
	wantStatus(t, "PUT", put(t, s, data, nil), http.StatusCreated, "")
	for _, c := range []struct {
		rng      string
		from, to int // inclusive; -1: whole body (200)
	}{
		{"bytes=0-9", 0, 9}, {"bytes=5000-", 5000, 9999}, {"bytes=-100", 9900, 9999}, {"bytes=9999-20000", 9999, 9999},
		{"bytes=0-0,5-6", -1, -1}, {"items=0-1", -1, -1}, {"bytes=-20000", 0, 9999},
	} {
		r := get(t, s.GetURL, map[string]string{"Range": c.rng})
		if c.from < 0 {
			if r.status != 200 || !bytes.Equal(r.body, data) {
				t.Errorf("Range %s: %d with %d bytes, want 200 and the whole body", c.rng, r.status, len(r.body))
			}
			continue
		}
		wantCR := "bytes " + strconv.Itoa(c.from) + "-" + strconv.Itoa(c.to) + "/10000"
		if c.from == 0 && c.to == 9999 {
			if r.status != 200 || !bytes.Equal(r.body, data) {
				t.Errorf("Range %s: %d, want 200 and the whole body", c.rng, r.status)
			}
			continue
		}
		if r.status != 206 || !bytes.Equal(r.body, data[c.from:c.to+1]) || r.header.Get("Content-Range") != wantCR {
			t.Errorf("Range %s: %d %q with %d bytes, want 206 %q with exactly bytes %d..%d", c.rng, r.status,
				r.header.Get("Content-Range"), len(r.body), wantCR, c.from, c.to)
		}
	}
	for _, rng := range []string{"bytes=10000-", "bytes=20000-30000", "bytes=-0"} {
		r := get(t, s.GetURL, map[string]string{"Range": rng})
		if r.status != http.StatusRequestedRangeNotSatisfiable || r.header.Get("Content-Range") != "bytes */10000" {
			t.Errorf("Range %s: %d %q, want 416 with bytes */10000", rng, r.status, r.header.Get("Content-Range"))
		}
	}
	r := get(t, s.GetURL, map[string]string{"Range": "bytes=0-9", "If-Range": `"other"`})
	if r.status != 200 || len(r.body) != len(data) {
		t.Errorf("If-Range with another ETag: %d, want 200 and the whole body", r.status)
	}
}

// counterValue reads a counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func TestIdenticalFilesAreStoredOnce(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(t, 5000)
	for i := range 3 {
		s := e.slot(t, "same.bin", len(data), "", nil)
		wantStatus(t, "PUT", put(t, s, data, nil), http.StatusCreated, "")
		if r := get(t, s.GetURL, nil); !bytes.Equal(r.body, data) {
			t.Fatalf("upload %d: downloaded other bytes", i)
		}
	}
	n := 0
	_ = e.blobs.List(context.Background(), "blobs/", func(blob.Info) error { n++; return nil })
	if n != 1 || counterValue(e.svc.m.dedup) != 2 {
		t.Fatalf("3 uploads of the same bytes: %d blobs, %v deduplicated; want 1 and 2", n, counterValue(e.svc.m.dedup))
	}
}

func TestRetentionSweeperRemovesOldFiles(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Retention = 48 * time.Hour })
	// The service's clock starts now, as the blobs' modification times
	// (the real clock) do: from the env's fixed date, 49 hours after now
	// was past the old file's GET URL once that date was a day old (403
	// "URL expired" instead of 404).
	e.clock.t = time.Now()
	old := e.slot(t, "old", 3, "", nil)
	wantStatus(t, "PUT", put(t, old, []byte("old"), nil), http.StatusCreated, "")
	shared := randomBytes(t, 50)
	s1 := e.slot(t, "shared", 50, "", nil)
	wantStatus(t, "PUT", put(t, s1, shared, nil), http.StatusCreated, "")
	// Retention counts from the upload time in the record (the service's
	// clock); orphaned blobs go once older than a slot's lifetime (the
	// store's clock, the real one).
	e.clock.t = time.Now().Add(47 * time.Hour)
	s2 := e.slot(t, "shared again", 50, "", nil)
	wantStatus(t, "PUT", put(t, s2, shared, nil), http.StatusCreated, "")
	if _, err := os.Stat(e.cfg.StagingDir); err != nil {
		t.Fatal(err)
	}
	e.clock.t = time.Now().Add(49 * time.Hour)
	st, err := e.svc.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 2 || st.Blobs != 1 {
		t.Fatalf("sweep removed %+v, want 2 records and 1 blob", st)
	}
	wantStatus(t, "GET of an old file", get(t, old.GetURL, nil), http.StatusNotFound, "not found")
	wantStatus(t, "GET of a shared blob still referenced", get(t, s2.GetURL, nil), http.StatusOK, "")
}

func TestSecretFile(t *testing.T) {
	p := t.TempDir() + "/media/secret"
	a, created, err := LoadOrCreateSecret(p)
	if err != nil || !created || len(a) < MinSecretBytes {
		t.Fatalf("create: %q %v %v", a, created, err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	b, created, err := LoadOrCreateSecret(p)
	if err != nil || created || !bytes.Equal(a, b) {
		t.Fatalf("load: %v %v, same=%v", created, err, bytes.Equal(a, b))
	}
	_ = os.WriteFile(p, []byte("short\n"), 0o600)
	if _, _, err := LoadOrCreateSecret(p); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

// TestSweepKeepsABlobReusedWhileItRuns: the only record of a blob expires,
// and the same bytes are uploaded again after the sweep listed the records
// but before it deletes orphaned blobs. The new upload reuses the blob, so
// the sweep must not delete it.
func TestSweepKeepsABlobReusedWhileItRuns(t *testing.T) {
	hooked := &hookedStore{prefix: "slots/"}
	e := newEnv(t, func(c *Config) {
		c.Retention = 48 * time.Hour
		hooked.Store = c.Blobs
		c.Blobs = hooked
	})
	e.clock.t = time.Now() // the blobs' modification times are the real clock's
	data := randomBytes(t, 5000)
	wantStatus(t, "first upload", put(t, e.slot(t, "a.bin", len(data), "", nil), data, nil), http.StatusCreated, "")
	e.clock.add(49 * time.Hour) // its record has expired; its blob is older than a slot's lifetime
	var again Slot
	hooked.afterList = func() {
		hooked.afterList = nil
		again = e.slot(t, "a.bin", len(data), "", nil)
		wantStatus(t, "the same bytes during the sweep", put(t, again, data, nil), http.StatusCreated, "")
	}
	st, err := e.svc.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 1 || st.Blobs != 0 || counterValue(e.svc.m.dedup) != 1 {
		t.Fatalf("sweep removed %+v with %v deduplicated; want 1 record, no blob, 1 deduplicated", st, counterValue(e.svc.m.dedup))
	}
	if r := get(t, again.GetURL, nil); r.status != http.StatusOK || !bytes.Equal(r.body, data) {
		t.Fatalf("GET of the upload completed during the sweep: %d with %d bytes, want 200 and the file", r.status, len(r.body))
	}
}
