package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/cluster/natstest"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
)

// clusterNode is one `parley serve` of the three-node cluster.
type clusterNode struct {
	id, data, c2s, http, nats string
	proc                      *serverProc
}

// TestClusterThreeNodesKill9: three `parley serve` processes on one
// PostgreSQL schema, each on its own server of a three-server NATS cluster
// run in this test. Users on different nodes subscribe to each other and
// chat (messages, receipts, presence, typing). While messages flow both
// ways, the node of one of them is killed with SIGKILL: its user's client
// reconnects to another node. Every message acknowledged as sent is then
// delivered, and reaches the application exactly once (the client library
// drops the copies at-least-once delivery brings, Options.Dedupe); the
// node restarts and rejoins, and a user on it chats with a user on another
// node.
func TestClusterThreeNodesKill9(t *testing.T) {
	dsn := pgtest.Fresh(t)
	ns := natstest.Cluster(t, 3)
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		parley(t, "user", "add", u+"@localhost", "--password", "pw-"+u, "--store", dsn, "--data", t.TempDir())
	}
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		nodes[i] = &clusterNode{id: fmt.Sprintf("node%d", i+1), data: t.TempDir(), c2s: freeAddr(t), http: freeAddr(t), nats: ns[i].URL}
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.start(t, dsn) }()
	}
	wg.Wait()
	for _, n := range nodes {
		waitMembers(t, n, 3)
	}
	c2s := []string{nodes[0].c2s, nodes[1].c2s, nodes[2].c2s}
	alice := dialUser(t, "alice", c2s[0], c2s[1], c2s[2])
	bob := dialUser(t, "bob", c2s[1], c2s[2], c2s[0])
	carol := dialUser(t, "carol", c2s[2], c2s[1], c2s[0])
	erin := dialUser(t, "erin", c2s[0]) // on node1 only: she stays away while it is down

	t.Log("alice (node1) and bob (node2) subscribe to each other; carol is on node3")
	befriend(t, alice, bob)
	alice.waitFor(t, "bob's presence", func() bool { return alice.online["bob@localhost/phone"] })
	bob.waitFor(t, "alice's presence", func() bool { return bob.online["alice@localhost/phone"] })
	id := alice.send(t, "bob@localhost", "hello bob")
	bob.waitFor(t, "alice's message", func() bool { return len(bob.got[id]) > 0 })
	must(t, bob.c.SendReceipt("alice@localhost/phone", id))
	alice.waitFor(t, "bob's receipt", func() bool { return alice.receipts[id] })
	must(t, bob.c.SendChatState("alice@localhost", "composing"))
	alice.waitFor(t, "bob typing", func() bool { return alice.typing["bob@localhost/phone"] == "composing" })
	befriend(t, erin, bob)
	bob.waitFor(t, "erin's presence", func() bool { return bob.online["erin@localhost/phone"] })

	t.Log("messages flow: alice -> bob, bob -> alice, carol -> alice; node1 (alice's) is killed with SIGKILL")
	const perSender = 120
	flows := []struct {
		from *chatUser
		to   string
	}{{alice, "bob@localhost"}, {bob, "alice@localhost"}, {carol, "alice@localhost"}}
	var senders sync.WaitGroup
	for _, f := range flows {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := range perSender {
				f.from.send(t, f.to, fmt.Sprintf("%s %d", f.from.name, i))
				time.Sleep(4 * time.Millisecond)
			}
		}()
	}
	time.Sleep(150 * time.Millisecond)
	acked := len(alice.ackedIDs())
	nodes[0].proc.kill()
	t.Logf("node1 killed; %d of alice's messages were acknowledged before", acked)
	senders.Wait()
	bob.waitFor(t, "erin gone (node1 expired: the leader broadcasts her unavailable presence)", func() bool {
		return !bob.online["erin@localhost/phone"]
	})

	for _, f := range flows {
		f.from.waitFor(t, f.from.name+"'s acks for all its messages", func() bool {
			for id := range f.from.sent {
				if !f.from.acked[id] {
					return false
				}
			}
			return true
		})
	}
	recipients := map[string]*chatUser{"bob@localhost": bob, "alice@localhost": alice}
	for _, f := range flows {
		to := recipients[f.to]
		to.waitFor(t, "every acknowledged message of "+f.from.name, func() bool {
			missing := 0
			for id := range f.from.sent {
				if len(to.got[id]) == 0 {
					missing++
				}
			}
			to.missing = missing
			return missing == 0
		})
		checkOnce(t, f.from, to)
	}
	if alice.connects < 2 {
		t.Fatalf("alice connected %d times: her client did not reconnect after node1's death", alice.connects)
	}

	t.Log("node1 restarts and rejoins; dave on node1 and bob on node2 chat")
	nodes[0].start(t, dsn)
	for _, n := range nodes {
		waitMembers(t, n, 3)
	}
	dave := dialUser(t, "dave", c2s[0])
	id = dave.send(t, "bob@localhost", "dave here")
	bob.waitFor(t, "dave's message (node1 -> node2)", func() bool { return len(bob.got[id]) > 0 })
	id = bob.send(t, "dave@localhost/phone", "hi dave")
	dave.waitFor(t, "bob's answer (node2 -> node1)", func() bool { return len(dave.got[id]) > 0 })
	for _, n := range nodes {
		n.proc.stop(t)
	}
}

func (n *clusterNode) start(t *testing.T, dsn string) {
	n.proc = startServeWith(t, n.data, n.c2s, "--store", dsn, "--nats", n.nats, "--node-id", n.id,
		"--http", n.http, "--cluster-heartbeat", "250ms", "--media", "")
}

// waitMembers waits until the node's /healthz lists want cluster members.
func waitMembers(t *testing.T, n *clusterNode, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		var h struct {
			Cluster []struct{ Node string } `json:"cluster"`
		}
		resp, err := http.Get("http://" + n.http + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if got = len(h.Cluster); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: %d cluster members in /healthz, want %d", n.id, got, want)
}

// checkOnce: each message of from acknowledged as sent reached to's
// application exactly once. Underneath, the same stored copy may have been
// delivered twice (live, then from the queue after the reconnect), and a
// message alice's client re-sent after losing its node before the ack is
// stored twice; the client library drops such copies (by stanza-id and
// origin-id), which the counts below report.
func checkOnce(t *testing.T, from, to *chatUser) {
	t.Helper()
	to.mu.Lock()
	defer to.mu.Unlock()
	for id := range from.sent { // all acknowledged (waited for)
		if n := len(to.got[id]); n != 1 {
			t.Errorf("%s's message %s reached %s %d times", from.name, id, to.name, n)
		}
	}
	t.Logf("%s -> %s: %d acknowledged, each delivered once (%s's client dropped %d copies in all: redeliveries after its reconnect, re-sent messages stored twice)",
		from.name, to.name, len(from.sent), to.name, to.copies.n.Load())
}

// chatUser is a client.Client with what it received, recorded by a
// goroutine reading its events. Fields are guarded by mu.
type chatUser struct {
	name string
	c    *client.Client

	mu       sync.Mutex
	sent     map[string]bool     // ids sent
	acked    map[string]bool     // ids the server acknowledged
	got      map[string][]string // message id -> stanza-ids received
	receipts map[string]bool
	online   map[string]bool
	typing   map[string]string
	connects int
	missing  int // messages still awaited (for the failure message)

	copies copyCounter // copies of messages the client library dropped
}

// copyCounter counts the client library's "dropped a copy" log lines.
type copyCounter struct{ n atomic.Int64 }

func (c *copyCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("dropped a copy")) {
		c.n.Add(1)
	}
	return len(p), nil
}

func dialUser(t *testing.T, name, addr string, fallback ...string) *chatUser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	u := &chatUser{name: name, sent: map[string]bool{}, acked: map[string]bool{}, got: map[string][]string{},
		receipts: map[string]bool{}, online: map[string]bool{}, typing: map[string]string{}, connects: 1}
	c, err := client.Dial(ctx, client.Options{JID: name + "@localhost/phone", Password: "pw-" + name, Addr: addr, Fallback: fallback,
		Encoding: client.XML, TLS: &tls.Config{InsecureSkipVerify: true}, Reconnect: true, Dedupe: true,
		Logger:     slog.New(slog.NewTextHandler(&u.copies, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	u.c = c
	go u.read()
	must(t, c.SetPresence("", ""))
	return u
}

func (u *chatUser) read() {
	for e := range u.c.Events() {
		u.mu.Lock()
		switch e := e.(type) {
		case *client.Message:
			if e.Body != "" {
				u.got[e.ID] = append(u.got[e.ID], e.StanzaID)
			}
		case *client.Sent:
			u.acked[e.ID] = true
		case *client.Receipt:
			for _, id := range e.IDs {
				u.receipts[id] = true
			}
		case *client.Presence:
			switch e.Type {
			case "":
				u.online[e.From] = true
			case "unavailable":
				delete(u.online, e.From)
			case "subscribe":
				u.online["subscribe:"+e.From] = true
			}
		case *client.ChatState:
			u.typing[e.From] = e.State
		case *client.Connected:
			if e.JID != "" {
				u.connects++
			}
		}
		u.mu.Unlock()
	}
}

func (u *chatUser) send(t *testing.T, to, body string) string {
	u.mu.Lock()
	defer u.mu.Unlock() // sent is recorded before the ack can be
	id, err := u.c.SendMessage(to, body)
	if err != nil {
		t.Errorf("%s: sending: %v", u.name, err)
	}
	u.sent[id] = true
	return id
}

func (u *chatUser) ackedIDs() map[string]bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]bool, len(u.acked))
	for id := range u.acked {
		out[id] = true
	}
	return out
}

// waitFor polls cond (called with u.mu held) for up to 20 s.
func (u *chatUser) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		u.mu.Lock()
		ok := cond()
		u.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out waiting for %s (%d messages missing)", u.name, what, u.missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// befriend makes a and b subscribe to each other's presence, across nodes.
func befriend(t *testing.T, a, b *chatUser) {
	t.Helper()
	aBare, bBare := a.name+"@localhost", b.name+"@localhost"
	must(t, a.c.Subscribe(bBare))
	b.waitFor(t, "a subscription request from "+a.name, func() bool { return b.online["subscribe:"+aBare] })
	must(t, b.c.ApproveSubscription(aBare))
	must(t, b.c.Subscribe(aBare))
	a.waitFor(t, "a subscription request from "+b.name, func() bool { return a.online["subscribe:"+bBare] })
	must(t, a.c.ApproveSubscription(bBare))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
