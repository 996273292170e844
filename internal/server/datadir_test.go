package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnOpenDataDirectoryIsMadePrivate: a data directory that exists open
// to other users (0755, as a package may create /var/lib/parley) is made
// private to its owner, with a warning, since the store's files under it
// are readable by all; a new one is created private; a private one is
// left alone without a word.
func TestAnOpenDataDirectoryIsMadePrivate(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		warn bool
	}{
		{open, true},
		{open, false}, // now private
		{filepath.Join(t.TempDir(), "new", "data"), false},
	} {
		var logs bytes.Buffer
		if err := MakeDataDir(tc.dir, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("%s: mode %v, want private (0700)", tc.dir, perm)
		}
		if warned := strings.Contains(logs.String(), "level=WARN"); warned != tc.warn {
			t.Errorf("%s: warned %v, want %v (logs %q)", tc.dir, warned, tc.warn, logs.String())
		}
	}
}
