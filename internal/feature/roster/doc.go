// Package roster implements RFC 6121, instant messaging and presence: the
// roster (jabber:iq:roster, with roster versioning and pre-approval) and
// presence (broadcast, directed presence, probes and the subscription
// handshake). RFC 6121 is one protocol, so it is one module: the roster
// state is the subscription state, and every subscription change is a
// roster push.
//
// Wiring. Register installs the roster iq handler (own account), the
// handler for presence sent by local devices, and two hooks (initial
// presence: probes and redelivery of pending subscription requests; session
// end: unavailable broadcast). Presence addressed to a local user must be
// passed by the core to Feature.Inbound; both users of a subscription are
// local, so a subscription stanza is processed twice: once outbound for the
// sender (Host.Route from the sender's bare JID) and once inbound for the
// recipient (Inbound).
//
// State. The subscription state of each contact (subscription, AskOut,
// PendingIn, PreApproved, Hidden) lives in the store, so it survives
// restarts; a pending inbound request is kept as a Hidden item when the
// contact is not in the roster, and is redelivered at every initial
// presence until answered. The only in-memory state is the list of
// directed-presence recipients of each available session (RFC 6121 4.6),
// guarded by its own mutex and dropped when the session becomes unavailable.
//
// Concurrency. All methods are safe for concurrent use. Every read-modify-
// write of a roster item runs under a per-owner lock (striped), and the
// roster push for that change is sent under the same lock so that pushes
// reach devices in version order. A lock is never held while routing a
// stanza: routing may re-enter this package for another user (inbound
// processing), and two users answering each other at once must not
// deadlock.
package roster
