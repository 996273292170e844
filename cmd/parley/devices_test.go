package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

// lockedBuffer is a bytes.Buffer safe for a process's writer and a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var payloadRE = regexp.MustCompile(`parley link '(parley-link:1:[^']+)'`)

// TestPairLinkDevicesCLI: "parley pair" in one process shows a code,
// "parley link" confirms it from alice's password login, the credential
// lands in the client configuration (0600) and logs "parley send" in;
// "parley devices list" shows the device and "parley devices revoke"
// unlinks it, after which the credential no longer logs in.
func TestPairLinkDevicesCLI(t *testing.T) {
	srv := chatServer(t)
	cfgPath := filepath.Join(t.TempDir(), "device.toml")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pairCmd := exec.CommandContext(ctx, parleyBin, "pair", "--domain", "localhost", "--server", srv.Native,
		"--insecure", "--client-config", cfgPath)
	pairCmd.Env = cleanEnv()
	stdout, err := pairCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var pairErr lockedBuffer
	pairCmd.Stderr = &pairErr
	if err := pairCmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pairOut lockedBuffer
	codes := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			pairOut.Write([]byte(sc.Text() + "\n"))
			if m := payloadRE.FindStringSubmatch(sc.Text()); m != nil {
				codes <- m[1]
			}
		}
	}()
	var code string
	select {
	case code = <-codes:
	case <-time.After(20 * time.Second):
		t.Fatalf("parley pair showed no code: %s %s", pairOut.String(), pairErr.String())
	}

	o, alice := login(srv, "alice")
	fails(t, o, 1, "parley-link:1", append([]string{"link"}, append(alice, "not-a-code")...)...)
	r := ok(t, o, append([]string{"link", "--name", "laptop terminal"}, append(alice, code)...)...)
	if !strings.HasPrefix(r.stdout, "linked dev-") {
		t.Fatalf("link printed %q", r.stdout)
	}
	id := strings.Fields(r.stdout)[1]
	if err := pairCmd.Wait(); err != nil {
		t.Fatalf("parley pair: %v\n%s\n%s", err, pairOut.String(), pairErr.String())
	}
	saved, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(cfgPath)
	token := regexp.MustCompile(`device_token = "([^"]+)"`).FindSubmatch(saved)
	if fi.Mode().Perm() != 0o600 || token == nil || !strings.Contains(string(saved), `device_id = "`+id+`"`) {
		t.Fatalf("saved configuration (mode %v):\n%s", fi.Mode(), saved)
	}
	if strings.Contains(pairOut.String()+pairErr.String(), string(token[1])) {
		t.Fatal("parley pair printed the device token")
	}
	if !strings.Contains(pairOut.String(), "linked as alice@localhost/"+id) {
		t.Fatalf("pair output: %s", pairOut.String())
	}

	device := []string{"--client-config", cfgPath}
	ok(t, runOpts{}, append([]string{"send", "--to", "bob@localhost"}, append(device, "from the terminal device")...)...)
	r = ok(t, o, append([]string{"devices", "list"}, alice...)...)
	if !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "laptop terminal") {
		t.Fatalf("devices list:\n%s", r.stdout)
	}
	fails(t, runOpts{}, 1, "not-allowed", append([]string{"devices", "revoke"}, append(device, id)...)...)
	r = ok(t, o, append([]string{"devices", "revoke"}, append(alice, id)...)...)
	if r.stdout != "revoked "+id+"\n" {
		t.Fatalf("revoke printed %q", r.stdout)
	}
	if r = ok(t, o, append([]string{"devices", "list"}, alice...)...); r.stdout != "no linked devices\n" {
		t.Fatalf("devices list after revoke:\n%s", r.stdout)
	}
	fails(t, runOpts{}, 1, "not-authorized", append([]string{"send", "--to", "bob@localhost"}, append(device, "again")...)...)
	fails(t, o, 1, "item-not-found", append([]string{"devices", "revoke"}, append(alice, id)...)...)
}

// TestPairRestartsExpiredPairings: parley pair starts a new pairing when
// the server ends one unused, until its --timeout.
func TestPairRestartsExpiredPairings(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) {
		c.PairingRotation, c.PairingTimeout = 200*time.Millisecond, 400*time.Millisecond
	})
	r := parley(t, runOpts{}, "pair", "--domain", "localhost", "--server", srv.Native, "--insecure",
		"--client-config", filepath.Join(t.TempDir(), "c.toml"), "--timeout", "2s")
	if r.code != 1 || strings.Count(r.stdout, "The code expired unused; here is a new one.") < 2 ||
		strings.Count(r.stdout, "parley link 'parley-link:1:") < 4 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
