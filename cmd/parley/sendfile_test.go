package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/servertest"
)

// serveProc is a "parley serve" process started by a test.
type serveProc struct {
	cmd    *exec.Cmd
	data   string // its data directory
	native string // the binary protocol's address
}

// startServe runs "parley serve" on loopback ports with users alice and
// bob, and waits for its "parley is serving" line.
func startServe(t *testing.T) *serveProc {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	for _, u := range []string{"alice", "bob"} {
		ok(t, runOpts{}, "user", "add", u+"@localhost", "--password", "pw-"+u, "--data", data)
	}
	cmd := exec.Command(parleyBin, "serve", "--data", data, "--c2s", "127.0.0.1:0", "--c2s-tls", "",
		"--native", "127.0.0.1:0", "--http", "", "--media", "127.0.0.1:0", "--turn", "")
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		native := regexp.MustCompile(`native=(\S+)`)
		for sc.Scan() {
			if m := native.FindStringSubmatch(sc.Text()); m != nil && strings.Contains(sc.Text(), "parley is serving") {
				found <- m[1]
			}
		}
	}()
	select {
	case addr := <-found:
		return &serveProc{cmd: cmd, data: data, native: addr}
	case <-time.After(30 * time.Second):
		t.Fatal("parley serve did not start")
		return nil
	}
}

// memKiB reads a field (VmHWM, VmRSS) of /proc/<pid>/status, in KiB.
func memKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/%d/status", field, pid)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// TestSendFileToListener: alice sends a 50 MiB file with "parley send
// --file" over the binary protocol; bob's "parley listen --download-dir"
// downloads it, checks the SHA-256 and the GCM tag, decrypts it, and the
// result is byte-identical. The server is a separate "parley serve"
// process whose peak RSS (VmHWM) is logged (docs/benchmarks.md).
func TestSendFileToListener(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 50 MiB")
	}
	srv := startServe(t)
	base := memKiB(t, srv.cmd.Process.Pid, "VmHWM")
	path, sum := bigFile(t, 50<<20)
	dir := t.TempDir()
	s := &servertest.Server{}
	s.Native = srv.native
	bob := startListen(t, s, "bob", "--count", "1", "--timeout", "5m", "--download-dir", dir)
	o, alice := login(s, "alice")
	start := time.Now()
	send := exec.Command(parleyBin, append([]string{"send", "--to", "bob@localhost", "--file", path, "--wait", "delivered", "the film"}, alice...)...)
	send.Env = append(cleanEnv(), o.env...)
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("parley send --file: %v\n%s", err, out)
	}
	m := bob.nextMessage(t)
	elapsed := time.Since(start)
	att, _ := m["attachment"].(map[string]any)
	if att == nil || att["verified"] != true || att["name"] != "film.bin" || att["size"] != float64(50<<20) || m["caption"] != "the film" {
		t.Fatalf("bob's line %v", m)
	}
	if got := fileSHA256(t, att["path"].(string)); got != sum {
		t.Fatalf("bob's file has SHA-256 %s, the original %s", got, sum)
	}
	if !strings.HasPrefix(m["body"].(string), "aesgcm://") {
		t.Fatalf("body %q", m["body"])
	}
	peak := memKiB(t, srv.cmd.Process.Pid, "VmHWM")
	t.Logf("50 MiB file sent, downloaded, verified in %v; parley serve VmHWM %.1f MiB after start, %.1f MiB after the transfer",
		elapsed.Round(time.Millisecond), float64(base)/1024, float64(peak)/1024)
	if err := bob.wait(t); err != nil {
		t.Fatalf("listen: %v\n%s", err, bob.stderr)
	}
	t.Logf("peak RSS of the clients: parley send %.1f MiB, parley listen %.1f MiB", maxRSS(send), maxRSS(bob.cmd))
}

// maxRSS is the peak resident set of an exited process, in MiB.
func maxRSS(c *exec.Cmd) float64 {
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return 0
}

// bigFile writes n pseudo-random bytes and returns the path and SHA-256.
func bigFile(t *testing.T, n int) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "film.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	rnd := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 1<<20)
	for range n / len(buf) {
		for i := 0; i < len(buf); i += 8 {
			v := rnd.Uint64()
			for k := range 8 {
				buf[i+k] = byte(v >> (8 * k))
			}
		}
		_, _ = h.Write(buf)
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
