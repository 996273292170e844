package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// need skips the test loudly when a tool the browser tests need is
// missing, and fails it under CI=true (.ci/run installs them all).
func need(t *testing.T, what, hint string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI=true: %s", what, hint)
	}
	t.Skipf("SKIPPING the browser tests: %s is missing (%s)", what, hint)
}

func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browser is a headless Chromium run by driver.mjs, one command at a time.
type browser struct {
	t         *testing.T
	cmd       *exec.Cmd
	in        io.WriteCloser
	out       *bufio.Scanner
	artifacts string
	mu        sync.Mutex
	log       strings.Builder // the page's console, shown when the test fails
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	node, err := exec.LookPath("node")
	need(t, "node", "apt-get install -y nodejs", err == nil)
	_, err = os.Stat("node_modules/playwright-core")
	need(t, "test/web/node_modules", "cd test/web && npm ci", err == nil)
	_, err = os.Stat(chromiumPath())
	need(t, chromiumPath(), "apt-get install -y chromium", err == nil)

	art, _ := filepath.Abs(filepath.Join("artifacts", t.Name()))
	_ = os.RemoveAll(art)
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	// Read the driver here so that go test's cache reruns the test when it
	// changes (the page's files are embedded in the server, so the test
	// binary changes with them).
	if _, err := os.ReadFile("driver.mjs"); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, artifacts: art}
	b.cmd = exec.Command(node, "driver.mjs")
	b.cmd.Env = append(os.Environ(), "PARLEY_WEB_ARTIFACTS="+art, "CHROMIUM="+chromiumPath())
	b.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.log.Write(p)
	})
	if b.in, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.out = bufio.NewScanner(stdout)
	b.out.Buffer(make([]byte, 1<<20), 1<<20)
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", art)
	t.Cleanup(func() {
		_ = b.in.Close()
		done := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = b.cmd.Process.Kill()
		}
		if t.Failed() || os.Getenv("PARLEY_WEB_LOG") != "" {
			b.mu.Lock()
			t.Logf("browser console:\n%s", b.log.String())
			b.mu.Unlock()
		}
	})
	return b
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// do runs one driver command; a failure takes a screenshot and fails the
// test.
func (b *browser) do(op string, args ...any) json.RawMessage {
	b.t.Helper()
	v, err := b.try(op, args...)
	if err != nil {
		_, _ = b.try("screenshot", "name", "failure")
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

func (b *browser) try(op string, args ...any) (json.RawMessage, error) {
	cmd := map[string]any{"op": op}
	for i := 0; i+1 < len(args); i += 2 {
		cmd[args[i].(string)] = args[i+1]
	}
	line, _ := json.Marshal(cmd)
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	if !b.out.Scan() {
		return nil, fmt.Errorf("%s: the driver exited (%v)", op, b.out.Err())
	}
	var res struct {
		OK    bool            `json:"ok"`
		Value json.RawMessage `json:"value"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal(b.out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", op, err, b.out.Bytes())
	}
	if !res.OK {
		return nil, fmt.Errorf("%s", res.Error)
	}
	return res.Value, nil
}

func (b *browser) str(op string, args ...any) string {
	b.t.Helper()
	var s string
	_ = json.Unmarshal(b.do(op, args...), &s)
	return s
}

func (b *browser) num(op string, args ...any) int {
	b.t.Helper()
	var n int
	_ = json.Unmarshal(b.do(op, args...), &n)
	return n
}

func (b *browser) shot(name string) { b.t.Helper(); b.do("screenshot", "name", name) }

// noCSPViolations fails the test if the page's console reported a
// Content-Security-Policy violation (every script, style, image and
// connection must come from where the policy allows).
func (b *browser) noCSPViolations() {
	b.t.Helper()
	b.mu.Lock()
	log := b.log.String()
	b.mu.Unlock()
	if strings.Contains(log, "Content Security Policy") || strings.Contains(log, "Refused to") {
		b.t.Fatalf("the page violated its Content-Security-Policy:\n%s", log)
	}
}
