// Package calls is call signalling for Parley's own clients
// (urn:parley:call:0, docs/calls.md) with the call state on the server:
// an offer rings on every available device of the callee (and on devices
// that come online while it rings; a callee with none gets a push), the
// first device to accept gets the call and the others stop ringing, a
// callee already in a call is busy, and a call nobody answers within the
// ring timeout (or that the caller cancels) leaves a "missed call" message
// in the chat, stored and queued like any message.
//
// Devices send requests as iq set to the server's domain (offer, ringing,
// accept, reject, terminate, candidate); the server tells devices what
// happened with headline messages carrying the same elements, from the
// other party. The media never passes through the chat server: the SDP
// and ICE candidates are relayed as opaque text, and the media flows
// peer to peer or through the TURN relay (internal/turn, XEP-0215).
//
// XMPP apps use Jingle Message Initiation (XEP-0353) and Jingle instead,
// which the router carries as ordinary messages and iqs; this feature
// does not translate between the two.
//
// Concurrency: the call table is guarded by Feature.mu; handlers run on
// the requesting device's goroutine, timeouts on timer goroutines. Stanzas
// are sent with Session.Send (never blocks) under the lock; the missed-call
// message is routed (a durable write) after the lock is released.
package calls
