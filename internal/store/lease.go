package store

import "context"

// Leases hand out named leases that at most one process sharing the store
// holds at a time. Work that only one node of a cluster may do (the
// groups' fan-out over the shared outbox: two workers would give members
// two copies) runs while holding one. Unlike a view of the cluster's
// membership, which nodes learn one heartbeat at a time and may see
// differently for a while, a lease is decided by the store itself.
type Leases interface {
	// TryLease takes the named lease unless it is held (by another
	// process, or already by this one): then ok is false. The lease lasts
	// until Release, or until the holding process dies or loses its
	// connection to the store.
	TryLease(ctx context.Context, name string) (l Lease, ok bool, err error)
}

// Lease is a lease taken with TryLease.
type Lease interface {
	// Held reports whether the lease is still held. Once it reports
	// false the lease is lost for good (another process may hold it):
	// stop the work and take a new lease to resume it.
	Held(ctx context.Context) bool
	// Release gives the lease up; Held reports false from then on.
	Release()
}
