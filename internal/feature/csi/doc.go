// Package csi implements Client State Indication (XEP-0352): a device
// tells the server with the <inactive/> and <active/> nonzas
// (urn:xmpp:csi:0) whether its user is looking at it, and while it is
// inactive the server holds back what can wait.
//
// While a device is inactive:
//   - available and unavailable presence to it are held, collapsed to the
//     latest one per sender (full JID), and written, in the order the
//     senders first appeared, when the device becomes active again;
//   - messages that carry only a chat state (XEP-0085), and carbon copies
//     of such messages, are dropped: a stale "typing" is worth nothing;
//   - everything else goes out at once: messages with a body, receipts,
//     chat markers, subscription requests, iq, and stored messages.
//
// The feature advertises <csi/> in the stream features offered with
// resource binding. It needs a Host that implements module.StreamExtender
// and sessions that implement module.Holdable.
//
// State: the set of inactive sessions, guarded by a mutex and forgotten
// when a session ends. Each inactive session has one holder, which its
// session calls only from its own runner (module.Holder), so a holder has
// no lock. Safe for concurrent use.
package csi
