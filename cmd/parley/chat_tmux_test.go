package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// TestChatUnderTmux drives "parley chat" as alice in a real terminal
// (tmux): she opens a conversation with bob, a Go client; he sees her
// typing, then pausing; her message goes
// ✓ then ✓✓ then ✓✓ in colour as bob's device acknowledges and shows it;
// bob's typing and reply show up, and she marks the reply seen; carol's
// message counts as unread until alice opens that conversation; when bob
// leaves, alice sees when he was last online.
func TestChatUnderTmux(t *testing.T) {
	requireTmux(t)
	srv := chatServer(t)
	srv.AddUser(t, "carol@localhost", "pw-carol")
	bob := dialUser(t, srv, "bob")

	tm := startTmux(t, fmt.Sprintf("%s chat --jid alice@localhost --server %s --insecure --password-stdin; echo EXIT=$?; sleep 60",
		parleyBin, srv.Native))
	tm.waitFor("Password for alice@localhost")
	tm.line("pw-alice")
	tm.waitFor("No conversation open")

	// alice opens a conversation with bob, asking to see his presence.
	tm.line("/open bob@localhost")
	nextEvent(t, bob, func(p *client.Presence) bool { return p.Type == "subscribe" })
	if err := bob.ApproveSubscription("alice@localhost"); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("bob@localhost  online")

	// alice types: bob sees her composing; she sends; ✓.
	tm.keys("hello bob from the tui")
	nextEvent(t, bob, func(cs *client.ChatState) bool { return cs.State == "composing" })
	nextEvent(t, bob, func(cs *client.ChatState) bool { return cs.State == "paused" }) // after 3 s without a key
	tm.keys("Enter")
	m := nextEvent(t, bob, func(m *client.Message) bool { return m.Body == "hello bob from the tui" })
	tm.waitMatch(`you: hello bob from the tui ✓\s*$`)
	if err := bob.SendReceipt(m.From, m.ID); err != nil {
		t.Fatal(err)
	}
	tm.waitMatch(`you: hello bob from the tui ✓✓`)
	if err := bob.SendDisplayed(m.From, m.ID); err != nil {
		t.Fatal(err)
	}
	tm.waitColoured("hello bob from the tui", "✓✓")

	// bob types and replies; alice's screen shows it, and marks it seen.
	if err := bob.SendChatState(m.From, "composing"); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("bob@localhost  typing…")
	reply, err := bob.SendMessage("alice@localhost", "hi alice, from go")
	if err != nil {
		t.Fatal(err)
	}
	tm.waitFor("bob: hi alice, from go")
	tm.waitFor("bob@localhost  online")
	nextEvent(t, bob, func(r *client.Receipt) bool { return len(r.IDs) == 1 && r.IDs[0] == reply })
	nextEvent(t, bob, func(mk *client.Marker) bool { return mk.Kind == "displayed" && mk.ID == reply })

	// carol writes: unread in the list until alice opens her conversation.
	carol := dialUser(t, srv, "carol")
	carolMsg, err := carol.SendMessage("alice@localhost", "carol here")
	if err != nil {
		t.Fatal(err)
	}
	tm.waitMatch(`carol@localhost \(1\)`)
	tm.keys("Tab")
	tm.waitFor("carol: carol here")
	nextEvent(t, carol, func(mk *client.Marker) bool { return mk.Kind == "displayed" && mk.ID == carolMsg })
	if strings.Contains(tm.screen(), "(1)") {
		t.Errorf("unread count not cleared:\n%s", tm.screen())
	}

	// bob goes away: alice sees when.
	tm.keys("Tab")
	tm.waitFor("bob@localhost  online")
	_ = bob.Close()
	tm.waitMatch(`bob@localhost  last seen today at \d\d:\d\d`)

	tm.keys("C-c")
	tm.waitFor("EXIT=0")
	if strings.Contains(tm.screen(), "pw-alice") {
		t.Errorf("the password shows on the screen:\n%s", tm.screen())
	}
}

// requireTmux skips loudly without tmux, or fails under CI=true.
func requireTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and tmux is missing: .ci/run must install it (apt-get install -y tmux)")
		}
		t.Skip("SKIPPED LOUDLY: tmux is not installed (apt-get install -y tmux); the parley chat scenario did not run")
	}
}

// dialUser logs user in with the Go client, available.
func dialUser(t *testing.T, srv *servertest.Server, user string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{JID: user + "@localhost/go", Password: "pw-" + user, Addr: srv.C2S, Encoding: client.XML,
		TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	return c
}

// nextEvent waits for c's first event of type T that match accepts.
func nextEvent[T client.Event](t *testing.T, c *client.Client, match func(T) bool) T {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-c.Events():
			if !ok {
				t.Fatalf("%s: events closed", c.JID())
			}
			if v, ok := e.(T); ok && match(v) {
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("%s: no %T in time", c.JID(), zero)
			return zero
		}
	}
}

// tmuxPane is a command running in a detached tmux session.
type tmuxPane struct {
	t    *testing.T
	name string
}

func startTmux(t *testing.T, command string) *tmuxPane {
	t.Helper()
	name := fmt.Sprintf("parley-chat-test-%d", time.Now().UnixNano())
	env := append(cleanEnv(), "TERM=xterm-256color")
	args := []string{"new-session", "-d", "-s", name, "-x", "160", "-y", "40", "env", "TERM=xterm-256color", "sh", "-c", command}
	cmd := exec.Command("tmux", args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return &tmuxPane{t: t, name: name}
}

// keys sends tmux key names (Enter, Tab, C-c) or, for anything else,
// literal text.
func (p *tmuxPane) keys(k string) {
	p.t.Helper()
	args := []string{"send-keys", "-t", p.name}
	switch k {
	case "Enter", "Tab", "C-c":
		args = append(args, k)
	default:
		args = append(args, "-l", k)
	}
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		p.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// line types text and Enter.
func (p *tmuxPane) line(text string) {
	p.t.Helper()
	p.keys(text)
	p.keys("Enter")
}

func (p *tmuxPane) capture(extra ...string) string {
	out, _ := exec.Command("tmux", append([]string{"capture-pane", "-p", "-t", p.name}, extra...)...).CombinedOutput()
	return string(out)
}

func (p *tmuxPane) screen() string { return p.capture() }

// until waits for ok(screen), or fails showing the screen.
func (p *tmuxPane) until(what string, ok func(string) bool, extra ...string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ok(p.capture(extra...)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("the screen never showed %s:\n%s", what, p.screen())
}

func (p *tmuxPane) waitFor(text string) {
	p.t.Helper()
	p.until(fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

// waitMatch waits for a line matching the regular expression re.
func (p *tmuxPane) waitMatch(re string) {
	p.t.Helper()
	r := regexp.MustCompile("(?m)" + re)
	p.until("a line matching "+re, func(s string) bool { return r.MatchString(s) })
}

// waitColoured waits until the line holding text shows mark in colour
// 39 (blue): the "seen" ticks.
func (p *tmuxPane) waitColoured(text, mark string) {
	p.t.Helper()
	p.until(mark+" in blue after "+text, func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, text) && regexp.MustCompile(`38;5;39m(\x1b\[[0-9;]*m)*`+mark).MatchString(l) {
				return true
			}
		}
		return false
	}, "-e")
}
