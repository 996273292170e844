package main

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

func TestLastSeenText(t *testing.T) {
	now := time.Date(2026, 12, 3, 16, 30, 0, 0, time.Local) // a Thursday
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(-2 * time.Hour), "last seen today at 14:30"},
		{time.Date(2026, 12, 3, 0, 5, 0, 0, time.Local), "last seen today at 00:05"},
		{time.Date(2026, 12, 2, 23, 59, 0, 0, time.Local), "last seen yesterday at 23:59"},
		{time.Date(2026, 11, 30, 9, 0, 0, 0, time.Local), "last seen Monday at 09:00"},
		{time.Date(2026, 11, 2, 9, 0, 0, 0, time.Local), "last seen 2 Nov at 09:00"},
		{time.Date(2025, 11, 2, 9, 0, 0, 0, time.Local), "last seen 2 Nov 2025 at 09:00"},
	} {
		if got := lastSeenText(c.at, now); got != c.want {
			t.Errorf("%v: %q, want %q", c.at, got, c.want)
		}
	}
}

// A "displayed" marker covers the earlier messages; receipts and sent
// ticks only their own; ticks never go down.
func TestChatTicks(t *testing.T) {
	cs := newChats("alice@localhost")
	now := time.Now()
	bob := cs.get("bob@localhost", true)
	for _, id := range []string{"m1", "m2", "m3"} {
		cs.outgoing(bob, id, "text "+id, now)
	}
	cs.incoming(&client.Message{ID: "r1", From: "bob@localhost/phone", Body: "reply", Markable: true}, now)
	cs.tick("m1", tickOne)
	cs.tick("m3", tickTwo)
	cs.tick("m2", tickBlue)
	cs.tick("m2", tickOne)
	cs.tick("unknown", tickTwo)
	var got []int
	for _, l := range bob.lines {
		got = append(got, l.tick)
	}
	if want := []int{tickBlue, tickBlue, tickTwo, tickNone}; !slices.Equal(got, want) {
		t.Errorf("ticks %v, want %v", got, want)
	}
	if bob.toMark != "r1" || bob.toMarkFrom != "bob@localhost/phone" {
		t.Errorf("to mark %q from %q", bob.toMark, bob.toMarkFrom)
	}
}

// Presence: online while a resource is available; last seen when the last
// one leaves; a subscription request from a stranger opens a conversation
// with a note.
func TestChatPresence(t *testing.T) {
	cs := newChats("alice@localhost")
	now := time.Now()
	bob := cs.get("bob@localhost", true)
	cs.presence(&client.Presence{From: "bob@localhost/a"}, now)
	cs.presence(&client.Presence{From: "bob@localhost/b"}, now)
	cs.presence(&client.Presence{From: "bob@localhost/a", Type: "unavailable"}, now)
	if len(bob.online) != 1 || !bob.lastSeen.IsZero() {
		t.Fatalf("after one of two left: %v %v", bob.online, bob.lastSeen)
	}
	later := now.Add(time.Minute)
	cs.presence(&client.Presence{From: "bob@localhost/b", Type: "unavailable"}, later)
	if len(bob.online) != 0 || !bob.lastSeen.Equal(later) {
		t.Fatalf("after both left: %v %v", bob.online, bob.lastSeen)
	}
	if cs.presence(&client.Presence{From: "alice@localhost/other"}, now) != nil {
		t.Error("our own presence changed a conversation")
	}
	if cs.presence(&client.Presence{From: "dave@localhost/x"}, now) != nil {
		t.Error("a stranger's presence opened a conversation")
	}
	dave := cs.presence(&client.Presence{From: "dave@localhost", Type: "subscribe"}, now)
	if dave == nil || len(dave.lines) != 1 || !dave.lines[0].system {
		t.Errorf("subscription request: %+v", dave)
	}
}
