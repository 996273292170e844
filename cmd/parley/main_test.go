package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parleyBin is the parley binary built for this test run.
var parleyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parley-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	parleyBin = filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", parleyBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building parley:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished parley process.
type result struct {
	code           int
	stdout, stderr string
}

// runOpts are the optional inputs of a parley run.
type runOpts struct {
	stdin string
	env   []string // KEY=VALUE added to an environment without PARLEY_*
}

// parley runs the binary with args to completion.
func parley(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, parleyBin, args...)
	cmd.Env = append(cleanEnv(), o.env...)
	cmd.Stdin = strings.NewReader(o.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("parley %s: %v", strings.Join(args, " "), err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// ok runs parley and fails the test unless it succeeds.
func ok(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	r := parley(t, o, args...)
	if r.code != 0 {
		t.Fatalf("parley %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs parley and checks its exit status and that stderr contains msg.
func fails(t *testing.T, o runOpts, code int, msg string, args ...string) result {
	t.Helper()
	r := parley(t, o, args...)
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Errorf("parley %s: exit %d, stderr %q\nwant exit %d and stderr containing %q",
			strings.Join(args, " "), r.code, r.stderr, code, msg)
	}
	return r
}

// cleanEnv is the test's environment without PARLEY_* variables, so the
// runner's settings cannot change the results.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}
