package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/logbuf"
)

// TestServeReloadsOnHangup: SIGHUP re-reads the configuration file; the
// log level applies at once and settings that need a restart are named.
func TestServeReloadsOnHangup(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "parley.toml")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("log_level = \"info\"\n")
	cmd := exec.Command(parleyBin, "serve", "--config", conf, "--data", data, "--c2s", "127.0.0.1:0", "--c2s-tls", "",
		"--native", "", "--http", "", "--media", "", "--turn", "")
	cmd.Env = cleanEnv()
	var stderr logbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if strings.Contains(stderr.String(), what) {
				return
			}
		}
		t.Fatalf("no %q in the log:\n%s", what, stderr.String())
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := admin.Dial(filepath.Join(data, "admin.sock")); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
	}

	write("log_level = \"debug\"\nmax_stanza_bytes = 100000\n")
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor("SIGHUP: reloading the configuration")
	waitFor("take a restart to apply")
	if !strings.Contains(stderr.String(), "max_stanza_bytes") {
		t.Errorf("the setting needing a restart is not named:\n%s", stderr.String())
	}

	write("log_level = \"loud\"\n") // invalid: kept as it was
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the configuration is invalid; keeping the current one")
}
