package cluster

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
)

// A snapshot is this node's whole directory, taken under Node.mu at one
// event seq and sent as parts to the requester's inbox: each part holds at
// most snapshotPartBytes of device states (a NATS message is limited to
// the servers' max_payload, 1 MiB by default), with its number and the
// number of parts. The requester applies the snapshot once it has every
// part.
const snapshotPartBytes = 256 << 10

// snapshotLocked is this node's directory for another node, in parts.
func (n *Node) snapshotLocked() []control {
	var parts []control
	cur := control{Seq: n.seq}
	size := 0
	for _, d := range n.local {
		st := n.stateOf(d)
		l := len(st.JID) + len(st.Presence) + len(st.Linked) + 64
		if size+l > snapshotPartBytes && len(cur.Devs) > 0 {
			parts = append(parts, cur)
			cur, size = control{Seq: n.seq}, 0
		}
		cur.Devs = append(cur.Devs, st)
		size += l
	}
	parts = append(parts, cur)
	for i := range parts {
		parts[i].Part, parts[i].Parts = i+1, len(parts)
	}
	return parts
}

// answerSync replies to a snapshot request (parley.node.<id>.sync, or
// parley.hello from a starting node).
func (n *Node) answerSync(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	if m.Subject == subjHello {
		if c, err := decodeControl(m.Data, n.presenceOK); err != nil || c.Node == n.id {
			return
		}
	}
	n.mu.Lock()
	parts := n.snapshotLocked()
	n.mu.Unlock()
	for _, c := range parts {
		n.publishControl(m.Reply, c)
	}
}

// assembler gathers the parts of snapshots, by node.
type assembler map[string]*control

// add takes a part; it returns the whole snapshot when c completes one.
func (a assembler) add(c control) (control, bool) {
	if c.Parts <= 1 {
		return c, true
	}
	got := a[c.Node]
	if got == nil || got.Epoch != c.Epoch || got.Seq != c.Seq || got.Parts != c.Parts {
		got = &control{Node: c.Node, Epoch: c.Epoch, Seq: c.Seq, Parts: c.Parts}
		a[c.Node] = got
	}
	got.Part++ // parts received (a NATS publisher's messages arrive in order, once)
	got.Devs = append(got.Devs, c.Devs...)
	if got.Part < got.Parts {
		return control{}, false
	}
	delete(a, c.Node)
	return *got, true
}

// collect reads snapshot parts from sub, applying each snapshot once
// complete, until quiet passes without a message, deadline passes, or
// (want > 0) want snapshots were applied.
func (n *Node) collect(ctx context.Context, sub *nats.Subscription, quiet time.Duration, deadline time.Time, want int) int {
	parts := assembler{}
	done := 0
	for time.Now().Before(deadline) && ctx.Err() == nil && (want == 0 || done < want) {
		m, err := sub.NextMsg(quiet)
		if err != nil {
			break // quiet: every running node answered
		}
		n.metrics.in.Inc()
		c, err := decodeControl(m.Data, n.presenceOK)
		if err != nil {
			n.bad("sync", err)
			continue
		}
		if whole, ok := parts.add(c); ok {
			n.applySnapshot(whole)
			done++
		}
	}
	return done
}

// request publishes a snapshot request with a fresh reply inbox.
func (n *Node) request(subject string, body []byte) (*nats.Subscription, error) {
	inbox := n.nc.NewRespInbox()
	sub, err := n.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	if err := n.nc.PublishRequest(subject, inbox, body); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return sub, nil
}

// hello asks the running nodes for their devices and applies the answers
// that arrive until a short quiet period: after it, this node routes to
// them from its first session on.
func (n *Node) hello(ctx context.Context) {
	b, _ := json.Marshal(control{Node: n.id, Epoch: n.epoch})
	sub, err := n.request(subjHello, b)
	if err != nil {
		n.log.Warn("cluster: hello", "err", err)
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	n.collect(ctx, sub, 300*time.Millisecond, time.Now().Add(2*time.Second), 0)
}

// syncLocked asks node for a snapshot of its devices (a gap in its events,
// a new incarnation, a heartbeat ahead of what was applied).
func (n *Node) syncLocked(node string, m *member) {
	if m.syncing || n.closed {
		return
	}
	m.syncing = true
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		got := 0
		sub, err := n.request(syncSubject(node), nil)
		if err == nil {
			got = n.collect(context.Background(), sub, 2*time.Second, time.Now().Add(5*time.Second), 1)
			_ = sub.Unsubscribe()
		}
		n.mu.Lock()
		m.syncing = false
		n.mu.Unlock()
		if got == 0 {
			n.log.Warn("cluster: directory sync: no complete snapshot", "from", node, "err", err)
		}
	}()
}

// applySnapshot replaces what this node knows of c's node, unless events
// newer than the snapshot were applied already.
func (n *Node) applySnapshot(c control) {
	if c.Node == n.id {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	m := n.memberLocked(c)
	if c.Seq < m.seq {
		return // older than events already applied; the heartbeat check asks again
	}
	keep := make(map[string]bool, len(c.Devs))
	for i := range c.Devs {
		keep[c.Devs[i].JID] = true
		n.upLocked(c.Node, m, c.Devs[i])
	}
	for full, p := range m.devices {
		if !keep[full] {
			n.reg.Remove(p)
			delete(m.devices, full)
		}
	}
	m.seq, m.behind = c.Seq, 0
}
