package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// TestServerAsksForAcksOncePerDelayNotPerWrite: a device with stream
// management that answers every <r/> at once (as Parley's client does) is
// sent twelve messages 20 ms apart, each in a write of its own: the server
// asks for an ack once or twice (ackRequestDelay after the first, or when
// traffic stops), not once per write as it did (twelve acks for twelve
// messages); after the last ack its queue is empty.
func TestServerAsksForAcksOncePerDelayNotPerWrite(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone")
	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	time.Sleep(100 * time.Millisecond)
	ack := func() { bob.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", bob.Handled())) }
	for el := bob.Next(1500 * time.Millisecond); el != nil; el = bob.Next(1500 * time.Millisecond) {
		if el.Space == stanza.NSSM && el.Name == "r" {
			ack() // what the login sent
		}
	}

	const n = 12
	go func() {
		for i := range n {
			alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat'><body>m%d</body></message>", i))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	messages, requests := 0, 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		el := bob.Next(100 * time.Millisecond)
		switch {
		case el == nil:
		case el.Name == "message":
			messages++
		case el.Space == stanza.NSSM && el.Name == "r":
			requests++
			ack()
		}
		if messages == n && requests > 0 && queued(t, ts, "bob@localhost") == 0 {
			break
		}
	}
	if messages != n {
		t.Fatalf("bob got %d of %d messages", messages, n)
	}
	if requests == 0 || requests > 2 {
		t.Fatalf("the server asked for %d acks for %d messages written one by one, want 1 or 2", requests, n)
	}
	if q := queued(t, ts, "bob@localhost"); q != 0 {
		t.Fatalf("%d messages still queued after bob acknowledged them all", q)
	}
}

// queued is how many stanzas wait in user's queue.
func queued(t *testing.T, ts *testServer, user string) int {
	t.Helper()
	qs, err := ts.store.ReadQueue(context.Background(), user, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(qs)
}
