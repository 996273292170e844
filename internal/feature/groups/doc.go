// Package groups implements membership-based groups with WhatsApp
// semantics (urn:parley:groups:0, docs/protocol/groups.md): a group is
// <id>@groups.<domain>, an address of a service domain the server owns
// (module.ServiceHost), with an owner, admins and members; every member's
// every device gets every message, online or not.
//
// A message to a group from a member is checked (membership, admins-only
// mode), stamped once (a group stanza-id, from=group/sender-bare-JID and a
// <sender/> element) and appended to the durable group outbox (a
// store.Queue key) before the handler returns: the sender's "sent" ack
// means that. Run's worker then reads the outbox in order, up to 64
// entries at a time (a wave), and gives every member its copies of the
// wave through module.StoredDeliverer (the copies stored in the members'
// offline queues, then handed to their available devices), in chunks of
// Options.Batch members each stored with one durable write, the chunks
// concurrently, and deletes the entries. A member is handed the posts
// themselves (stanza.NewPost), not copies: the router and the member's
// sessions make or encode its copy (its to and its stanza-id) where they
// need one, and the post's stanza.Shared lets the queue's codec and the
// sessions' wire encodings encode the post once per encoding, not once
// per member. Entries left at a crash are
// fanned out again when the server starts; a member may then get a copy
// twice, with the same stanza-id, which clients dedupe.
//
// The worker also appends each post to the group's archive (Options.
// Archive; archive.go), which members query with MAM on the group's
// address from their join time on, through internal/mamquery.
//
// XMPP apps see groups as XEP-0045 rooms (muc*.go, occupants.go): the
// service handler takes presence (joins create rooms as Prosody and
// ejabberd do), muc#admin, muc#owner, disco and XEP-0410 self-pings.
// Occupants only change presence and self-ping answers: delivery never
// depends on them.
//
// Members' receipts for a post are recorded at once and passed to its
// sender in batches (receiptbatch.go): one stanza per sender and group per
// short window.
//
// Planned (docs/ARCHITECTURE.md, "Groups"): a post stored once, in the
// outbox kept as the groups' log, and a live member tracked by a cursor
// on it instead of a copy in its queue.
//
// Concurrency: the service handler runs on the sender's session goroutine
// (under its lock) and only writes to the store and to devices' mailboxes;
// one worker goroutine (Run) does all fan-out; the batcher's timers flush
// on their own goroutines. Feature's fields are set by New and Register
// and read-only afterwards, except the atomic held flag (Hold), the
// occupants (guarded by their mutex) and the batcher's pending receipts
// (guarded by its mutex).
package groups
