package server

import (
	"context"
	"fmt"
	"github.com/parley-im/parley/internal/store"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-im/parley/internal/cluster"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/carbons"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
)

// directory is what the hub tells the cluster of this node's devices
// (internal/cluster.Node); nil on a single server.
type directory interface {
	Up(d router.Device)
	Changed(d router.Device)
	Down(d router.Device)
	CatchUp(d router.Device)
}

// clusterNode is this server's membership of a cluster (--nats).
type clusterNode struct {
	node     *cluster.Node
	embedded *cluster.Embedded // --nats embedded; nil otherwise
	// releaseGroups lets the groups' fan-out worker run again; nil while
	// it runs (this node holds the fan-out lease). Used by groupsLease only.
	releaseGroups func()
}

// groupsPoll is how often the leading node reads the shared group outbox
// for posts stored by the other nodes.
const groupsPoll = 200 * time.Millisecond

// startCluster joins the cluster bus when --nats is set. It runs once the
// listeners are bound (the heartbeats carry the HTTP address) and before
// any connection is accepted.
func (s *Server) startCluster() error {
	if !config.Clustered(s.cfg) {
		return nil
	}
	s.waitOldProcess()
	cn := &clusterNode{}
	cfg := cluster.Config{NodeID: config.NodeIDOf(s.cfg), URLs: s.cfg.NATS, Heartbeat: s.cfg.ClusterHeartbeat,
		HTTP: s.Addrs().HTTP, Registry: s.reg, Codec: s.hub.sessCfg.Codec, Log: s.log, Metrics: s.metrics}
	var node *cluster.Node // set before any device can be lost (three heartbeats)
	cfg.Lost = func(devs []router.Device) { s.hub.devicesLost(node, devs) }
	cfg.Carbons = s.hub.carbonsOf
	if s.cfg.NATS == config.NATSEmbedded {
		emb, err := cluster.StartEmbedded()
		if err != nil {
			return err
		}
		cn.embedded = emb
		cfg.URLs, cfg.Options = "", []nats.Option{emb.Option()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	node, err = cluster.Start(ctx, cfg)
	if err != nil {
		if cn.embedded != nil {
			cn.embedded.Close()
		}
		return fmt.Errorf("joining the cluster over %s: %w", config.NATSDescription(s.cfg), err)
	}
	cn.node = node
	cn.releaseGroups = s.groups.Hold() // until this node holds the fan-out lease (groupsLease)
	s.cluster = cn
	s.hub.dir = node
	s.log.Info("joined the cluster", "node", node.ID(), "nats", config.NATSDescription(s.cfg))
	return nil
}

// parentWaiter is the part of an Upgrader (tableflip's) that waits for
// the process being upgraded to exit.
type parentWaiter interface {
	WaitForParent(ctx context.Context) error
}

// waitOldProcess, in a process started by a live upgrade, waits until the
// old process exited before this one joins the cluster. With PostgreSQL
// both could run at once, but they share the node id: the other nodes
// would take their alternating heartbeats and directory events for a node
// restarting again and again, and drop the devices that had already moved
// to the new process from their directories. The devices reconnecting
// meanwhile wait in the held listeners, as while the old process releases
// an embedded store.
func (s *Server) waitOldProcess() {
	w, ok := s.upg.(parentWaiter)
	if !ok || !s.upg.HasParent() {
		return
	}
	s.log.Info("live upgrade: waiting for the old process to leave the cluster")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTakeoverTimeout)
	defer cancel()
	if err := w.WaitForParent(ctx); err != nil {
		s.log.Error("live upgrade: the old process did not exit cleanly; joining the cluster anyway", "err", err)
		return
	}
	s.log.Info("live upgrade: the old process left; joining the cluster", "waited", time.Since(start).Round(time.Millisecond))
}

// groupsLease runs the groups' fan-out worker on one node at a time: every
// node appends posts to the one shared outbox, and two workers draining it
// would give members two copies. The node that holds the store's
// groupsFanOutLease runs it (a PostgreSQL advisory lock: exclusive even
// while nodes still disagree on who is in the cluster, as they do while
// starting) and polls the outbox for the other nodes' posts; the others
// try to take the lease at each poll. When its holder dies, PostgreSQL
// frees the lease with the holder's connection and another node takes
// over from the outbox head: an entry the dead one had begun may reach
// some members twice, with the same stanza-id, as after a crash of a
// single server.
func (s *Server) groupsLease(ctx context.Context) {
	if s.cluster == nil {
		return
	}
	cn := s.cluster
	var lease store.Lease
	defer func() {
		if lease != nil {
			lease.Release()
		}
	}()
	t := time.NewTicker(groupsPoll)
	defer t.Stop()
	for {
		switch {
		case lease == nil:
			lease = s.takeGroupsLease(ctx)
		case !lease.Held(ctx):
			s.log.Warn("lost the groups' fan-out lease: another node may run it now")
			cn.releaseGroups = s.groups.Hold()
			lease = nil
		default:
			s.groups.Poke()
		}
		select {
		case <-ctx.Done():
			if cn.releaseGroups == nil {
				cn.releaseGroups = s.groups.Hold() // no fan-out after the lease is given up
			}
			return
		case <-t.C:
		}
	}
}

// groupsFanOutLease names the store lease of the groups' fan-out worker.
const groupsFanOutLease = "groups-fan-out"

// takeGroupsLease tries to take the fan-out lease and, when it did, lets
// the worker run; nil when another node holds it.
func (s *Server) takeGroupsLease(ctx context.Context) store.Lease {
	lease, ok, err := s.store.TryLease(ctx, groupsFanOutLease)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("taking the groups' fan-out lease", "err", err)
		}
		return nil
	}
	if !ok {
		return nil
	}
	s.log.Info("this node runs the groups' fan-out")
	s.cluster.releaseGroups()
	s.cluster.releaseGroups = nil
	return lease
}

// stopCluster leaves the cluster (after the local sessions ended).
func (s *Server) stopCluster() {
	if s.cluster == nil {
		return
	}
	s.cluster.node.Close()
	if s.cluster.embedded != nil {
		s.cluster.embedded.Close()
	}
}

// clusterHealth adds the cluster's members to /healthz.
func (s *Server) clusterHealth(m map[string]any) {
	if s.cluster == nil {
		return
	}
	m["node"] = s.cluster.node.ID()
	m["cluster"] = s.cluster.node.Members()
}

// devicesLost ends, for their contacts, the available devices of a node
// that died: the leader runs the unavailability hooks for each as if its
// session had ended here (roster: unavailable presence to its subscribers
// and directed-presence recipients, unless the device is already back
// elsewhere; last activity: last seen). Views of who leads can differ
// for a moment: a contact may get the unavailable presence twice, which
// is harmless.
func (h *Hub) devicesLost(node *cluster.Node, devs []router.Device) {
	if node == nil || !node.Leader() {
		return
	}
	ctx := context.Background()
	for _, d := range devs {
		if !d.Available() {
			continue
		}
		for _, fn := range h.onUnavailable {
			fn(ctx, d, true)
		}
	}
}

// closer is a device the hub can close: a local session, or the proxy of
// a device on another node (the close crosses the bus).
type closer interface {
	router.Device
	Close(err *stanza.StreamError, resumable bool)
	LinkedDevice() string
}

var _ closer = (*session.Session)(nil)

// dirState is what the hub announces to the cluster when it changes on an
// iq (a roster request, carbons enabled or disabled).
type dirState struct{ roster, carbons bool }

func (h *Hub) dirStateOf(s *session.Session) dirState {
	return dirState{roster: s.RosterRequested(), carbons: h.carbonsOf(s)}
}

// announceChanged tells the cluster of a change in what s announces.
func (h *Hub) announceChanged(s *session.Session, before dirState) {
	if h.dirStateOf(s) != before {
		h.dir.Changed(s)
	}
}

// carbonsOf tells whether a local device gets carbon copies.
func (h *Hub) carbonsOf(d router.Device) bool {
	return h.carbons != nil && h.carbons.Enabled(d)
}

// carbonsState is the carbons feature as the cluster directory reads it.
type carbonsState interface {
	Enabled(s module.Session) bool
}

// carbonsFeature finds the carbons feature among features, or nil.
func carbonsFeature(features []module.Feature) carbonsState {
	for _, f := range features {
		if c, ok := f.(*carbons.Feature); ok {
			return c
		}
	}
	return nil
}
