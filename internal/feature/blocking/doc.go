// Package blocking implements the Blocking Command (XEP-0191): each user
// keeps a list of JIDs (bare, full, domain/resource or domain) that are cut
// off in both directions.
//
// Protocol: <blocklist/> (get) returns the list; <block/> and <unblock/>
// (set) change it, an <unblock/> without items empties it; every change is
// pushed to all the account's devices. Changes are stored (store.Blocking)
// before the answer.
//
// Enforcement is a route filter (module.Host.FilterRoute), so it covers
// every stanza routed to a local user, whoever produced it (a device, the
// roster feature's presence broadcasts and probe answers, the server):
//
//   - from a blocked entity to the user: presence and iq results/errors are
//     dropped; messages and iq requests are refused with
//     service-unavailable (what a non-existent account gets);
//   - from the user to a blocked entity: presence and error/result stanzas
//     are dropped; messages and iq requests are refused with not-acceptable
//     plus <blocked xmlns='urn:xmpp:blocking:errors'/>.
//
// On block, the contact gets unavailable presence from the user's
// available devices (if it is subscribed to the user's presence) and the
// user's devices get unavailable presence from the contact's. On unblock,
// the contact gets the user's current presence (if subscribed) and the
// contact is probed for the user (if the user is subscribed), so presence
// flows again.
//
// Lists are cached in memory (bounded; loaded on first use) so the filter
// costs no store read per stanza. The feature is the only writer of block
// lists, so the cache stays exact on one node; a cluster would need an
// invalidation message. Loads and changes of one user are serialized by a
// striped mutex. Safe for concurrent use.
package blocking
