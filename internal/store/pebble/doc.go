// Package pebble is Parley's embedded storage backend: every contract of
// package store in one Pebble LSM (github.com/cockroachdb/pebble/v2) in the
// server's data directory. Open it with Open; close it with Close (which
// flushes the memtable). Checkpoint writes an online, consistent copy.
//
// # Key layout
//
// A key is one prefix byte for the domain, then components. A component is
// a string escaped and terminated (0x00 becomes 0x00 0xFF; the end is 0x00
// 0x01), so that no component's encoding is a prefix of another's ("a@x",
// "a@x#dev" and "a@xy" never share a key range) and keys keep the strings'
// byte order. Written c(s) below; seq is a big-endian uint64.
//
//	'a' c(jid)                account: SCRAM keys and creation time
//	'r' c(owner)              roster version (uint64)
//	'r' c(owner) c(contact)   roster item
//	'q' c(key) seq            queued stanza: varint(stored, Unix ns) + payload
//	'h' c(key)                queue head: every seq below it was acked (uint64)
//	'l' c(jid)                last seen
//	'b' c(user) c(blocked)    block-list entry (XEP-0191), empty value
//	'm' kind c(user) ...      message archive (XEP-0313): messages by time, by
//	                          peer, an id index and preferences (archive.go)
//	'p' c(user)               privacy settings (privacy.go)
//	'e' c(owner) c(node) ...  PEP nodes and their items (pep.go)
//	'n' c(user) c(service) c(node)  push registration (XEP-0357, push.go)
//	'd' c(user) c(id)         linked device: name, times, token hash (devices.go)
//	'g' kind c(...)           groups, members, the user index, invite links (groups.go)
//	's' c(id)                 stream-management resumption record (resumption.go)
//
// The roster version sorts first in its owner's range, so GetRoster reads
// the version and the items with one iterator (one consistent view). Queue
// keys are a bare JID ("alice@example.org") or a bare JID, '#', and a
// device suffix; DeleteAccount removes 'q'/'h' c(jid) and every key whose
// escaped string starts with jid+"#" (one range delete per domain), plus the
// account, roster range, block-list range, archive ranges, push registrations,
// linked devices, group memberships and last seen.
//
// Records are encoded by hand (codec.go): a version byte, then varints and
// length-prefixed bytes. Queue values are not versioned to stay tiny.
//
// # Queues
//
// Each queue has in-memory state (queueState: head, next seq, count), in
// 256 shards chosen by a hash of the key, each with a mutex. The state is
// loaded on first use from the head key and the live stanzas from the head
// on; drained queues are forgotten in sweeps (their head key keeps the next
// seq, so seqs are never reused, even across restarts).
//
// Enqueue assigns seqs and applies the batch inside the shard lock: Pebble
// publishes batches in commit order, so stanzas of one key become visible in
// seq order (the store.Queue ordering contract). ReadQueue takes the head
// under the lock and iterates from max(head, after+1) without it.
//
// AckQueue deletes what it acks and advances the head (written in the same
// unsynced batch), so reads and loads seek straight to the head and never
// walk over acked stanzas (BenchmarkStore/ReadAfterManyAcks vs ReadFresh).
// Lone acks get point tombstones, which compactions drop with their puts;
// runs of at least 64 get one range tombstone. Smaller runs as range
// tombstones were measured to be harmful: Pebble re-fragments all range
// tombstones of the memtable for the first iterator after each new one, so
// one DeleteRange per ack made EnqueueAck fall from ~38k to 3.6k ops/s,
// with 944 allocations per op. For the same reason AckQueue creates no
// iterator when the queue is dense (no stanza after the head acked out of
// order, count == next-head): it then knows every acked seq is live. A
// group fan-out's members ack thousands of copies a second; with the
// iterator each ack cost more than the synced enqueue of the copy.
//
// EnqueueAll (store.BatchQueue, a group fan-out's chunk of members) locks
// the shards of all its keys in shard order (no deadlock between two
// calls), assigns every key's seqs and applies one batch, then waits for
// one WAL sync after unlocking.
//
// # Group commit
//
// Durable writes (Enqueue, accounts, roster, DeleteAccount) are applied
// inside their lock with pebble.NoSync, then, after unlocking, made durable
// by an empty synced WAL record (DB.LogData(nil, pebble.Sync)). The WAL is
// written in commit order and a sync covers everything before it (a WAL
// rotation syncs the old file first), so the record makes the batch durable;
// Pebble's commit pipeline gives concurrent synced records one fsync. Writes
// that need no sync (acks, last seen) are NoSync batches; a later durable
// write by the same caller syncs them too.
//
// TestCompareSyncModes (PARLEY_SYNCMODE_COMPARE=1) compares, in interleaved
// rounds, this LogData mode, DB.ApplyNoSyncWait inside the lock with
// Batch.SyncWait outside it, and a plain Sync commit inside the lock. With
// 64 writers on distinct keys all three match raw synced Pebble sets (the
// disk here is noisy: medians 30k-57k/s in one run, 60k-100k/s in others;
// CPU ~11-13 us per op for all). With 64 writers on one key, a Sync commit
// inside the lock falls to one fsync per write (~1.5k/s) while the other two
// keep group commit (~40-50k/s). LogData and ApplyNoSyncWait are equal
// within noise; LogData is chosen because ApplyNoSyncWait is marked
// experimental, "do not yet use outside CockroachDB". A consequence of both:
// a stanza is visible to readers slightly before it is durable; a reader may
// deliver it before the sender's "sent" tick, and in a crash in that window
// the sender (no tick) resends, which recipients dedupe by stanza-id.
//
// # Concurrency
//
// Store is safe for concurrent use. Every method holds its store.Gate
// for its whole duration (including the wait for the sync), so Close waits
// for operations in flight and every later call returns store.ErrClosed.
// EnqueueStart is the exception: it leaves the gate when its stanzas are
// visible and its wait enters it again (the router runs hooks that use
// the store in between; a read lock held across them deadlocked against
// a waiting Close). Writers of one queue, one roster owner or one
// account JID serialize on that key's shard mutex (never held during an
// fsync); DeleteAccount holds all shard mutexes while it applies its batch.
// Readers of accounts, rosters and last seen take no lock. Values returned
// are copies owned by the caller.
package pebble
