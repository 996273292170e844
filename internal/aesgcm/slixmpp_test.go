package aesgcm

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debianPython has python3-slixmpp (installed by .ci/run).
const debianPython = "/usr/bin/python3"

func needSlixmpp(t *testing.T) string {
	t.Helper()
	script, _ := filepath.Abs("../../test/clients/slixmpp/omemo_media.py")
	if out, err := exec.Command(debianPython, "-c", "import slixmpp.plugins.xep_0454").CombinedOutput(); err != nil {
		msg := "slixmpp's xep_0454 is missing (apt-get install python3-slixmpp): " + string(out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return script
}

// TestSlixmppInterop: slixmpp's XEP-0454 plugin (an independent
// implementation, on OpenSSL) decrypts what this package encrypts, and
// this package decrypts what slixmpp encrypts, URL included.
func TestSlixmppInterop(t *testing.T) {
	script := needSlixmpp(t)
	dir := t.TempDir()
	plain := make([]byte, 300_001)
	rnd := rand.New(rand.NewPCG(9, 9))
	for i := range plain {
		plain[i] = byte(rnd.Uint32())
	}
	k, _ := NewKey()
	r, _ := NewSealReader(bytes.NewReader(plain), k)
	ct, _ := io.ReadAll(r)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := filepath.Join(dir, "by-slixmpp")
	if b, err := exec.Command(debianPython, script, "decrypt", write("ours", ct), k.Fragment(), out).CombinedOutput(); err != nil {
		t.Fatalf("slixmpp cannot decrypt our file: %v\n%s", err, b)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, plain) {
		t.Fatal("slixmpp decrypted our file to other bytes")
	}

	theirs := filepath.Join(dir, "theirs")
	b, err := exec.Command(debianPython, script, "encrypt", write("plain", plain), theirs).Output()
	if err != nil {
		t.Fatalf("slixmpp encrypt: %v", err)
	}
	_, k2, err := ParseURL(strings.TrimSpace(string(b)), "https")
	if err != nil {
		t.Fatalf("their URL %q: %v", b, err)
	}
	ct2, _ := os.ReadFile(theirs)
	var got bytes.Buffer
	w, _ := NewOpenWriter(&got, k2)
	if _, err := w.Write(ct2); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil || !bytes.Equal(got.Bytes(), plain) {
		t.Fatalf("opening slixmpp's file: %v", err)
	}
}
