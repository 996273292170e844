package cluster

import (
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

// remote is the proxy of a device connected to another node: its state as
// last announced, and deliveries that cross the bus. Immutable: a change
// of state replaces the proxy in the registry.
type remote struct {
	n        *Node
	node     string
	jid      jid.JID
	state    deviceState
	presence *stanza.Element // decoded state.Presence; nil when none
}

var (
	_ router.RemoteDevice   = (*remote)(nil)
	_ module.CarbonsSession = (*remote)(nil)
)

func (r *remote) Node() string              { return r.node }
func (r *remote) JID() jid.JID              { return r.jid }
func (r *remote) Available() bool           { return r.state.Available }
func (r *remote) Priority() int             { return r.state.Priority }
func (r *remote) RosterRequested() bool     { return r.state.RosterRequested }
func (r *remote) SetRosterRequested()       {} // the device's own node records it and announces it
func (r *remote) LinkedDevice() string      { return r.state.Linked }
func (r *remote) Presence() *stanza.Element { return r.presence }
func (r *remote) Carbons() bool             { return r.state.Carbons }

// LastStatus is the status text of the last broadcast presence.
func (r *remote) LastStatus() string {
	if r.presence == nil {
		return ""
	}
	return r.presence.ChildText(stanza.NSClient, "status")
}

// Send hands st to the device's node.
func (r *remote) Send(st *stanza.Element) bool {
	return r.n.sendRoute(r.node, routeFrame{kind: kindSend, to: r.state.JID, payload: r.n.codec.Encode(st)})
}

// Deliver hands st, with its queue position when stored, to the device's
// node. A frame lost on the way costs no message: a stored one stays in
// the shared queue until the device acknowledges it.
func (r *remote) Deliver(st *stanza.Element, key string, seq uint64) bool {
	r.n.metrics.remoteDeliveries.Inc()
	return r.n.sendRoute(r.node, routeFrame{kind: kindDeliver, to: r.state.JID, key: key, seq: seq, payload: r.n.codec.Encode(st)})
}

// Close asks the device's node to close the device (an account deleted,
// a linked device revoked, a login elsewhere with the same resource).
func (r *remote) Close(err *stanza.StreamError, _ bool) {
	payload := "\n"
	if err != nil {
		payload = string(err.Condition) + "\n" + err.Text
	}
	r.n.sendRoute(r.node, routeFrame{kind: kindClose, to: r.state.JID, payload: []byte(payload)})
}
