package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/xmpptest"
)

// TestProfanityChatsThroughParley drives profanity, a terminal XMPP client
// nobody here wrote, under tmux: it logs in over STARTTLS to a server
// started with `parley serve` after `parley user add`, accepts the
// self-signed certificate, and chats both ways with a Go client.
func TestProfanityChatsThroughParley(t *testing.T) {
	for _, tool := range []string{"tmux", "profanity"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true and %s is missing: .ci/run must install it (apt-get install -y %s)", tool, tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is not installed (apt-get install -y tmux profanity); the profanity scenario did not run", tool)
		}
	}
	data := t.TempDir()
	c2s := freeAddr(t)
	srv := startServe(t, data, c2s)
	parley(t, "user", "add", "alice@localhost", "--password", "pw-alice", "--data", data)
	parley(t, "user", "add", "bob@localhost", "--password", "pw-bob", "--data", data)

	host, port, _ := strings.Cut(c2s, ":")
	tm := startTmux(t)
	tm.send("/connect alice@localhost server " + host + " port " + port)
	tm.waitFor("Enter password")
	tm.send("pw-alice")
	tm.waitFor("/tls allow")
	tm.send("/tls allow")
	tm.waitFor("logged in successfully")

	bob := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "go"})
	bob.SendRaw("<presence/>")
	tm.send("/msg bob@localhost hello bob from profanity")
	m := bob.Expect("profanity's message", xmpptest.IsMessageWithBody("hello bob from profanity"))
	if !strings.HasPrefix(m.Attr("from"), "alice@localhost/") {
		t.Fatalf("from %q", m.Attr("from"))
	}
	bob.SendRaw("<message to='" + m.Attr("from") + "' type='chat'><body>hi alice from go</body></message>")
	tm.waitFor("hi alice from go")
	srv.stop(t)
}

// tmuxSession is profanity running in a detached tmux session with its own
// HOME (so no user configuration leaks in).
type tmuxSession struct {
	t    *testing.T
	name string
}

func startTmux(t *testing.T) *tmuxSession {
	t.Helper()
	home := t.TempDir()
	name := fmt.Sprintf("parley-e2e-%d", time.Now().UnixNano())
	cmd := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "50", "env", "HOME="+home, "TERM=xterm-256color", "profanity")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting tmux: %v\n%s", err, out)
	}
	s := &tmuxSession{t: t, name: name}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	s.waitFor("Profanity") // the splash / title bar
	return s
}

func (s *tmuxSession) send(line string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", s.name, "-l", line).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
	if out, err := exec.Command("tmux", "send-keys", "-t", s.name, "Enter").CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

func (s *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).CombinedOutput()
	return string(out)
}

// waitFor waits until text shows on the screen, or fails with the screen.
func (s *tmuxSession) waitFor(text string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.screen(), text) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("profanity never showed %q; screen:\n%s", text, s.screen())
}
