package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/logbuf"
	"github.com/parley-im/parley/internal/turn"
	pionturn "github.com/pion/turn/v4"
)

// TestTurnStandalone runs "parley turn" with a secret file shared with
// (here) the test, the way chat servers and relays share it: a
// credential derived from that secret opens an allocation, one from
// another secret does not; /metrics and /healthz count the allocation;
// SIGTERM stops it cleanly.
func TestTurnStandalone(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef-shared"
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "turn-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(parleyBin, "turn", "--data", filepath.Join(dir, "data"), "--domain", "localhost",
		"--turn", "127.0.0.1:0", "--turn-ports", "", "--turn-secret-file", secretFile, "--http", "127.0.0.1:0")
	cmd.Env = cleanEnv()
	var stderr logbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	serving := regexp.MustCompile(`parley turn is serving.* turn=(\S+) .*http=(\S+)`)
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil; time.Sleep(20 * time.Millisecond) {
		if m = serving.FindStringSubmatch(stderr.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("parley turn did not start:\n%s", stderr.String())
		}
	}
	relayAddr, httpAddr := m[1], m[2]

	allocate := func(secret string) error {
		c := turn.Issue([]byte(secret), "alice@localhost", time.Hour, time.Now())
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		cl, err := pionturn.NewClient(&pionturn.ClientConfig{STUNServerAddr: relayAddr, TURNServerAddr: relayAddr,
			Conn: conn, Username: c.Username, Password: c.Password, Realm: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		if err := cl.Listen(); err != nil {
			t.Fatal(err)
		}
		_, err = cl.Allocate()
		return err
	}
	if err := allocate(secret); err != nil {
		t.Fatalf("allocation with the shared secret: %v", err)
	}
	if err := allocate("some other secret entirely"); err == nil {
		t.Fatal("a credential from another secret was accepted")
	}
	metrics := turnHTTPGet(t, "http://"+httpAddr+"/metrics")
	if !strings.Contains(metrics, "parley_turn_allocations 1\n") || !strings.Contains(metrics, "parley_turn_auth_failures_total 1\n") {
		t.Fatalf("metrics:\n%s", metrics)
	}
	if h := turnHTTPGet(t, "http://"+httpAddr+"/healthz"); !strings.Contains(h, `"allocations":1`) {
		t.Fatalf("healthz: %s", h)
	}
	if strings.Contains(stderr.String(), secret) {
		t.Fatal("the secret is in the log")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("parley turn did not stop:\n%s", stderr.String())
	}
}

func turnHTTPGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
