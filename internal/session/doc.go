// Package session is the per-device actor: one Session per connected (or,
// for stream management, detached) device.
//
// Execution model. A Session has a bounded mailbox. Deliver and the control
// calls (Close, Ping) only append to it; when work arrives and no goroutine
// is running for the session, a runner drains the mailbox, writes
// everything it produced in one write (coalescing), and moves on. Runners
// are shared by all sessions of a Config (runners.go): one that finished
// a mailbox waits one to two seconds for the next session's before it exits,
// so a busy server does not start a goroutine, and grow its stack, for
// every burst. An idle session holds no goroutine of its own. The connection's reader
// calls HandleInbound for each stanza the client sent and Flush after each
// read. Both paths hold Session.mu, which guards all session state and
// serializes writes to the transport, except while a message the client
// sent is routed: its durable write waits for a WAL sync, and the mailbox
// runner must not wait behind it, so the reader routes it holding only
// Session.inMu (one element from the client at a time, in order): the
// messages of one read are routed until visible and then handed to the
// session's settler (settle.go), which waits once for all of them and takes
// mu to count them for stream management and send the "sent" acks, in
// order, once durable, while the reader goes on reading. Resumption, a
// handoff and any element that is not a message, <r/> or <a/> take inMu and
// wait until every message before them is settled (settleInbound), so the
// count they report never misses a routed message. Nothing outside the session ever
// waits on it: a slow client fills its own mailbox, and on overflow the
// session is closed with a policy-violation stream error (named policy
// "disconnect slow client"); its stored messages stay in the durable queue.
//
// Delivery guarantees. Stanzas that came from the offline queue (stored
// messages) carry their queue sequence number. They are deleted from the
// queue when the client acknowledges them (XEP-0198 <a/>), or, for a client
// without stream management, once they have been written to its socket.
// The session asks for acks (<r/>) at every write that carries stanzas not
// yet asked about, or, for a client that promised to acknowledge before it
// closes its stream, about a second later when they are all stored ones
// (ackask.go).
// When the connection drops, a resumable session is detached for the
// resumption window; unacknowledged stanzas are re-sent on resume. If the
// window expires, stored messages are simply left in the queue for the next
// login, and unanswered iq requests are bounced with an error. A stanza
// handed with a position in a service's log (a group post stored once,
// router.RouteLogged) is tracked by (key, seq): its ack settles it through
// Config.Logs, and a session that ends without the ack releases it, to be
// written into the account's queue (logpos.go).
package session
