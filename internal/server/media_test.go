package server

// The media server wired into "parley serve": XEP-0363 slots over XMPP,
// uploads and downloads over its HTTP listener, with slixmpp's xep_0363
// plugin (a client nobody here wrote).
//
// Run: go test -run 'Media' -v ./internal/server/

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
)

func TestMediaSlixmppUploadsAndDownloadsByteIdentical(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, func(c *config.Config) { c.MediaMaxFileSize = 3 << 20 })
	ts.addUser(t, "alice", "pw-alice")
	if ts.addrs.Media == "" || strings.HasSuffix(ts.addrs.Media, ":0") {
		t.Fatalf("media listener address %q", ts.addrs.Media)
	}
	data := make([]byte, 2<<20+123)
	_, _ = rand.Read(data)
	file := filepath.Join(t.TempDir(), "photo of us.jpg")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])

	obs := runScript(t, []string{"PASSWORD=pw-alice"}, "upload.py", ts.addrs.C2S, "alice@localhost/phone", file)
	svc, found := find(obs, isEvent("service"))
	if !found || svc.raw["jid"] != "localhost" {
		t.Fatalf("slixmpp did not find the upload service on the server's domain: %v", obs)
	}
	up, found := find(obs, isEvent("uploaded"))
	if !found {
		t.Fatalf("no upload: %v", obs)
	}
	if url, _ := up.raw["url"].(string); !strings.HasPrefix(url, "http://"+ts.addrs.Media+"/media/") {
		t.Errorf("GET URL %q is not on the media listener %s", url, ts.addrs.Media)
	}
	if up.raw["max_file_size"] != float64(3<<20) {
		t.Errorf("slixmpp read max-file-size %v from disco, want %d", up.raw["max_file_size"], 3<<20)
	}
	down, found := find(obs, isEvent("downloaded"))
	if !found || down.raw["http_status"] != float64(200) || down.raw["size"] != float64(len(data)) || down.raw["sha256"] != want {
		t.Fatalf("download %v, want 200 with %d bytes of sha256 %s", down.raw, len(data), want)
	}
	if down.raw["content_type"] != "image/jpeg" || down.raw["etag"] != `"`+want+`"` {
		t.Errorf("download headers: %v", down.raw)
	}

	obs = runScript(t, []string{"PASSWORD=pw-alice"}, "upload.py", ts.addrs.C2S, "alice@localhost/phone", file, "--too-large", "4000000")
	e, found := find(obs, isEvent("slot_error"))
	if !found || e.Condition != "not-acceptable" || !strings.Contains(e.XML, "file-too-large") ||
		!strings.Contains(e.XML, "<max-file-size>3145728</max-file-size>") {
		t.Fatalf("slot over the limit: %v, want not-acceptable with file-too-large and max-file-size 3145728", obs)
	}
}
