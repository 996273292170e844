package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// smallFilesystem mounts a size-limited tmpfs for the test, or skips (it
// needs the privilege to mount, which a developer machine may not give).
func smallFilesystem(t *testing.T, size string) string {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("SKIPPED LOUDLY: cannot mount a small tmpfs here (%v: %s); the disk-full scenario did not run", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestDiskFullRefusesNewMessagesAndRecovers: on a nearly full disk the
// server answers new messages with resource-constraint instead of
// acknowledging what it cannot store, keeps serving, and accepts again once
// space returns; every acknowledged message is delivered once.
func TestDiskFullRefusesNewMessagesAndRecovers(t *testing.T) {
	fs := smallFilesystem(t, "24m")
	data := filepath.Join(fs, "data")
	parley(t, "user", "add", "alice@localhost", "--password", "pw-alice", "--data", data)
	parley(t, "user", "add", "bob@localhost", "--password", "pw-bob", "--data", data)
	filler := filepath.Join(fs, "filler")
	if err := os.WriteFile(filler, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	c2s := freeAddr(t)
	srv := startServeWith(t, data, c2s, "--min-free-disk-mb", "6")
	alice := xmpptest.Dial(t, c2s, xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "phone", EnableSM: true})
	body := strings.Repeat("x", 100<<10)

	sent, refusedAt := 0, 0
	for sent < 400 && refusedAt == 0 {
		sent++
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'><body>%d %s</body></message>", sent, sent, body))
		if el := alice.Next(20 * time.Millisecond); el != nil && el.Name == "message" && el.Type() == "error" {
			if !strings.Contains(el.String(), "resource-constraint") {
				t.Fatalf("refusal %v, want resource-constraint", el)
			}
			refusedAt, _ = strconv.Atoi(strings.TrimPrefix(el.ID(), "m"))
		}
	}
	if refusedAt == 0 {
		t.Fatalf("%d messages of 100 KiB on a 24 MiB disk and no refusal", sent)
	}
	alice.SendRaw("<iq type='get' id='alive' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	alice.Expect("the server still answers", xmpptest.IsIQResult("alive"))

	if err := os.Remove(filler); err != nil { // space returns
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='later'><body>after %s</body></message>", "space"))
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	acked := 0
	for el := alice.Next(5 * time.Second); el != nil; el = alice.Next(time.Second) {
		if el.Name == "message" && el.ID() == "later" && el.Type() == "error" {
			t.Fatalf("still refused after space returned: %v", el)
		}
		if el.Space == stanza.NSSM && el.Name == "a" {
			acked, _ = strconv.Atoi(el.Attr("h"))
		}
	}

	bob := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "phone"})
	bob.SendRaw("<presence/>")
	seen := map[string]int{}
	for el := bob.Next(5 * time.Second); el != nil; el = bob.Next(2 * time.Second) {
		if el.Name == "message" {
			n, _, _ := strings.Cut(el.Body(), " ")
			seen[n]++
		}
	}
	for n, c := range seen {
		if c > 1 {
			t.Fatalf("message %s delivered %d times", n, c)
		}
	}
	if seen["after"] != 1 {
		t.Fatalf("the message sent after recovery was not delivered (%d delivered, %d acked)", len(seen), acked)
	}
	if len(seen) < refusedAt-1 {
		t.Fatalf("%d delivered, but the first %d were accepted before the refusal", len(seen), refusedAt-1)
	}
	t.Logf("refused at message %d of 100 KiB; %d delivered after recovery, none twice", refusedAt, len(seen))
	srv.stop(t)
}
