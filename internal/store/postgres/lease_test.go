package postgres

import (
	"context"
	"testing"
	"time"
)

// TestLeaseFreedWhenItsHolderDies: two stores on one schema (two nodes of
// a cluster) share leases; when the holder's connection ends (its process
// died: here the server terminates that backend), Held reports the loss
// and the other store can take the lease.
func TestLeaseFreedWhenItsHolderDies(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t, testDSN(t))
	a, b := openT(t, dsn, Options{}), openT(t, dsn, Options{})
	held, ok, err := a.TryLease(ctx, "fan-out")
	if err != nil || !ok {
		t.Fatalf("a.TryLease = %v, %v", ok, err)
	}
	if _, ok, err := b.TryLease(ctx, "fan-out"); err != nil || ok {
		t.Fatalf("b.TryLease while a holds it = %v, %v; want refused", ok, err)
	}
	var killed bool
	err = b.pool.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid
		AND objid = (hashtext(current_schema() || '/fan-out')::bigint & 4294967295)::oid`, leaseLockClass).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("terminating the holder's backend: %v, %v", killed, err)
	}
	if held.Held(ctx) {
		t.Fatal("a lease whose connection was terminated is still held")
	}
	// pg_terminate_backend only signals the backend: its advisory locks go
	// when it has exited, which a loaded machine can delay.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, ok, err := b.TryLease(ctx, "fan-out")
		if err != nil || (!ok && time.Now().After(deadline)) {
			t.Fatalf("b.TryLease after the holder died = %v, %v", ok, err)
		}
		if ok {
			l.Release()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
