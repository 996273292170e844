package cluster

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/prometheus/client_golang/prometheus"
)

// Subjects (see the package documentation and docs/cluster.md).
const (
	subjHeartbeat = "parley.hb"
	subjBye       = "parley.bye"
	subjDir       = "parley.dir"
	subjHello     = "parley.hello"
)

func routeSubject(node string) string { return "parley.node." + node + ".route" }
func syncSubject(node string) string  { return "parley.node." + node + ".sync" }

// DefaultHeartbeat is the default heartbeat interval; a node whose
// heartbeats stop for ExpiryBeats intervals is considered gone.
const (
	DefaultHeartbeat = time.Second
	ExpiryBeats      = 3
)

// inboxSize is the buffer of the channel that takes every ordered message
// (directory events, heartbeats, route frames): NATS counts a slow
// consumer and drops beyond it, which the heartbeat check repairs for the
// directory and the shared queue for stored messages.
const inboxSize = 1 << 16

// Config holds what a Node needs.
type Config struct {
	// NodeID names this node in the cluster (a NATS subject token).
	NodeID string
	// URLs are the NATS servers, comma-separated (nats://host:4222,...);
	// ignored when Options include a connection option such as
	// nats.InProcessServer.
	URLs string
	// Options are extra NATS connection options (credentials, TLS, an
	// in-process server).
	Options []nats.Option
	// Heartbeat is the heartbeat interval (DefaultHeartbeat when 0).
	Heartbeat time.Duration
	// HTTP is this node's HTTP address, shown to the others (/healthz).
	HTTP string

	// Carbons, when set, tells whether a local device gets carbon copies
	// (the carbons feature's decision), announced with its state.
	Carbons func(d router.Device) bool
	// Lost, when set, is called (on its own goroutine) with the devices of
	// a node that stopped without a goodbye, once they left the registry:
	// their contacts must learn they are gone.
	Lost func(devs []router.Device)

	Registry *router.Registry
	Codec    router.Codec
	Log      *slog.Logger
	Metrics  prometheus.Registerer
}

// Node is this process's membership of the cluster. Start it with Start;
// Close it after the local sessions are gone.
type Node struct {
	id, epoch string
	beat      time.Duration
	http      string
	nc        *nats.Conn
	reg       *router.Registry
	codec     router.Codec
	log       *slog.Logger
	metrics   *metrics
	lost      func([]router.Device)
	carbons   func(router.Device) bool
	inbox     chan *nats.Msg
	subs      []*nats.Subscription
	stop      chan struct{}
	wg        sync.WaitGroup

	mu      sync.Mutex
	seq     uint64                   // last local device event; guarded by mu
	local   map[string]router.Device // announced local devices by full JID; guarded by mu
	members map[string]*member       // other nodes by id; guarded by mu
	closed  bool                     // guarded by mu
}

// member is another node as this one knows it.
type member struct {
	epoch   string
	http    string
	seen    time.Time
	seq     uint64             // last device event applied
	devices map[string]*remote // by full JID
	syncing bool
	behind  int // consecutive heartbeats announcing events not applied here
}

// Member describes a node of the cluster (/healthz).
type Member struct {
	Node     string `json:"node"`
	Self     bool   `json:"self,omitempty"`
	HTTP     string `json:"http,omitempty"`
	Devices  int    `json:"devices"`
	LastSeen string `json:"last_seen,omitempty"` // age of the last heartbeat
}

// Start connects to NATS, subscribes, asks the running nodes for their
// devices and starts heartbeats.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := validNodeID(cfg.NodeID); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{
		id: cfg.NodeID, epoch: rand.Text()[:13], beat: cfg.Heartbeat, http: cfg.HTTP,
		reg: cfg.Registry, codec: cfg.Codec, log: cfg.Log.With("node", cfg.NodeID), lost: cfg.Lost, carbons: cfg.Carbons,
		inbox: make(chan *nats.Msg, inboxSize), stop: make(chan struct{}),
		local: make(map[string]router.Device), members: make(map[string]*member),
	}
	if n.beat <= 0 {
		n.beat = DefaultHeartbeat
	}
	n.metrics = newMetrics(cfg.Metrics, n)
	opts := append([]nats.Option{
		nats.Name("parley " + n.id), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second), nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(n.disconnected),
		nats.ReconnectHandler(func(c *nats.Conn) { n.log.Info("cluster: NATS connection back", "server", c.ConnectedServerId()) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { n.log.Warn("cluster: NATS", "err", err) }),
	}, cfg.Options...)
	nc, err := nats.Connect(cfg.URLs, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connecting to NATS %s: %w", RedactURLs(cfg.URLs), err)
	}
	n.nc = nc
	if err := n.subscribe(); err != nil {
		nc.Close()
		return nil, err
	}
	n.wg.Add(2)
	go n.readLoop()
	go n.beatLoop()
	n.hello(ctx)
	return n, nil
}

// disconnected logs the end of the NATS connection: a loss is a warning,
// but Close at shutdown ends it too, with no error, and that is no loss.
func (n *Node) disconnected(c *nats.Conn, err error) {
	if err == nil {
		err = c.LastError() // set when NATS closed it itself (an authorization error)
	}
	if err == nil {
		n.log.Debug("cluster: NATS connection closed")
		return
	}
	n.log.Warn("cluster: NATS connection lost", "err", err)
}

func (n *Node) subscribe() error {
	for _, subj := range []string{subjHeartbeat, subjBye, subjDir, routeSubject(n.id)} {
		sub, err := n.nc.ChanSubscribe(subj, n.inbox)
		if err != nil {
			return fmt.Errorf("cluster: subscribing to %s: %w", subj, err)
		}
		_ = sub.SetPendingLimits(-1, -1) // the channel's size is the limit
		n.subs = append(n.subs, sub)
	}
	for _, subj := range []string{syncSubject(n.id), subjHello} {
		sub, err := n.nc.Subscribe(subj, n.answerSync)
		if err != nil {
			return fmt.Errorf("cluster: subscribing to %s: %w", subj, err)
		}
		n.subs = append(n.subs, sub)
	}
	return n.nc.Flush()
}

// ID returns this node's id.
func (n *Node) ID() string { return n.id }

// Close says goodbye to the other nodes and disconnects.
func (n *Node) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.mu.Unlock()
	close(n.stop)
	n.publishControl(subjBye, control{})
	_ = n.nc.Flush()
	for _, s := range n.subs {
		_ = s.Unsubscribe()
	}
	n.nc.Close()
	n.wg.Wait()
	n.mu.Lock()
	for id, m := range n.members {
		n.dropMemberLocked(id, m)
	}
	n.mu.Unlock()
}

// readLoop handles heartbeats, goodbyes, directory events and route
// frames in the order NATS delivered them.
func (n *Node) readLoop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case m := <-n.inbox:
			n.metrics.in.Inc()
			n.handle(m)
		}
	}
}

func (n *Node) handle(m *nats.Msg) {
	if m.Subject == routeSubject(n.id) {
		n.handleRoute(m.Data)
		return
	}
	c, err := decodeControl(m.Data, n.presenceOK)
	if err != nil {
		n.bad(m.Subject, err)
		return
	}
	if c.Node == n.id {
		if c.Epoch != n.epoch && m.Subject == subjHeartbeat {
			n.log.Error("cluster: another node runs with this node id", "node", c.Node)
		}
		return
	}
	switch m.Subject {
	case subjHeartbeat:
		n.heartbeat(c)
	case subjBye:
		n.bye(c)
	case subjDir:
		n.event(c)
	}
}

func (n *Node) bad(subject string, err error) {
	n.metrics.bad.Inc()
	n.log.Warn("cluster: bad bus message dropped", "subject", subject, "err", err)
}

func (n *Node) presenceOK(x string) error {
	_, err := n.codec.Decode([]byte(x))
	return err
}

// handleRoute hands a route frame to the local device it names.
func (n *Node) handleRoute(b []byte) {
	f, err := decodeRoute(b)
	if err != nil {
		n.bad("route", err)
		return
	}
	to, _ := jid.Parse(f.to) // checked by decodeRoute
	d := n.reg.Device(to)
	if d == nil || router.IsRemote(d) {
		n.metrics.misses.Inc() // gone; a stored stanza stays in the queue
		return
	}
	if f.kind == kindClose {
		cond, text, _ := strings.Cut(string(f.payload), "\n")
		closeDevice(d, streamError(cond, text))
		return
	}
	st, err := n.codec.Decode(f.payload)
	if err != nil {
		n.bad("route", err)
		return
	}
	if f.kind == kindSend {
		d.Send(st)
		return
	}
	d.Deliver(st, f.key, f.seq)
}

// closer is a device that can be closed (a session, a proxy).
type closer interface {
	Close(err *stanza.StreamError, resumable bool)
}

func closeDevice(d router.Device, err *stanza.StreamError) {
	if c, ok := d.(closer); ok {
		c.Close(err, false)
	}
}

// streamError rebuilds a stream error sent over the bus; only the
// conditions a node closes devices with are accepted.
func streamError(cond, text string) *stanza.StreamError {
	switch c := stanza.Condition(cond); c {
	case stanza.StreamConflict, stanza.StreamNotAuthorized, stanza.StreamPolicyViolation, stanza.StreamSystemShutdown, stanza.StreamReset:
		if len(text) > 1024 {
			text = text[:1024]
		}
		return stanza.NewStreamError(c, text)
	}
	return stanza.NewStreamError(stanza.StreamReset, "")
}

// sendRoute publishes a route frame to node.
func (n *Node) sendRoute(node string, f routeFrame) bool {
	if err := n.nc.Publish(routeSubject(node), f.append(nil)); err != nil {
		n.log.Warn("cluster: publishing", "to", node, "err", err)
		return false
	}
	n.metrics.out.Inc()
	return true
}

func (n *Node) publishControl(subject string, c control) {
	c.Node, c.Epoch = n.id, n.epoch
	b, err := json.Marshal(c)
	if err != nil {
		n.log.Error("cluster: encoding", "err", err)
		return
	}
	if err := n.nc.Publish(subject, b); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		n.log.Warn("cluster: publishing", "subject", subject, "err", err)
		return
	}
	n.metrics.out.Inc()
}

// Up announces a local device that was bound.
func (n *Node) Up(d router.Device) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.local[d.JID().String()] = d
	n.announceLocked(opUp, d)
}

// Changed announces a local device's new state (presence, roster
// requested). A device that is not announced (gone) is ignored.
func (n *Node) Changed(d router.Device) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.local[d.JID().String()] != d {
		return
	}
	n.announceLocked(opUp, d)
}

// Down announces that a local device is gone.
func (n *Node) Down(d router.Device) {
	n.mu.Lock()
	defer n.mu.Unlock()
	full := d.JID().String()
	if n.local[full] != d {
		return
	}
	delete(n.local, full)
	n.announceLocked(opDown, d)
}

func (n *Node) announceLocked(op string, d router.Device) {
	if n.closed {
		return
	}
	n.seq++
	st := n.stateOf(d)
	if op == opDown {
		st = deviceState{JID: st.JID}
	}
	n.publishControl(subjDir, control{Seq: n.seq, Op: op, Dev: &st})
}

// stateOf reads what the directory announces of a local device.
func (n *Node) stateOf(d router.Device) deviceState {
	st := deviceState{JID: d.JID().String(), Available: d.Available(), Priority: d.Priority(),
		RosterRequested: d.RosterRequested(), Linked: module.LinkedDevice(d)}
	if n.carbons != nil {
		st.Carbons = n.carbons(d)
	}
	if p := d.Presence(); p != nil {
		st.Presence = string(n.codec.Encode(p))
	}
	return st
}

// redrainer is a local device that can read its offline queue again
// (session.Session).
type redrainer interface{ Redrain() }

// CatchUp schedules one more read of the offline queue for a local device
// that just became available, once the other nodes have surely learnt it
// (two heartbeats): a message another node stored meanwhile without
// handing it over, because its directory still showed the device
// unavailable, is delivered then rather than at the next login.
func (n *Node) CatchUp(d router.Device) {
	if r, ok := d.(redrainer); ok {
		time.AfterFunc(2*n.beat, r.Redrain)
	}
}

// redrainRate bounds the catch-up reads after a node died (sessions per
// second), so that a node with many sessions does not hit the store with
// all of them at once.
const redrainRate = 5000

// redrainAllLocked makes every available local device read its queue
// again, at most redrainRate per second: a node died, and stanzas it had
// stored for them may not have crossed the bus.
func (n *Node) redrainAllLocked() {
	var rs []redrainer
	for _, d := range n.local {
		if r, ok := d.(redrainer); ok && d.Available() {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		const batch = redrainRate / 10
		for i, r := range rs {
			if i > 0 && i%batch == 0 {
				select {
				case <-n.stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
			r.Redrain()
		}
	}()
}

// memberLocked returns the member c comes from, replacing one of an older
// incarnation (a restarted node: its old devices are gone).
func (n *Node) memberLocked(c control) *member {
	m := n.members[c.Node]
	if m != nil && m.epoch != c.Epoch {
		n.log.Info("cluster: node restarted", "peer", c.Node)
		n.dropMemberLocked(c.Node, m)
		m = nil
	}
	if m == nil {
		m = &member{epoch: c.Epoch, devices: make(map[string]*remote)}
		n.members[c.Node] = m
		n.log.Info("cluster: node joined", "peer", c.Node)
	}
	m.seen = time.Now()
	return m
}

func (n *Node) dropMemberLocked(id string, m *member) {
	for _, p := range m.devices {
		n.reg.Remove(p)
	}
	m.devices = map[string]*remote{}
	delete(n.members, id)
}

func (n *Node) heartbeat(c control) {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, known := n.members[c.Node]
	m := n.memberLocked(c)
	m.http = c.HTTP
	switch {
	case c.Seq <= m.seq:
		m.behind = 0
	case !known:
		n.syncLocked(c.Node, m)
	default:
		m.behind++
		if m.behind >= 2 {
			m.behind = 0
			n.syncLocked(c.Node, m)
		}
	}
}

func (n *Node) bye(c control) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m := n.members[c.Node]; m != nil && m.epoch == c.Epoch {
		n.log.Info("cluster: node left", "peer", c.Node)
		n.dropMemberLocked(c.Node, m)
	}
}

func (n *Node) event(c control) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.memberLocked(c)
	if c.Seq <= m.seq {
		return
	}
	if c.Seq != m.seq+1 {
		n.syncLocked(c.Node, m) // a gap: apply this one, the snapshot settles the rest
	}
	if c.Op == opDown {
		if p := m.devices[c.Dev.JID]; p != nil {
			n.reg.Remove(p)
			delete(m.devices, c.Dev.JID)
		}
	} else {
		n.upLocked(c.Node, m, *c.Dev)
	}
	m.seq = c.Seq
}

// upLocked installs the proxy of a remote device (new or changed).
func (n *Node) upLocked(node string, m *member, st deviceState) {
	p := &remote{n: n, node: node, state: st}
	p.jid, _ = jid.Parse(st.JID) // checked by decodeControl
	if st.Presence != "" {
		p.presence, _ = n.codec.Decode([]byte(st.Presence))
		p.state.Presence = "" // kept decoded only
	}
	if !n.reg.AddRemote(p) {
		delete(m.devices, st.JID) // a local device holds this JID now
		return
	}
	m.devices[st.JID] = p
}

// beatLoop sends heartbeats and expires silent nodes.
func (n *Node) beatLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.beat)
	defer t.Stop()
	n.sendHeartbeat()
	for {
		select {
		case <-n.stop:
			return
		case now := <-t.C:
			n.sendHeartbeat()
			n.expire(now)
		}
	}
}

func (n *Node) sendHeartbeat() {
	n.mu.Lock()
	c := control{Seq: n.seq, Devices: len(n.local), HTTP: n.http}
	n.mu.Unlock()
	n.publishControl(subjHeartbeat, c)
}

func (n *Node) expire(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var gone []router.Device
	for id, m := range n.members {
		if now.Sub(m.seen) > ExpiryBeats*n.beat {
			n.log.Warn("cluster: node gone (no heartbeat)", "peer", id, "devices", len(m.devices))
			n.metrics.expired.Inc()
			for _, p := range m.devices {
				gone = append(gone, p)
			}
			n.dropMemberLocked(id, m)
			n.redrainAllLocked()
		}
	}
	if len(gone) > 0 && n.lost != nil {
		go n.lost(gone)
	}
}

// Members lists this node and the others it hears from.
func (n *Node) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := []Member{{Node: n.id, Self: true, HTTP: n.http, Devices: len(n.local)}}
	for id, m := range n.members {
		out = append(out, Member{Node: id, HTTP: m.http, Devices: len(m.devices),
			LastSeen: time.Since(m.seen).Round(time.Millisecond).String()})
	}
	return out
}

// Leader reports whether this node has the smallest id among the nodes it
// hears from: the one that runs cluster-wide singletons (the groups'
// fan-out worker). Views differ briefly while a node joins or expires;
// during a partition each side has a leader.
func (n *Node) Leader() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id := range n.members {
		if id < n.id {
			return false
		}
	}
	return true
}

func (n *Node) memberCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.members) + 1
}

// RedactURLs hides passwords and tokens in a comma-separated list of NATS
// URLs, for messages and logs.
func RedactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = redactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}
