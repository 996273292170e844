// Package push implements Push Notifications (XEP-0357, urn:xmpp:push:0):
// a client's app registers an app server (its JID and a node, plus
// publish options that usually carry the app's secret), and while none of
// the account's devices is connected the server tells the app server that
// messages are waiting, so that it can wake the phone.
//
// Registrations are per account, keyed by (app server JID, node), kept in
// the store (store.Push) so they survive restarts; <enable/> adds or
// replaces one, <disable/> removes one node or every node of an app server.
// An app server must be reachable: its domain is a connected XEP-0114
// component's (Options.Components), or a webhook takes every other one;
// otherwise <enable/> is refused with remote-server-not-found.
//
// When: a message worth waking for (chat or normal, with a body or an
// OMEMO payload) that the router stored for the account, when no device got
// it live: none was available (it waits in the offline queue), or those
// that got it are detached, waiting for stream-management resumption.
//
// What: a pubsub publish from the account's bare JID to the app server,
// node = the registration's node, with a urn:xmpp:push:summary form:
// message-count (messages since a device of the account was last online,
// remembered for an hour of quiet) and last-message-sender (bare JID); the
// body only with Options.IncludeBody; the registration's publish options
// attached. Or, through the webhook, a JSON POST of the same facts signed
// with HMAC-SHA256 (SignatureHeader). An app server's error meaning it no
// longer knows the registration (item-not-found, not-authorized,
// forbidden, registration-required, gone) removes it; timeouts and other
// errors are counted and logged.
//
// Throttling: at most one notification per account every Options.Interval;
// messages in between are counted into one notification at the interval's
// end (so a burst gives one at once and one after the interval).
//
// Concurrency: the routing hook only drops an event in a bounded queue
// (full: counted as dropped, routing never waits). One worker (Run) owns
// the throttle and sends; app server answers arrive on other goroutines;
// webhook POSTs run on their own small pool with their own bounded queue.
// The registration cache (bounded, entries trusted for a minute so that a
// cluster's other nodes see changes) is guarded by Feature.mu. Secrets (publish
// options, the webhook key) are never logged.
package push
