package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestAckedGroupPostsSurviveKill9: alice posts to a group whose other
// members (bob, carol) are offline and collects the server's acks while
// the server is killed with SIGKILL mid-stream (the fan-out of what was
// acknowledged may be unfinished). After a restart each member gets every
// acknowledged post, in order; a post fanned out again after the crash
// comes with the same stanza-id, so that the client recognizes it.
func TestAckedGroupPostsSurviveKill9(t *testing.T) {
	data := t.TempDir()
	for _, u := range []string{"alice", "bob", "carol"} {
		parley(t, "user", "add", u+"@localhost", "--password", "pw-"+u, "--data", data)
	}
	c2s := freeAddr(t)
	srv := startServe(t, data, c2s)

	alice := xmpptest.Dial(t, c2s, xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "phone", EnableSM: true})
	alice.SendRaw("<iq type='set' id='c1' to='groups.localhost'><create xmlns='urn:parley:groups:0' subject='crash'>" +
		"<member jid='bob@localhost'/><member jid='carol@localhost'/></create></iq>")
	res := alice.Expect("the group", xmpptest.IsIQResult("c1"))
	g := res.Child("urn:parley:groups:0", "info").Attr("jid")
	const total = 400
	acked := 0
	for i := 1; i <= total; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='%s' type='groupchat' id='m%d'><body>%d</body></message><r xmlns='urn:xmpp:sm:3'/>", g, i, i))
		if i == total/2 {
			// On a loaded machine the first acks may take longer: wait for
			// one that covers a post (h counts the create iq too), so that
			// the crash always cuts a stream that had acked posts.
			acked = latestAck(alice, 5*time.Millisecond)
			for deadline := time.Now().Add(10 * time.Second); acked < 2 && time.Now().Before(deadline); {
				acked = max(acked, latestAck(alice, 50*time.Millisecond))
			}
			srv.kill()
			break
		}
	}
	acked = max(acked, latestAck(alice, 100*time.Millisecond))
	acked-- // h counts the create iq too
	if acked <= 0 {
		t.Fatal("no post was acknowledged before the crash")
	}
	t.Logf("%d posts acknowledged before kill -9", acked)

	srv = startServe(t, data, c2s)
	for _, u := range []string{"bob", "carol"} {
		c := xmpptest.Dial(t, c2s, xmpptest.Options{User: u, Password: "pw-" + u, Resource: "phone"})
		c.SendRaw("<presence/>")
		if got := groupPosts(t, c, u); got < acked {
			t.Fatalf("%s received %d posts, but %d were acknowledged", u, got, acked)
		}
		c.Close()
	}
	srv.stop(t)
}

// groupPosts reads the numbered posts c gets until it is quiet and
// returns the highest; posts come in order, a repeat only with the
// stanza-id it had before.
func groupPosts(t *testing.T, c *xmpptest.Client, who string) int {
	t.Helper()
	got, _ := groupPostIDs(t, c, who, 1)
	return got
}

// groupPostIDs is groupPosts, also returning each post's stanza-id; the
// first post may be any up to first (those before it were acknowledged).
func groupPostIDs(t *testing.T, c *xmpptest.Client, who string, first int) (int, map[int]string) {
	t.Helper()
	got := 0
	ids := map[int]string{}
	for {
		el := c.Next(3 * time.Second)
		if el == nil {
			return got, ids
		}
		n, err := strconv.Atoi(el.Body())
		if el.Name != "message" || err != nil {
			continue // the created event
		}
		sid := ""
		if s := el.Child(stanza.NSSID, "stanza-id"); s != nil {
			sid = s.Attr("id")
		}
		switch {
		case n == got+1, got == 0 && n <= first:
			got, ids[n] = n, sid
		case n <= got && ids[n] == sid:
			// fanned out again after the crash: the same stanza-id
		default:
			t.Fatalf("%s got post %d (stanza-id %q) after %d: lost, reordered or a new copy", who, n, sid, got)
		}
	}
}

// TestLiveGroupMemberGetsEveryAckedPostAfterKill9: as
// TestAckedGroupPostsSurviveKill9, with bob online (stream management):
// his copies are handed to his device live, with no copy in his queue. He
// acknowledges the first ten posts, then none while alice goes on
// posting, and the server is killed mid-stream. After the restart bob
// gets, in order, every post acknowledged to alice that he did not
// acknowledge himself; one he had seen comes again only with the
// stanza-id it had (the outbox keeps every post a live device has not
// acknowledged, and the restart fans them out again).
func TestLiveGroupMemberGetsEveryAckedPostAfterKill9(t *testing.T) {
	data := t.TempDir()
	for _, u := range []string{"alice", "bob"} {
		parley(t, "user", "add", u+"@localhost", "--password", "pw-"+u, "--data", data)
	}
	c2s := freeAddr(t)
	srv := startServe(t, data, c2s)

	bob := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "phone", EnableSM: true})
	bob.SendRaw("<presence/>")
	alice := xmpptest.Dial(t, c2s, xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "phone", EnableSM: true})
	alice.SendRaw("<iq type='set' id='c1' to='groups.localhost'><create xmlns='urn:parley:groups:0' subject='crash'>" +
		"<member jid='bob@localhost'/></create></iq>")
	res := alice.Expect("the group", xmpptest.IsIQResult("c1"))
	g := res.Child("urn:parley:groups:0", "info").Attr("jid")
	const ackedByBob, total = 10, 400
	for i := 1; i <= ackedByBob; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='%s' type='groupchat' id='m%d'><body>%d</body></message>", g, i, i))
	}
	seen := map[int]string{} // what bob got before the crash: post -> stanza-id
	for len(seen) < ackedByBob {
		el := bob.Expect("a post", func(el *stanza.Element) bool { _, err := strconv.Atoi(el.Body()); return err == nil })
		n, _ := strconv.Atoi(el.Body())
		seen[n] = el.Child(stanza.NSSID, "stanza-id").Attr("id")
	}
	bob.SendRaw(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", quietHandled(bob))) // posts 1-10
	acked := 0
	for i := ackedByBob + 1; i <= total; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='%s' type='groupchat' id='m%d'><body>%d</body></message><r xmlns='urn:xmpp:sm:3'/>", g, i, i))
		if i == total/2 {
			acked = latestAck(alice, 5*time.Millisecond)
			for deadline := time.Now().Add(10 * time.Second); acked < ackedByBob+3 && time.Now().Before(deadline); {
				acked = max(acked, latestAck(alice, 50*time.Millisecond))
			}
			srv.kill()
			break
		}
	}
	acked = max(acked, latestAck(alice, 100*time.Millisecond))
	acked-- // h counts the create iq too
	if acked <= ackedByBob {
		t.Fatal("no post after bob's ack was acknowledged to alice before the crash")
	}
	for el := bob.Next(time.Second); el != nil; el = bob.Next(time.Second) {
		if n, err := strconv.Atoi(el.Body()); el.Name == "message" && err == nil {
			seen[n] = el.Child(stanza.NSSID, "stanza-id").Attr("id")
		}
	}
	t.Logf("%d posts acknowledged before kill -9; bob had %d live, acknowledged %d", acked, len(seen), ackedByBob)

	srv = startServe(t, data, c2s)
	c := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "phone"})
	c.SendRaw("<presence/>")
	// The posts bob acknowledged may be gone from the outbox; every other
	// one comes.
	got, ids := groupPostIDs(t, c, "bob", ackedByBob+1)
	if got < acked {
		t.Fatalf("bob received %d posts, but %d were acknowledged", got, acked)
	}
	for n, sid := range ids {
		if before, ok := seen[n]; ok && before != sid {
			t.Fatalf("bob's post %d had stanza-id %q live, %q after the crash", n, before, sid)
		}
	}
	c.Close()
	srv.stop(t)
}

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
