package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestAckedMessagesSurviveKill9: alice sends messages to offline bob and
// collects the server's stream-management acks while the server is killed
// with SIGKILL mid-stream. After a restart bob must receive every acked
// message exactly once, in order (and nothing twice).
func TestAckedMessagesSurviveKill9(t *testing.T) {
	data := t.TempDir()
	parley(t, "user", "add", "alice@localhost", "--password", "pw-alice", "--data", data)
	parley(t, "user", "add", "bob@localhost", "--password", "pw-bob", "--data", data)
	c2s := freeAddr(t)
	srv := startServe(t, data, c2s)

	alice := xmpptest.Dial(t, c2s, xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "phone", EnableSM: true})
	const total = 400
	acked := 0
	for i := 1; i <= total; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'><body>%d</body></message><r xmlns='urn:xmpp:sm:3'/>", i, i))
		if i == total/2 {
			// Collect the acks that arrived so far, then crash the server while
			// the second half is still in flight.
			// On a loaded machine the first ack may take longer: wait for
			// one, so that the crash always cuts a stream that had acks.
			acked = latestAck(alice, 5*time.Millisecond)
			for deadline := time.Now().Add(10 * time.Second); acked == 0 && time.Now().Before(deadline); {
				acked = latestAck(alice, 50*time.Millisecond)
			}
			srv.kill()
			break
		}
	}
	acked = max(acked, latestAck(alice, 100*time.Millisecond))
	if acked == 0 {
		t.Fatal("no message was acknowledged before the crash")
	}
	t.Logf("%d messages acknowledged before kill -9", acked)

	srv = startServe(t, data, c2s)
	bob := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "phone"})
	bob.SendRaw("<presence/>")
	got := 0
	for {
		el := bob.Next(2 * time.Second)
		if el == nil {
			break
		}
		if el.Name != "message" {
			continue
		}
		n, _ := strconv.Atoi(el.Body())
		if n != got+1 {
			t.Fatalf("got message %d after %d: lost, duplicated or reordered", n, got)
		}
		got = n
	}
	if got < acked {
		t.Fatalf("bob received %d messages, but %d were acknowledged as sent", got, acked)
	}
	bob.Close()
	srv.stop(t)
}

// latestAck drains acks for up to d and returns the highest h seen.
func latestAck(c *xmpptest.Client, d time.Duration) int {
	h := 0
	for {
		el := c.Next(d)
		if el == nil {
			return h
		}
		if el.Space == stanza.NSSM && el.Name == "a" {
			if v, err := strconv.Atoi(el.Attr("h")); err == nil && v > h {
				h = v
			}
		}
	}
}
