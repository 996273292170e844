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
// means that. Run's worker then reads the outbox in order and delivers each
// entry to every member through module.StoredDeliverer (the member's
// offline queue, then its available devices), in bounded concurrent
// batches, and deletes the entry. Entries left at a crash or shutdown are
// fanned out again when the server starts; a member may then get a copy
// twice, with the same stanza-id, which clients dedupe.
//
// Concurrency: the service handler runs on the sender's session goroutine
// (under its lock) and only writes to the store; one worker goroutine (Run)
// does all fan-out. Feature's fields are set by New and Register and
// read-only afterwards, except the atomic held flag (Hold).
package groups
