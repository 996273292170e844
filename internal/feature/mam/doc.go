// Package mam implements Message Archive Management (XEP-0313,
// urn:xmpp:mam:2) with Result Set Management paging (XEP-0059): a
// per-user archive of one-to-one messages, queried by the account's own
// devices.
//
// What is archived: every message routed to a local user that the router
// stored for delivery (type chat, normal or none, with a body, without a
// no-store or no-permanent-store hint), once in the recipient's archive and,
// when the sender is a local user, once in the sender's. Each archive obeys
// its owner's preferences (<prefs/>: default always, never or roster, and
// always/never lists of bare JIDs); the server's default is Options.Default.
//
// Ids: the recipient's archive id is the XEP-0359 stanza-id the router
// stamped by the recipient's bare JID on the copy that was delivered (live
// or from the offline queue), so a client that got a message from the
// offline queue and then syncs the archive can drop the duplicate by its
// stanza-id. The sender's archive copy carries a stanza-id by the sender's
// bare JID with the same id value (also the one Parley's binary protocol
// returns in the sender's "sent" ack), so the sender dedupes its own
// messages the same way. Archive times are unique per process and
// microsecond-precise (a monotonic clock), so every backend orders an
// archive the same way.
//
// Queries (<query/> in an iq set to the account): form fields with (a JID;
// its bare part is matched), start, end, after-id and before-id; RSM <max>
// (default Options.DefaultPage, capped at Options.MaxPage; 0 returns only
// the count), <after>, <before> (an empty <before/> asks for the last
// page). The results go to the requesting device as <message><result
// queryid id><forwarded><delay/><message/></forwarded></result></message>,
// then the iq result with <fin complete> and <set> (<first index>, <last>,
// <count>). An unknown after/before id is item-not-found; unknown form
// fields are bad-request. An iq get of <query/> returns the search form.
//
// Retention: with Options.Retention > 0, RunSweeper deletes older messages
// in batches. The privacy mode --no-server-history is the absence of this
// feature: nothing is archived and MAM is not offered (queries get
// service-unavailable).
//
// Cost of a query: one page read (Max+1 records) and one count of the
// selection (linear in its size: ~0.8 ms for 20,000 messages on Pebble,
// docs/benchmarks.md), plus a second count for the RSM index of a
// page in the middle of the selection (first and last pages derive it).
//
// Cost on the message path: per archive, preferences from an in-memory
// cache (prefcache.go; entries live a minute) and one unsynced batch that
// reads nothing (the message itself was made durable by the offline queue;
// a later synced write covers the archive). The hook runs after
// delivery, before the sender's ack: a client that waits for its "sent"
// tick finds the message in both archives.
//
// Safe for concurrent use; the mutable state is the clock, guarded by its
// mutex, and the preferences cache (prefcache.go), guarded per shard.
package mam
