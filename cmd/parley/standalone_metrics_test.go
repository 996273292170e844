package main

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/logbuf"
)

// TestStandaloneMetricsForMetricsAllowOnly: the standalone media server
// and relay serve /metrics only to the networks of --metrics-allow, as
// "parley serve" does: with loopback left out, a local client gets 403
// with the reason, while /healthz stays open to all.
func TestStandaloneMetricsForMetricsAllowOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		serving *regexp.Regexp
	}{
		{"media", []string{"media", "--media", "127.0.0.1:0"}, regexp.MustCompile(`parley media is serving.* media=(\S+)`)},
		{"turn", []string{"turn", "--domain", "localhost", "--turn", "127.0.0.1:0", "--turn-ports", "", "--http", "127.0.0.1:0"},
			regexp.MustCompile(`parley turn is serving.* http=(\S+)`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--data", filepath.Join(t.TempDir(), "data"), "--metrics-allow", "10.0.0.0/8")
			addr := startStandalone(t, args, tc.serving)
			if code, body := httpStatus(t, "http://"+addr+"/metrics"); code != http.StatusForbidden || !strings.Contains(body, "--metrics-allow") {
				t.Fatalf("/metrics from loopback, outside --metrics-allow: %d %q, want 403 naming --metrics-allow", code, body)
			}
			if code, _ := httpStatus(t, "http://"+addr+"/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz: %d, want 200", code)
			}
		})
	}
}

// startStandalone starts parley with args and returns the address that
// serving (a regexp of its log line) finds.
func startStandalone(t *testing.T, args []string, serving *regexp.Regexp) string {
	t.Helper()
	cmd := exec.Command(parleyBin, args...)
	cmd.Env = cleanEnv()
	var stderr logbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := serving.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("parley %s did not start:\n%s", args[0], stderr.String())
		}
	}
}

func httpStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
