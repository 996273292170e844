package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/xmpptest"
)

// TestABurstOfGroupPostsSharesSyncs: alice sends 32 posts in one write,
// then an ack request. Her session reads them all while their outbox
// writes sync, and acknowledges them once they are durable: a few WAL
// syncs for the burst, where each post waited for a sync of its own (32
// or more) before.
func TestABurstOfGroupPostsSharesSyncs(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob")
	alice := ts.login(t, "alice", "phone", withSM)
	alice.SendRaw("<presence/>")
	bob := online(t, ts, "bob")
	g := createGroup(t, alice, "Burst", "bob")
	post(alice, g, "warm", "warm-up")
	bodiesUntil(t, bob, g, "warm-up")

	const n = 32
	syncs := ts.store.(interface{ WALSyncs() uint64 })
	before := syncs.WALSyncs()
	var burst strings.Builder
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("post %d", i)
		fmt.Fprintf(&burst, "<message to='%s' type='groupchat' id='p%d'><body>%s</body></message>", g, i, want[i])
	}
	burst.WriteString("<r xmlns='urn:xmpp:sm:3'/>")
	alice.SendRaw(burst.String())
	alice.Expect("the ack of the burst", func(el *stanzaElement) bool { return el.Name == "a" })
	got, _ := bodiesUntil(t, bob, g, want...)
	for _, body := range want {
		if got[body] != 1 {
			t.Errorf("bob got %q %d times", body, got[body])
		}
	}
	walSyncs := syncs.WALSyncs() - before
	t.Logf("%d WAL syncs for %d posts", walSyncs, n)
	if walSyncs > n/4 {
		t.Errorf("%d WAL syncs for a burst of %d posts", walSyncs, n)
	}
	none(t, bob, "a second copy", xmpptest.IsMessageWithBody("post 0"))
}
