package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// parleyBin is the binary built for this test run.
var parleyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parley-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	parleyBin = filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-race", "-o", parleyBin, "../../cmd/parley")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building parley:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// parley runs a parley CLI command to completion.
func parley(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, parleyBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serverProc is a running `parley serve`.
type serverProc struct {
	cmd  *exec.Cmd
	c2s  string
	log  string // the server's stdout and stderr
	done chan struct{}
}

func startServe(t *testing.T, data, c2s string) *serverProc {
	t.Helper()
	return startServeWith(t, data, c2s)
}

// startServeWith is startServe with extra flags for parley serve.
func startServeWith(t *testing.T, data, c2s string, extra ...string) *serverProc {
	t.Helper()
	// No free-space floor unless a test sets one (the machine's disk may be
	// small), and no media server unless a test gives it an address (its
	// default port, 5281, may be taken by another process on the machine).
	args := append([]string{"serve", "--data", data, "--c2s", c2s, "--c2s-tls", "", "--native", "", "--http", "", "--media", "", "--turn", "", "--min-free-disk-mb", "0"}, extra...)
	cmd := exec.Command(parleyBin, args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, c2s: c2s, log: logf.Name(), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(); logf.Close() })
	// Every TCP listener the test gave an address: the server opens them
	// one after the other, and a test that dialed --native as soon as
	// --c2s answered was refused now and then.
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range append([]string{c2s}, tcpListenAddrs(extra)...) {
		p.waitAccepting(t, addr, deadline)
	}
	return p
}

// tcpListenAddrs returns the addresses that extra (parley serve's flags)
// gives its TCP listeners.
func tcpListenAddrs(extra []string) []string {
	var addrs []string
	for i := 0; i+1 < len(extra); i++ {
		switch extra[i] {
		case "--c2s", "--c2s-tls", "--native", "--http", "--media", "--component":
			if extra[i+1] != "" {
				addrs = append(addrs, extra[i+1])
			}
		}
	}
	return addrs
}

// waitAccepting dials addr until the server accepts; it fails the test
// if the server exits or deadline passes first.
func (p *serverProc) waitAccepting(t *testing.T, addr string, deadline time.Time) {
	t.Helper()
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("parley serve did not start listening on %s", addr)
		}
		select {
		case <-p.done:
			out, _ := os.ReadFile(p.log)
			t.Fatalf("parley serve exited early:\n%s", out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL (a crash: no shutdown code runs) and waits.
func (p *serverProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serverProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			// 66 is the race detector's: its report is in the log.
			out, _ := os.ReadFile(p.log)
			t.Fatalf("parley serve exited with %d after SIGTERM:\n%s", code, out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("parley serve did not stop after SIGTERM")
	}
}
