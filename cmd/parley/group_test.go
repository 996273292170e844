package main

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

// TestGroupCommands: alice creates a group with bob from the command line,
// posts to it with parley send --group, shows it, removes bob.
func TestGroupCommands(t *testing.T) {
	srv := chatServer(t)
	bob := dialUser(t, srv, "bob")
	o, flags := login(srv, "alice")
	g := strings.TrimSpace(ok(t, o, append(append([]string{"group", "create"}, flags...), "Climbing", "bob@localhost")...).stdout)
	if !strings.HasSuffix(g, "@groups.localhost") {
		t.Fatalf("group create printed %q", g)
	}
	id := g[:strings.IndexByte(g, '@')]
	sent := ok(t, o, append(append([]string{"send"}, flags...), "--group", id, "rope?")...)
	if strings.TrimSpace(sent.stdout) == "" {
		t.Fatalf("send --group printed no id")
	}
	m := nextEvent(t, bob, func(m *client.Message) bool { return m.Body == "rope?" })
	if m.Group != g || m.Sender != "alice@localhost" {
		t.Fatalf("bob got %+v", m)
	}
	if err := bob.SendDisplayed(g, m.ID); err != nil {
		t.Fatal(err)
	}
	var mi string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mi = ok(t, o, append(append([]string{"group", "info"}, flags...), id, m.ID)...).stdout
		if strings.Contains(mi, "seen by all") {
			break
		}
	}
	if !strings.Contains(mi, "from alice@localhost: seen by all") || !strings.Contains(mi, "bob@localhost\t") {
		t.Fatalf("group info with a message id:\n%s", mi)
	}
	info := ok(t, o, append(append([]string{"group", "info"}, flags...), id)...).stdout
	if !strings.Contains(info, "Climbing") || !strings.Contains(info, "alice@localhost\towner") || !strings.Contains(info, "bob@localhost\tmember") {
		t.Fatalf("group info:\n%s", info)
	}
	ok(t, o, append(append([]string{"group", "remove"}, flags...), id, "bob@localhost")...)
	info = ok(t, o, append(append([]string{"group", "info"}, flags...), g)...).stdout
	if strings.Contains(info, "bob@localhost") {
		t.Fatalf("bob still listed:\n%s", info)
	}
	if r := parley(t, o, append(append([]string{"send"}, flags...), "--group", id, "--to", "bob@localhost", "x")...); r.code != 2 {
		t.Fatalf("--group with --to: exit %d", r.code)
	}
}
