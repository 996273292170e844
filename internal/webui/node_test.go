package webui

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// nodePath returns the node binary, or skips the test loudly (fails under
// CI=true, where .ci/run must have installed it).
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required under CI=true (.ci/run installs it)")
		}
		t.Skip("SKIPPING: node is not installed; the web client's JavaScript tests need it")
	}
	return p
}

// runNode runs a node script with args and returns its output; a
// non-zero exit fails the test with the output.
func runNode(t *testing.T, args ...string) string {
	t.Helper()
	// Read the script here so that go test's cache knows it: a changed
	// script reruns the test (the static files are embedded, so the test
	// binary already changes with them).
	if _, err := os.ReadFile(args[0]); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nodePath(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestJSCallHelpers: the web client's call helpers (XEP-0215 services as
// WebRTC iceServers, relayed candidates, call entries) under node.
func TestJSCallHelpers(t *testing.T) {
	out := runNode(t, "testdata/calls_check.mjs")
	if !strings.Contains(out, " 0 failed") {
		t.Fatalf("%s", out)
	}
	t.Log(strings.TrimSpace(out))
}
