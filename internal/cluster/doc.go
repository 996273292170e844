// Package cluster joins Parley nodes into one service over NATS: a
// directory of which node holds which device, and a bus that hands a
// stanza for a device connected to another node to that node.
//
// The shared PostgreSQL store stays the durable truth. A node that routes
// a storable message to a user enqueues it in the user's shared queue
// first (so the sender's "sent" tick still means durable; only when every
// available device of the user is connected to that node may it hand the
// message to them first and store it only without an ack in its window,
// router.Pending: a device on another node never gets a message that is
// not in the queue), then hands it,
// with its queue seq, to every available device of the user: its own
// devices directly, the others' over the bus. The receiving device's ack
// deletes it from the shared queue whichever node it is on. A message the
// bus loses (a node killed) is still queued: the device gets it when it
// reconnects, on any node, and drains the queue. Stanzas that are not
// stored (presence, roster pushes, chat states, iq) cross the bus the same
// way, without the queue.
//
// Directory. Each node keeps, in its router.Registry, a proxy
// (router.RemoteDevice) for every device connected to another node, with
// the state features read (availability, priority, last presence, whether
// the roster was requested): so presence broadcasts, probes, roster pushes
// and message routing reach remote devices through the same code as local
// ones. Each node announces its own devices' changes on parley.dir, in
// order, numbered; a receiver that sees a gap, a new incarnation of a
// node, or a heartbeat ahead of what it applied asks that node for a
// snapshot (request-reply on parley.node.<id>.sync). A node's entries
// expire when its heartbeats (parley.hb) stop for three intervals, or at
// once when it says goodbye (parley.bye) on a clean shutdown.
//
// Subjects (docs/cluster.md):
//
//	parley.hb                   heartbeats: node, incarnation, event seq, devices
//	parley.bye                  a node leaving cleanly
//	parley.dir                  directory events: device up, changed, down
//	parley.hello                a starting node asks every node for a snapshot
//	parley.node.<id>.route      stanzas for devices connected to node <id>
//	parley.node.<id>.sync       snapshot of node <id>'s devices (request-reply)
//
// Everything received from the bus is decoded with limits and validated
// (wire.go, fuzzed): a bad message is counted and dropped, never trusted
// further than its checks. The bus itself is trusted infrastructure: run
// NATS with TLS and credentials between hosts (docs/cluster.md).
//
// Concurrency: a Node is safe for concurrent use. Directory state is
// guarded by Node.mu; proxies are immutable (a change replaces the proxy).
// NATS delivers each subscription's messages in order on one goroutine.
package cluster
