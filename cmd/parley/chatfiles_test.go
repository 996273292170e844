package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// TestChatDownload: a file alice sends shows in bob's chat as a numbered
// attachment line; /download 1 saves it, checked and decrypted, into the
// download directory.
func TestChatDownload(t *testing.T) {
	srv := chatServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	alice, bob := chatDial(ctx, t, srv, "alice"), chatDial(ctx, t, srv, "bob")
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("a voice note "), 50_000)
	src := filepath.Join(t.TempDir(), "note.ogg")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := alice.UploadFile(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SendAttachment("bob@localhost", a, "listen"); err != nil {
		t.Fatal(err)
	}
	m := newChatModel(bob, "bob@localhost", time.Now)
	m.downloadDir = t.TempDir()
	for m.chats.get("alice@localhost", false) == nil {
		select {
		case e := <-bob.Events():
			m.onEvent(e)
		case <-ctx.Done():
			t.Fatal("no message")
		}
	}
	line := m.chats.get("alice@localhost", false).lines[0].body
	if !strings.Contains(line, "[file 1] note.ogg (634.8 KiB") || !strings.Contains(line, "/download 1 — listen") {
		t.Fatalf("attachment line %q", line)
	}
	d := m.cmdDownload("1")().(downloadedMsg)
	m.onDownloaded(d)
	got, err := os.ReadFile(filepath.Join(m.downloadDir, "note.ogg"))
	if d.err != nil || err != nil || !bytes.Equal(got, data) || !strings.HasPrefix(m.status, "saved ") {
		t.Fatalf("download: %v %v, status %q", d.err, err, m.status)
	}
	if m.cmdDownload("2") != nil || !strings.HasPrefix(m.status, "usage:") {
		t.Fatalf("/download 2 of 1 file: status %q", m.status)
	}
}

func chatDial(ctx context.Context, t *testing.T, srv *servertest.Server, user string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx, client.Options{JID: user + "@localhost/pc", Password: "pw-" + user, Addr: srv.Native,
		TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
