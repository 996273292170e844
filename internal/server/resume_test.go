package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestClusterResumeOnAnotherNodeAfterHandoff: bob, on node 1, has read
// three messages and acknowledged none when node 1 hands its sessions off
// (a rolling upgrade). He comes back on node 2 and resumes with h=2 (he
// processed only his own presence and the first message): node 2 answers <resumed/> with node 1's count
// of his stanzas, re-sends the two he did not acknowledge, then what was
// queued while he was away, each once, and nothing he acknowledged. His
// final ack empties the shared queue; the record cannot be used twice.
func TestClusterResumeOnAnotherNodeAfterHandoff(t *testing.T) {
	nodes := startCluster(t, 2)
	for _, u := range []string{"alice", "bob"} {
		nodes[0].addUser(t, u, "pw-"+u)
	}
	bob := nodes[0].login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	bob.Expect("bob's own presence", isPresenceFrom("bob@localhost/phone"))
	waitAvailable(t, nodes[1], "bob@localhost/phone")
	alice := nodes[1].login(t, "alice", "phone")
	for i := 1; i <= 3; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='u%d'><body>live %d</body></message>", i, i))
		bob.Expect("a live message", xmpptest.IsMessageWithBody(fmt.Sprintf("live %d", i)))
	}

	nodes[0].handOff()
	if se := bob.Closed(); se == nil || se.Condition != stanza.StreamSystemShutdown {
		t.Fatalf("handoff stream error %v, want system-shutdown", se)
	}
	alice.SendRaw("<message to='bob@localhost' type='chat' id='q1'><body>queued</body></message>")
	waitQueueLen(t, nodes[1], "bob@localhost", 4) // the three live ones (unacked) and the queued one

	re := xmpptest.Dial(t, nodes[1].addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	got, err := re.Resume(bob.SMID, 2)
	if err != nil || got.Name != "resumed" || got.Attr("previd") != bob.SMID || got.Attr("h") != "1" {
		t.Fatalf("resuming node 1's session on node 2: %v %v, want <resumed previd=%s h=1/>", got, err, bob.SMID)
	}
	re.StartReading()
	alice.SendRaw("<message to='bob@localhost' type='chat' id='l1'><body>last</body></message>")
	var bodies []string
	h := 2
	for {
		el := re.Next(10 * time.Second)
		if el == nil {
			t.Fatalf("after resuming on node 2, bob got %q and then nothing", bodies)
		}
		if el.Name == "message" || el.Name == "presence" || el.Name == "iq" {
			h++ // his own presence comes back too: the restored session announces it
		}
		if el.Name == "message" {
			bodies = append(bodies, el.ChildText(stanza.NSClient, "body"))
			if bodies[len(bodies)-1] == "last" {
				break
			}
		}
	}
	if want := []string{"live 2", "live 3", "queued", "last"}; fmt.Sprint(bodies) != fmt.Sprint(want) {
		t.Fatalf("after resuming on node 2 bob got %q, want %q (each once, in order)", bodies, want)
	}
	re.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", h))
	waitQueueLen(t, nodes[1], "bob@localhost", 0)

	again := xmpptest.Dial(t, nodes[0].addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	if got, err := again.Resume(bob.SMID, h); err != nil || got.Name != "failed" {
		t.Fatalf("resuming a used record again: %v %v, want <failed/>", got, err)
	}
}

// waitQueueLen waits until the queue key holds want stanzas.
func waitQueueLen(t *testing.T, ts *testServer, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := ts.store.QueueLen(context.Background(), key)
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s holds %d stanzas (err %v), want %d", key, n, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
