package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

// TestBackupWhileServingAndRestore: a snapshot taken through the running
// server's admin socket holds exactly the accounts of that moment, and
// restore brings them back into a stopped server's data directory.
func TestBackupWhileServingAndRestore(t *testing.T) {
	srv := servertest.Start(t, nil)
	data, sock := srv.Config.Data, config.AdminSocketPath(srv.Config)
	ok(t, none, "user", "add", "alice@localhost", "--password", "pw-alice", "--admin-socket", sock, "--data", data)
	snap := filepath.Join(t.TempDir(), "snap")
	r := ok(t, none, "backup", snap, "--admin-socket", sock, "--data", data)
	if !strings.Contains(r.stdout, "snapshot of the store written to "+snap) {
		t.Fatalf("stdout %q", r.stdout)
	}
	fails(t, none, 2, "exists", "backup", snap, "--admin-socket", sock, "--data", data)
	ok(t, none, "user", "add", "bob@localhost", "--password", "pw-bob", "--admin-socket", sock, "--data", data)
	fails(t, none, 1, "stop it first", "restore", snap, "--admin-socket", sock, "--data", data)
	srv.Stop()

	r = ok(t, none, "restore", snap, "--data", data, "--admin-socket", sock)
	if !strings.Contains(r.stdout, "store restored") || !strings.Contains(r.stdout, "before-restore") {
		t.Fatalf("stdout %q", r.stdout)
	}
	if r := ok(t, none, "user", "list", "--data", data, "--admin-socket", sock); r.stdout != "alice@localhost\n" {
		t.Fatalf("after restore: %q, want only alice", r.stdout)
	}
	// A backup without a server opens the store itself.
	snap2 := filepath.Join(t.TempDir(), "snap2")
	ok(t, none, "backup", snap2, "--data", data, "--admin-socket", sock)
	if _, err := os.Stat(snap2); err != nil {
		t.Fatal(err)
	}
	fails(t, none, 1, "not a snapshot", "restore", t.TempDir(), "--data", data, "--admin-socket", sock)
}
