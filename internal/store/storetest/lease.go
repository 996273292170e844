package storetest

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func runLeases(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"OneHolder", testLeaseOneHolder},
		{"ConcurrentTriesOneWins", testLeaseConcurrentTries},
	})
}

// testLeaseOneHolder: a held lease is refused to the next taker until it
// is released; leases of other names are independent.
func testLeaseOneHolder(t *testing.T, s store.Store) {
	l, ok, err := s.TryLease(ctx(), "fan-out")
	if err != nil || !ok {
		t.Fatalf("TryLease on a free lease = %v, %v", ok, err)
	}
	if !l.Held(ctx()) {
		t.Fatal("a lease just taken is not held")
	}
	if _, ok, err := s.TryLease(ctx(), "fan-out"); err != nil || ok {
		t.Fatalf("TryLease on a held lease = %v, %v; want refused", ok, err)
	}
	other, ok, err := s.TryLease(ctx(), "other")
	if err != nil || !ok {
		t.Fatalf("TryLease of another name = %v, %v", ok, err)
	}
	defer other.Release()
	l.Release()
	if l.Held(ctx()) {
		t.Fatal("a released lease is still held")
	}
	again, ok, err := s.TryLease(ctx(), "fan-out")
	if err != nil || !ok {
		t.Fatalf("TryLease after Release = %v, %v", ok, err)
	}
	again.Release()
	l.Release() // a second Release is harmless
}

// testLeaseConcurrentTries: of many concurrent takers exactly one gets it.
func testLeaseConcurrentTries(t *testing.T, s store.Store) {
	const takers = 8
	var won atomic.Int32
	var wg sync.WaitGroup
	held := make(chan store.Lease, takers)
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, ok, err := s.TryLease(ctx(), "fan-out")
			if err != nil {
				t.Errorf("TryLease: %v", err)
				return
			}
			if ok {
				won.Add(1)
				held <- l
			}
		}()
	}
	wg.Wait()
	close(held)
	for l := range held {
		l.Release()
	}
	if n := won.Load(); n != 1 {
		t.Fatalf("%d of %d concurrent takers got the lease, want 1", n, takers)
	}
}
