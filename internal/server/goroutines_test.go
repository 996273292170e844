package server

import (
	"fmt"
	"runtime/metrics"
	"testing"

	"github.com/parley-im/parley/internal/xmpptest"
)

// TestConversationStartsNoGoroutinePerStanza: alice sends bob one message
// after another with an ack request, each once bob has the previous one
// and alice its ack (so her reader has gone quiet). The connection's
// reader and bob's mailbox runner are kept across stanzas: a goroutine
// started afresh for every stanza grew its small stack again each time on
// the routing and write paths (copystack, 2-16% of the server's CPU).
func TestConversationStartsNoGoroutinePerStanza(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone", withSM)
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	exchange := func(from, n int) {
		for i := from; i < from+n; i++ {
			body := fmt.Sprintf("message %d", i)
			alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat'><body>%s</body></message><r xmlns='urn:xmpp:sm:3'/>", body))
			bob.Expect(body, xmpptest.IsMessageWithBody(body))
			alice.Expect("the ack", func(el *stanzaElement) bool { return el.Name == "a" })
		}
	}
	exchange(0, 5) // sessions, runners and queues in place
	const n = 50
	syncs := ts.store.(interface{ WALSyncs() uint64 })
	before, syncsBefore := goroutinesStarted(), syncs.WALSyncs()
	exchange(5, n)
	// Before: two or more per message (alice's reader woke in a fresh
	// goroutine, bob's mailbox got a fresh runner). Pebble's log writer
	// starts one per WAL sync (the timer that ends the least interval
	// between syncs, time.AfterFunc): those are not the server's, and
	// stay under 1,000/s whatever the load.
	started, walSyncs := goroutinesStarted()-before, syncs.WALSyncs()-syncsBefore
	if started > n/3+walSyncs {
		t.Fatalf("the server started %d goroutines for %d messages (%d WAL syncs)", started, n, walSyncs)
	}
}

// goroutinesStarted is how many goroutines this process has started.
func goroutinesStarted() uint64 {
	sample := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}
