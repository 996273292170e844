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
// wave through module.StoredDeliverer (one durable write to the member's
// offline queue, then its available devices), Options.Batch members at a
// time concurrently, and deletes the entries. Entries left at a crash are
// fanned out again when the server starts; a member may then get a copy
// twice, with the same stanza-id, which clients dedupe.
//
// Concurrency: the service handler runs on the sender's session goroutine
// (under its lock) and only writes to the store; one worker goroutine (Run)
// does all fan-out. Feature's fields are set by New and Register and
// read-only afterwards, except the atomic held flag (Hold).
package groups
