package server

import (
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// syncGate is the operating system's file system with the syncs of the
// store's write-ahead log held while the gate is shut: a disk whose sync
// has not completed yet, for as long as a test needs.
type syncGate struct {
	mu      sync.Mutex
	open    chan struct{} // closed while the gate is open
	blocked chan struct{} // receives when a sync starts waiting at the shut gate
}

func newSyncGate() *syncGate {
	g := &syncGate{open: make(chan struct{}), blocked: make(chan struct{}, 1)}
	close(g.open)
	return g
}

func (g *syncGate) fs() vfs.FS {
	return errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		switch op.Kind {
		case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
			if strings.HasSuffix(op.Path, ".log") {
				g.wait()
			}
		}
		return nil
	}))
}

func (g *syncGate) wait() {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
		return
	default:
	}
	select {
	case g.blocked <- struct{}{}:
	default:
	}
	<-open
}

// shut holds the WAL syncs that start from now on.
func (g *syncGate) shut() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

// release lets the held syncs complete (the gate stays open).
func (g *syncGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// TestASessionKeepsRoutingWhileItsEarlierMessagesSync: while the WAL sync
// that makes alice's first message durable has not completed, her second
// read is routed all the same (bob gets its message), and her stream
// management count still answers in order and only once each is durable:
// <a h='1'/> for the first, then <a h='2'/>. Before, alice's reader waited
// for the first read's sync before it read her next bytes, and bob never
// got the second message while the sync was held.
func TestASessionKeepsRoutingWhileItsEarlierMessagesSync(t *testing.T) {
	gate := newSyncGate()
	ts := startServerOn(t, nil, gate.fs())
	t.Cleanup(gate.release) // before the server's stop, which would wait for a held sync
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/><iq type='get' id='avail' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.Expect("bob's ping, answered after his presence made him available", xmpptest.IsIQResult("avail"))
	alice := ts.login(t, "alice", "phone", withSM)

	gate.shut()
	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>first</body></message><r xmlns='urn:xmpp:sm:3'/>")
	bob.Expect("the first message, delivered while it syncs", xmpptest.IsMessageWithBody("first"))
	<-gate.blocked // the first message's sync waits at the gate
	alice.SendRaw("<message to='bob@localhost' type='chat' id='m2'><body>second</body></message><r xmlns='urn:xmpp:sm:3'/>")
	bob.Expect("the second message, routed while the first one's sync is held", xmpptest.IsMessageWithBody("second"))

	gate.release()
	for _, h := range []string{"1", "2"} {
		a := alice.Expect("alice's acknowledgement", func(el *stanza.Element) bool {
			return el.Space == stanza.NSSM && el.Name == "a"
		})
		if a.Attr("h") != h {
			t.Fatalf("alice got <a h='%s'/>, want h='%s' (the acks in the order of her requests)", a.Attr("h"), h)
		}
	}
}
