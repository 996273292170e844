package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSafeDownloadNames: a sender's file name never leaves the download
// directory, never hides, and never overwrites a file.
func TestSafeDownloadNames(t *testing.T) {
	for name, want := range map[string]string{
		"cat.jpg": "cat.jpg", "../../etc/passwd": "passwd", `..\..\boot.ini`: "boot.ini", "..": "file",
		"/": "file", "": "file", ".bashrc": "bashrc", "evil\u202egpj.exe": "evilgpj.exe", "a\x00b\nc": "abc",
	} {
		if got := safeName(name); got != want {
			t.Errorf("safeName(%q) = %q, want %q", name, got, want)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cat.jpg"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := freePath(dir, "cat.jpg"); err != nil || p != filepath.Join(dir, "cat (1).jpg") {
		t.Fatalf("freePath = %q, %v", p, err)
	}
}
