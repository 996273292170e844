package server

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// A live member's copy of a post is handed to its device with the post's
// position in the group outbox, with no copy in its queue; what its device
// does not acknowledge reaches its queue when the session ends
// (docs/ARCHITECTURE.md, "Groups").

// quietHandled waits until c has read nothing for a while and returns the
// count of stanzas it handled: an ack of exactly what it got.
func quietHandled(c *xmpptest.Client) int {
	for {
		n := c.Handled()
		time.Sleep(200 * time.Millisecond)
		if c.Handled() == n {
			return n
		}
	}
}

// expectPosts reads the posts from..to, in order, each once, and returns
// their stanza-ids by member.
func expectPosts(t *testing.T, c *xmpptest.Client, member string, from, to int) map[int]string {
	t.Helper()
	ids := map[int]string{}
	for want := from; want <= to; want++ {
		el := c.Expect("post "+strconv.Itoa(want), isPost)
		n, sid := postOf(t, el, member)
		if n != want {
			t.Fatalf("%s got post %d, want %d (lost, repeated or out of order)", member, n, want)
		}
		ids[n] = sid
	}
	return ids
}

// TestGroupsLiveMemberDroppingAfterAPartialAckGetsOnlyTheRestQueued: bob
// is online with stream management. The posts he gets live are not in his
// queue (the post is stored once, in the group outbox). He acknowledges
// the first three, gets three more, drops without acknowledging them, and
// two more are posted while he is away. At his next login he gets posts 4
// to 8, each once, in order (4 to 6 with the stanza-ids he saw), and not
// 1 to 3.
func TestGroupsLiveMemberDroppingAfterAPartialAckGetsOnlyTheRestQueued(t *testing.T) {
	ts := startServer(t, nil)
	alice, bob, g := aliceAndBobInAGroup(t, ts, "partial")
	bob.AckProcessed(quietHandled(bob)) // the created event
	waitQueueLen(t, ts, "bob@localhost", 0)
	postRange(alice, g, 1, 3)
	expectPosts(t, bob, "bob@localhost", 1, 3)
	// Delivered live and not yet acknowledged: no queue copy.
	if n, err := ts.store.QueueLen(t.Context(), "bob@localhost"); err != nil || n != 0 {
		t.Fatalf("bob's queue holds %d stanzas (err %v) while his device has posts 1-3 unacknowledged, want 0", n, err)
	}
	bob.AckProcessed(quietHandled(bob))
	postRange(alice, g, 4, 6)
	before := expectPosts(t, bob, "bob@localhost", 4, 6)
	bob.Drop()
	ts.waitDetached(t, "bob@localhost/phone")
	postRange(alice, g, 7, 8)
	bodiesUntil(t, alice, g, "7", "8")

	again := online(t, ts, "bob") // replaces the detached session, which releases 4-8
	after := expectPosts(t, again, "bob@localhost", 4, 8)
	none(t, again, "another post", isPost)
	for n, sid := range before {
		if after[n] != sid {
			t.Errorf("post %d had stanza-id %q before the drop, %q after", n, sid, after[n])
		}
	}
	waitQueueLen(t, ts, "bob@localhost", 0) // a login without stream management: written is acknowledged
}

// TestGroupsHandoffWithUnacknowledgedLivePosts: bob has posts 1-3 live and
// unacknowledged when the server hands his session off (a live upgrade).
// The handoff writes them into his queue before its resumption record;
// bob resumes acknowledging post 1 and gets 2 and 3 again, then post 4,
// each once; his final ack empties his queue.
func TestGroupsHandoffWithUnacknowledgedLivePosts(t *testing.T) {
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob")
	alice := ts.login(t, "alice", "other")
	alice.SendRaw("<presence/>")
	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	g := createGroup(t, alice, "handoff", "bob")
	base := quietHandled(bob)
	bob.AckProcessed(base)
	postRange(alice, g, 1, 3)
	before := expectPosts(t, bob, "bob@localhost", 1, 3)
	waitQueueLen(t, ts, "bob@localhost", 0)

	ts.handOff()
	if se := bob.Closed(); se == nil || se.Condition != stanza.StreamSystemShutdown {
		t.Fatalf("handoff stream error %v, want system-shutdown", se)
	}
	waitQueueLen(t, ts, "bob@localhost", 3) // posts 1-3, for the record
	ts.hub.closing.Store(false)             // the same process plays the new one

	re := xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	got, err := re.Resume(bob.SMID, base+1) // post 1 acknowledged
	if err != nil || got.Name != "resumed" {
		t.Fatalf("resume: %v %v", got, err)
	}
	re.SMID = bob.SMID // count what comes now, for the final ack
	re.StartReading()
	after := expectPosts(t, re, "bob@localhost", 2, 3)
	for n, sid := range after {
		if before[n] != sid {
			t.Errorf("post %d had stanza-id %q before the handoff, %q after", n, sid, after[n])
		}
	}
	waitQueueLen(t, ts, "bob@localhost", 2)
	alice = ts.login(t, "alice", "other") // handed off too
	post(alice, g, "p4", "4")
	expectPosts(t, re, "bob@localhost", 4, 4)
	none(t, re, "another post", isPost)
	re.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", base+1+quietHandled(re)))
	waitQueueLen(t, ts, "bob@localhost", 0)
}

// TestGroupsResumeWithUnacknowledgedLivePosts: bob's connection drops
// with posts 1-3 live and unacknowledged, posts 4-5 come while his session
// waits for resumption; he resumes having processed post 1 and gets 2 to
// 5, each once, in order, with the stanza-ids he saw; nothing of it was
// ever copied into his queue.
func TestGroupsResumeWithUnacknowledgedLivePosts(t *testing.T) {
	ts := startServer(t, nil)
	alice, bob, g := aliceAndBobInAGroup(t, ts, "resume")
	base := quietHandled(bob)
	postRange(alice, g, 1, 3)
	before := expectPosts(t, bob, "bob@localhost", 1, 3)
	bob.Drop()
	ts.waitDetached(t, "bob@localhost/phone")
	postRange(alice, g, 4, 5)
	bodiesUntil(t, alice, g, "4", "5")
	waitQueueLen(t, ts, "bob@localhost", 0)

	re := xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	if got, err := re.Resume(bob.SMID, base+1); err != nil || got.Name != "resumed" {
		t.Fatalf("resume: %v %v", got, err)
	}
	re.SMID = bob.SMID
	re.StartReading()
	after := expectPosts(t, re, "bob@localhost", 2, 5)
	none(t, re, "another post", isPost)
	for n, sid := range before {
		if n > 1 && after[n] != sid {
			t.Errorf("post %d had stanza-id %q before the drop, %q after", n, sid, after[n])
		}
	}
	re.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", base+1+quietHandled(re)))
	waitQueueLen(t, ts, "bob@localhost", 0)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lw, ok := ts.hub.router.LogLowWater(ts.groups.Service())
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after bob's ack the outbox low-water mark is %d, want none", lw)
		}
	}
}

// aliceAndBobInAGroup logs alice and bob (his phone, with stream
// management) in, available, and has alice create a group with bob in it,
// with subject.
func aliceAndBobInAGroup(t *testing.T, ts *testServer, subject string) (alice, bob *xmpptest.Client, g string) {
	t.Helper()
	groupUsers(t, ts, "alice", "bob")
	alice = online(t, ts, "alice")
	bob = ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	return alice, bob, createGroup(t, alice, subject, "bob")
}

// postRange posts p<from> to p<to>, with bodies "from" to "to", from c to
// the group g.
func postRange(c *xmpptest.Client, g string, from, to int) {
	for i := from; i <= to; i++ {
		post(c, g, fmt.Sprintf("p%d", i), strconv.Itoa(i))
	}
}

// TestAParkedMembersAckOfLivePostsLeavesItParked: bob's connection is
// parked (idle) when alice posts to their group; his stream-management
// ack of the posts he got live is settled by the poller, with no
// goroutine woken for it (it writes nothing to the store), and settles
// them: the group outbox has no position left unacknowledged, and his
// queue stays empty when he goes.
func TestAParkedMembersAckOfLivePostsLeavesItParked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the epoll parker is Linux only")
	}
	ts := startServer(t, nil)
	alice, bob, g := aliceAndBobInAGroup(t, ts, "parked")
	bob.AckProcessed(quietHandled(bob)) // the created event
	waitMetric(t, ts, "parley_c2s_parked_connections", 2)
	postRange(alice, g, 1, 3)
	expectPosts(t, bob, "bob@localhost", 1, 3)
	h := quietHandled(bob)
	waitMetric(t, ts, "parley_c2s_parked_connections", 2)
	wakes := metricValue(t, ts, "parley_c2s_parked_wakes_total")
	pongs := metricValue(t, ts, "parley_c2s_parked_pongs_total")

	bob.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", h))
	waitMetric(t, ts, "parley_c2s_parked_pongs_total", int(pongs)+1)
	if w := metricValue(t, ts, "parley_c2s_parked_wakes_total"); w != wakes {
		t.Fatalf("bob's ack woke %v parked connections, want none", w-wakes)
	}
	if lw, ok := ts.hub.router.LogLowWater(ts.groups.Service()); ok {
		t.Fatalf("after bob's ack the outbox low-water mark is %d, want none", lw)
	}
	bob.Close()
	waitMetric(t, ts, "parley_sessions_active", 1)
	waitQueueLen(t, ts, "bob@localhost", 0)
}
