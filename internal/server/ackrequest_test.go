package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestServerAsksLazilyOnlyClientsThatAckBeforeClose: a device with stream
// management that answers every <r/> at once is sent twelve messages 20 ms
// apart, each in a write of its own. One that promised, in <enable/>, to
// acknowledge before it closes its stream (<acks-before-close/>, as
// Parley's Go client does) is asked once or twice (half a second to a
// second after the first, and when traffic stops); one that did not is
// asked at every write (twelve times, or a few fewer when messages share
// a write), since a stream it closed would send what it never
// acknowledged back to its queue. Messages are stored before delivery
// here (--ack-window 0). Stanzas stored nowhere (chat states), and messages
// delivered before they are stored (the default window: their ack spares
// them the store), are asked about at every write even with the promise.
// Each queue is empty after the last ack.
func TestServerAsksLazilyOnlyClientsThatAckBeforeClose(t *testing.T) {
	for _, tc := range []struct {
		name         string
		promise      bool
		payload      string
		minAsk, most int
		ackWindow    time.Duration
	}{
		{"promised", true, "<body>m</body>", 1, 2, 0},
		{"not promised", false, "<body>m</body>", 9, 12, 0}, // two messages may share a write on a loaded machine
		{"promised, unstored", true, "<composing xmlns='http://jabber.org/protocol/chatstates'/>", 9, 12, 0},
		{"promised, pending", true, "<body>m</body>", 9, 12, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, withAckWindow(tc.ackWindow))
			ts.addUser(t, "alice", "pw-alice")
			ts.addUser(t, "bob", "pw-bob")
			alice := ts.login(t, "alice", "phone")
			bob := ts.login(t, "bob", "phone", func(o *xmpptest.Options) { o.EnableSM, o.AcksBeforeClose = true, tc.promise })
			requests, messages := exchangeTwelve(t, alice, bob, tc.payload, func() bool { return queued(t, ts, "bob@localhost") == 0 })
			if messages != 12 {
				t.Fatalf("bob got %d of 12 messages", messages)
			}
			if requests < tc.minAsk || requests > tc.most {
				t.Fatalf("the server asked for %d acks for 12 messages written one by one, want %d to %d", requests, tc.minAsk, tc.most)
			}
			if q := queued(t, ts, "bob@localhost"); q != 0 {
				t.Fatalf("%d messages still queued after bob acknowledged them all", q)
			}
		})
	}
}

// exchangeTwelve sends twelve messages (with payload) from alice to bob
// 20 ms apart; bob answers every <r/> at once. It returns how many
// requests and messages bob got by the time done holds (or 10 s).
func exchangeTwelve(t *testing.T, alice, bob *xmpptest.Client, payload string, done func() bool) (requests, messages int) {
	t.Helper()
	ackH := availableAndSettled(bob)
	ack := func() { ackH(bob.Handled()) }
	const n = 12
	go func() {
		for i := range n {
			alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'>%s</message>", i, payload))
			time.Sleep(20 * time.Millisecond)
		}
	}()
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
		if messages == n && requests > 0 && el == nil && done() {
			break
		}
	}
	return requests, messages
}

// availableAndSettled sends c's available presence and acknowledges what
// the login brought until 1.5 s pass quietly; it returns c's ack, of h.
func availableAndSettled(c *xmpptest.Client) (ack func(h int)) {
	c.SendRaw("<presence/>")
	ack = func(h int) { c.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", h)) }
	for el := c.Next(1500 * time.Millisecond); el != nil; el = c.Next(1500 * time.Millisecond) {
		if el.Space == stanza.NSSM && el.Name == "r" {
			ack(c.Handled())
		}
	}
	return ack
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

// TestStanzasSentWhileAnAckRequestWaitsAreAskedAbout: bob (stream
// management, no promise) gets a message with an <r/>, then a second one
// while that request is outstanding (no <r/> with it), and answers the
// first request for the first message only. No more traffic comes; the
// server must still ask about the second message (it did not: it waited
// for a next write that never came, and the message would have gone back
// to bob's queue at his stream's close, to come again at his next login).
// After bob's second ack his queue is empty.
func TestStanzasSentWhileAnAckRequestWaitsAreAskedAbout(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone")
	bob := ts.login(t, "bob", "phone", withSM)
	ack := availableAndSettled(bob)

	alice.SendRaw("<message to='bob@localhost' type='chat' id='one'><body>one</body></message>")
	var requested bool
	for !requested {
		el := bob.Next(5 * time.Second)
		if el == nil {
			t.Fatal("no <r/> with the first message")
		}
		requested = el.Space == stanza.NSSM && el.Name == "r"
	}
	firstH := bob.Handled()
	alice.SendRaw("<message to='bob@localhost' type='chat' id='two'><body>two</body></message>")
	for got := false; !got; {
		el := bob.Next(5 * time.Second)
		switch {
		case el == nil:
			t.Fatal("the second message did not come")
		case el.Space == stanza.NSSM && el.Name == "r":
			t.Fatal("asked again while the first request was outstanding")
		case el.Name == "message":
			got = true
		}
	}
	ack(firstH)
	for {
		el := bob.Next(3 * time.Second)
		if el == nil {
			t.Fatal("the server never asked about the second message")
		}
		if el.Space == stanza.NSSM && el.Name == "r" {
			break
		}
	}
	ack(bob.Handled())
	for deadline := time.Now().Add(5 * time.Second); queued(t, ts, "bob@localhost") != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still queued after bob acknowledged both", queued(t, ts, "bob@localhost"))
		}
	}
}
