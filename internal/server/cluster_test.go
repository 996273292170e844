package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/cluster/natstest"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
	"github.com/parley-im/parley/internal/xmpptest"
)

// startCluster starts n Parley nodes on one PostgreSQL schema, each
// connected to its own server of an n-server NATS cluster, and waits until
// every node hears from every other.
func startCluster(t *testing.T, n int) []*testServer {
	t.Helper()
	dsn := pgtest.Fresh(t)
	nats := natstest.Cluster(t, n)
	nodes := make([]*testServer, n)
	for i := range n {
		nodes[i] = startServer(t, func(c *config.Config) {
			c.Store, c.NATS, c.NodeID = dsn, nats[i].URL, fmt.Sprintf("node%d", i+1)
			c.ClusterHeartbeat = 200 * time.Millisecond
		})
	}
	for _, ts := range nodes {
		waitMembers(t, ts, n)
	}
	return nodes
}

// waitMembers waits until /healthz of ts lists want cluster members.
func waitMembers(t *testing.T, ts *testServer, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := len(healthz(t, ts).Cluster); got == want {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: %d cluster members, want %d", ts.addrs.HTTP, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type health struct {
	Node    string `json:"node"`
	Cluster []struct {
		Node    string `json:"node"`
		Devices int    `json:"devices"`
	} `json:"cluster"`
}

func healthz(t *testing.T, ts *testServer) health {
	t.Helper()
	resp, err := http.Get("http://" + ts.addrs.HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestClusterChatAcrossNodes: alice on node 1 and bob on node 2, contacts
// of each other. Each sees the other's presence (broadcast and probe
// answer cross the bus), alice's message reaches bob with its stanza-id,
// bob's receipt and typing notification reach alice, an iq to bob's full
// JID is answered across nodes, and bob's second device on node 3 gets the
// same message, the roster push for a change made on his phone and, once
// it enabled carbons, the carbon copy of a message to the phone.
func TestClusterChatAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	for _, u := range []string{"alice", "bob"} {
		nodes[0].addUser(t, u, "pw-"+u)
	}
	nodes[0].befriend(t, "alice", "bob")

	bob := nodes[1].login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	bob.Expect("bob's own presence", isPresenceFrom("bob@localhost/phone"))
	waitRemoteDevices(t, nodes[0], 1)
	waitAvailable(t, nodes[0], "bob@localhost/phone")

	alice := nodes[0].login(t, "alice", "phone", withSM)
	alice.SendRaw("<presence/>")
	alice.Expect("bob's presence (answer to alice's probe, from node 2)", isPresenceFrom("bob@localhost/phone"))
	bob.Expect("alice's presence broadcast (from node 1)", isPresenceFrom("alice@localhost/phone"))

	bob2 := nodes[2].login(t, "bob", "tablet")
	bob2.SendRaw("<presence/>")
	expectAll(t, bob2, "bob's phone's presence (node 2) and alice's (node 1) on bob's tablet (node 3)",
		isPresenceFrom("bob@localhost/phone"), isPresenceFrom("alice@localhost/phone"))
	alice.Expect("bob's tablet's presence", isPresenceFrom("bob@localhost/tablet"))
	waitRemoteDevices(t, nodes[0], 2)

	alice.SendRaw("<message to='bob@localhost' type='chat' id='m1'><body>hello across nodes</body><request xmlns='urn:xmpp:receipts'/></message><r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("the server's ack (stored)", func(el *stanza.Element) bool { return el.Name == "a" && el.Attr("h") != "0" })
	for _, c := range []*xmpptest.Client{bob, bob2} {
		m := c.Expect("alice's message", xmpptest.IsMessageWithBody("hello across nodes"))
		if m.Attr("from") != "alice@localhost/phone" || m.Child(stanza.NSSID, "stanza-id") == nil {
			t.Fatalf("message without stamped from or stanza-id: %v", m)
		}
	}
	bob.SendRaw("<message to='alice@localhost/phone' id='r1'><received xmlns='urn:xmpp:receipts' id='m1'/></message>")
	alice.Expect("bob's receipt", func(el *stanza.Element) bool {
		r := el.Child(stanza.NSReceipts, "received")
		return el.Name == "message" && r != nil && r.Attr("id") == "m1" && el.Attr("from") == "bob@localhost/phone"
	})
	bob.SendRaw("<message to='alice@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/><no-store xmlns='urn:xmpp:hints'/></message>")
	alice.Expect("bob typing", func(el *stanza.Element) bool {
		return el.Name == "message" && el.Child("http://jabber.org/protocol/chatstates", "composing") != nil
	})
	alice.SendRaw("<iq type='get' id='v1' to='bob@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>")
	iq := bob.Expect("alice's ping", func(el *stanza.Element) bool { return el.Name == "iq" && el.Attr("id") == "v1" })
	bob.SendRaw(fmt.Sprintf("<iq type='result' id='v1' to='%s'/>", iq.Attr("from")))
	alice.Expect("bob's answer to the ping", xmpptest.IsIQResult("v1"))

	bob2.SendRaw("<iq type='get' id='rg'><query xmlns='jabber:iq:roster'/></iq>")
	bob2.Expect("bob's roster on his tablet", xmpptest.IsIQResult("rg"))
	tablet := jid.MustParse("bob@localhost/tablet")
	deadline := time.Now().Add(10 * time.Second)
	for d := nodes[1].reg.Device(tablet); d == nil || !d.RosterRequested(); d = nodes[1].reg.Device(tablet) {
		if time.Now().After(deadline) {
			t.Fatal("node 2 never learnt that bob's tablet asked for its roster")
		}
		time.Sleep(5 * time.Millisecond)
	}
	bob.SendRaw("<iq type='set' id='rs'><query xmlns='jabber:iq:roster'><item jid='carol@localhost' name='Carol'/></query></iq>")
	bob.Expect("the roster set's result", xmpptest.IsIQResult("rs"))
	bob2.Expect("the roster push on the tablet (node 3) for the set made on the phone (node 2)", func(el *stanza.Element) bool {
		q := el.Child("jabber:iq:roster", "query")
		return el.Name == "iq" && el.Type() == "set" && q != nil && q.Child("jabber:iq:roster", "item") != nil &&
			q.Child("jabber:iq:roster", "item").Attr("jid") == "carol@localhost"
	})

	bob2.SendRaw("<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	bob2.Expect("carbons enabled on the tablet", xmpptest.IsIQResult("cb"))
	deadline = time.Now().Add(10 * time.Second)
	for d := nodes[0].reg.Device(tablet); d == nil || !d.(module.CarbonsSession).Carbons(); d = nodes[0].reg.Device(tablet) {
		if time.Now().After(deadline) {
			t.Fatal("node 1 never learnt that bob's tablet enabled carbons")
		}
		time.Sleep(5 * time.Millisecond)
	}
	alice.SendRaw("<message to='bob@localhost/phone' type='chat' id='m2'><body>to the phone only</body></message>")
	bob.Expect("the message to the phone", xmpptest.IsMessageWithBody("to the phone only"))
	bob2.Expect("its carbon copy on the tablet (routed on node 1, copied to node 3)", func(el *stanza.Element) bool {
		r := el.Child("urn:xmpp:carbons:2", "received")
		return el.Name == "message" && r != nil && el.Attr("from") == "bob@localhost"
	})

	bob.SendRaw("<presence type='unavailable'/>")
	alice.Expect("bob's phone going away", func(el *stanza.Element) bool {
		return el.Name == "presence" && el.Attr("from") == "bob@localhost/phone" && el.Type() == "unavailable"
	})
	bob2.Close()
	alice.Expect("bob's tablet gone (its session ended on node 3)", func(el *stanza.Element) bool {
		return el.Name == "presence" && el.Attr("from") == "bob@localhost/tablet" && el.Type() == "unavailable"
	})
}

// expectAll waits for one element matching each of matches, in any order.
func expectAll(t *testing.T, c *xmpptest.Client, what string, matches ...func(*stanza.Element) bool) {
	t.Helper()
	left := append([]func(*stanza.Element) bool(nil), matches...)
	c.Expect(what, func(el *stanza.Element) bool {
		for i, m := range left {
			if m(el) {
				left = append(left[:i], left[i+1:]...)
				break
			}
		}
		return len(left) == 0
	})
}

func isPresenceFrom(full string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool {
		return el.Name == "presence" && el.Attr("from") == full && el.Type() == ""
	}
}

// waitAvailable waits until ts's directory shows the device full available.
func waitAvailable(t *testing.T, ts *testServer, full string) {
	t.Helper()
	j := jid.MustParse(full)
	deadline := time.Now().Add(10 * time.Second)
	for d := ts.reg.Device(j); d == nil || !d.Available(); d = ts.reg.Device(j) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never shown available", full)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitRemoteDevices waits until ts's directory holds want remote devices.
func waitRemoteDevices(t *testing.T, ts *testServer, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ts.reg.RemoteLen() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d remote devices in the directory, want %d", ts.reg.RemoteLen(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClusterResumptionFallsBackToTheQueue: stream-management resumption
// does not cross nodes. Bob's connection to node 1 drops with a message
// unacknowledged; he comes back on node 2, where resuming fails
// (item-not-found), logs in afresh and gets the message from the shared
// queue. His detached session on node 1 is closed by the new login (a
// conflict crossing the bus), so it sends nothing more.
func TestClusterResumptionFallsBackToTheQueue(t *testing.T) {
	nodes := startCluster(t, 2)
	for _, u := range []string{"alice", "bob"} {
		nodes[0].addUser(t, u, "pw-"+u)
	}
	bob := nodes[0].login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	bob.Expect("bob's own presence", isPresenceFrom("bob@localhost/phone"))
	alice := nodes[1].login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat' id='u1'><body>unacked</body></message>")
	bob.Expect("the message, live", xmpptest.IsMessageWithBody("unacked"))
	bob.Drop() // no ack sent: the message stays in the shared queue
	waitLocalSessions(t, nodes[0], 1)

	re := xmpptest.Dial(t, nodes[1].addrs.C2S, xmpptest.Options{User: "bob", Password: "pw-bob", NoBind: true})
	if got, err := re.Resume(bob.SMID, 0); err != nil || got.Name != "failed" || got.Child(stanza.NSStanzaErr, "item-not-found") == nil {
		t.Fatalf("resuming node 1's session on node 2: %v %v, want <failed/> with item-not-found", got, err)
	}
	again := nodes[1].login(t, "bob", "phone", withSM)
	again.SendRaw("<presence/>")
	m := again.Expect("the unacked message, from the queue", xmpptest.IsMessageWithBody("unacked"))
	if m.Child(stanza.NSDelay, "delay") == nil {
		t.Fatalf("not from the offline queue: %v", m)
	}
	waitLocalSessions(t, nodes[0], 0) // closed by the conflict from node 2
	if n := nodes[0].reg.Len(); n != 0 {
		t.Fatalf("node 1 still holds %d local sessions", n)
	}
}

// waitLocalSessions waits until ts holds want local sessions (detached ones included).
func waitLocalSessions(t *testing.T, ts *testServer, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ts.reg.Len() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d local sessions, want %d", ts.reg.Len(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEmbeddedNATSSingleNode: --nats embedded runs the bus inside the
// process; /healthz lists the one node and /metrics the cluster figures.
func TestEmbeddedNATSSingleNode(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.NATS = config.NATSEmbedded })
	h := healthz(t, ts)
	if h.Node != config.DefaultNodeID || len(h.Cluster) != 1 {
		t.Fatalf("healthz: %+v", h)
	}
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>one node</body></message>")
	bob.Expect("the message", xmpptest.IsMessageWithBody("one node"))
	resp, err := http.Get("http://" + ts.addrs.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, name := range []string{"parley_cluster_members 1", "parley_cluster_directory_remote_devices 0", "parley_cluster_bus_messages_total{direction=\"out\"}"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestClusterGroupPostsFannedOutOnce: a group whose members are on three
// nodes; each posts 10 messages on their own node. One node (the leader)
// fans out the shared outbox: every member gets every post exactly once.
func TestClusterGroupPostsFannedOutOnce(t *testing.T) {
	nodes := startCluster(t, 3)
	groupUsers(t, nodes[0], "alice", "bob", "carol")
	users := []string{"alice", "bob", "carol"}
	clients := make([]*xmpptest.Client, 3)
	for i, u := range users {
		clients[i] = online(t, nodes[i], u)
	}
	g := createGroup(t, clients[0], "Across nodes", "bob", "carol")
	var want []string
	for i, c := range clients {
		for j := range 10 {
			body := fmt.Sprintf("%s %d", users[i], j)
			post(c, g, fmt.Sprintf("p%d-%d", i, j), body)
			want = append(want, body)
		}
	}
	for i, c := range clients {
		got, _ := bodiesUntil(t, c, g, want...)
		for el := c.Next(500 * time.Millisecond); el != nil; el = c.Next(300 * time.Millisecond) {
			if el.Name == "message" && el.Type() == "groupchat" {
				got[el.Body()]++
			}
		}
		for _, b := range want {
			if got[b] != 1 {
				t.Errorf("%s got %q %d times", users[i], b, got[b])
			}
		}
	}
}

// TestGroupsFanOutRunsOnOneNodeWhateverTheMembershipViews: two nodes on
// one store that do not see each other (each on a NATS of its own: each
// believes it is the whole cluster, as nodes do for a moment while a
// cluster starts). Only the holder of the store's fan-out lease drains the
// shared outbox: every member, all on node A, gets every post once, live,
// and nothing more at the next login (a second worker on node B would
// have put copies in their offline queues, or taken posts away from the
// live members).
func TestGroupsFanOutRunsOnOneNodeWhateverTheMembershipViews(t *testing.T) {
	dsn := pgtest.Fresh(t)
	nodes := make([]*testServer, 2)
	for i := range nodes {
		nats := natstest.Cluster(t, 1)
		nodes[i] = startServer(t, func(c *config.Config) {
			c.Store, c.NATS, c.NodeID = dsn, nats[0].URL, fmt.Sprintf("node%d", i+1)
			c.ClusterHeartbeat = 200 * time.Millisecond
		})
	}
	a := nodes[0]
	groupUsers(t, a, "alice", "bob")
	alice, bob := online(t, a, "alice"), online(t, a, "bob")
	g := createGroup(t, alice, "Split views", "bob")
	var want []string
	for j := range 30 {
		body := fmt.Sprintf("post %d", j)
		post(alice, g, fmt.Sprintf("p%d", j), body)
		want = append(want, body)
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		got, _ := bodiesUntil(t, c, g, want...)
		for _, b := range want {
			if got[b] != 1 {
				t.Errorf("%s got %q %d times live", c.JID, b, got[b])
			}
		}
	}
	bob.Close()
	again := online(t, a, "bob")
	for el := again.Next(time.Second); el != nil; el = again.Next(500 * time.Millisecond) {
		if el.Name == "message" && el.Type() == "groupchat" {
			t.Errorf("bob got %q again at his next login", el.Body())
		}
	}
}
