package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestChatShowsRefusedMessage: a message to an account that does not
// exist shows ✗ with the server's reason, never a tick, and the status line
// says it was not sent; a message to bob sent after it gets its ✓.
func TestChatShowsRefusedMessage(t *testing.T) {
	srv := chatServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := newChatModel(chatDial(ctx, t, srv, "alice"), "alice@localhost", time.Now)
	say := func(peer, text string) *chatLine {
		m.cmdOpen(peer)
		m.input.SetValue(text)
		m.submit()
		return m.active.lines[len(m.active.lines)-1]
	}
	ghost, bob := say("ghost@localhost", "anyone there?"), say("bob@localhost", "hi bob")
	// The acks come in order: by bob's ✓ the server has answered for ghost.
	for bob.tick < tickOne {
		select {
		case e := <-m.c.Events():
			m.onEvent(e)
		case <-ctx.Done():
			t.Fatal("no sent tick for bob's message")
		}
	}
	const why = "no such account (service-unavailable)"
	if ghost.tick != tickNone || ghost.failed != why || !strings.Contains(m.tickMark(ghost), "✗ "+why) {
		t.Errorf("ghost's line: tick %d, failed %q, mark %q", ghost.tick, ghost.failed, m.tickMark(ghost))
	}
	if m.status != "not sent: ghost@localhost: "+why || bob.failed != "" {
		t.Errorf("status %q, bob's line failed %q", m.status, bob.failed)
	}
}
