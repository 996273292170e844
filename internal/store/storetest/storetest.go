package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// Factory opens stores for the suite.
type Factory struct {
	// Open returns a new, empty store. The suite closes it (Close may then
	// be called a second time by a cleanup the factory registers; backends
	// must tolerate that without panicking).
	Open func(t *testing.T) store.Store
	// Reopen closes old and opens the same data again. Nil if the backend
	// cannot (an in-memory store): the persistence subtests are skipped.
	Reopen func(t *testing.T, old store.Store) store.Store
}

// Run runs every conformance test against the stores f opens. Each subtest
// gets a fresh store.
func Run(t *testing.T, f Factory) {
	if f.Open == nil {
		t.Fatal("storetest: Factory.Open is nil")
	}
	t.Run("Accounts", func(t *testing.T) { runAccounts(t, f) })
	t.Run("Roster", func(t *testing.T) { runRoster(t, f) })
	t.Run("Queue", func(t *testing.T) { runQueue(t, f) })
	t.Run("LastActivity", func(t *testing.T) { runLastActivity(t, f) })
	t.Run("Blocking", func(t *testing.T) { runBlocking(t, f) })
	t.Run("Privacy", func(t *testing.T) { runPrivacy(t, f) })
	t.Run("PEP", func(t *testing.T) { runPEP(t, f) })
	t.Run("Archive", func(t *testing.T) { runArchive(t, f) })
	t.Run("Push", func(t *testing.T) { runPush(t, f) })
	t.Run("Devices", func(t *testing.T) { runDevices(t, f) })
	t.Run("Groups", func(t *testing.T) { runGroups(t, f) })
	t.Run("GroupReceipts", func(t *testing.T) { runGroupReceipts(t, f) })
	t.Run("Resumptions", func(t *testing.T) { runResumptions(t, f) })
	t.Run("Leases", func(t *testing.T) { runLeases(t, f) })
	t.Run("DeleteAccount", func(t *testing.T) { runDeleteAccount(t, f) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, f) })
	t.Run("Reopen", func(t *testing.T) {
		if f.Reopen == nil {
			t.Skip("backend does not support Reopen")
		}
		testReopen(t, f)
	})
}

// subtests runs each named test on its own fresh store.
func subtests(t *testing.T, f Factory, tests []namedTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := f.Open(t)
			defer func() {
				if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
					t.Errorf("Close: %v", err)
				}
			}()
			tc.fn(t, s)
		})
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// ctx is the context every call of the suite uses.
func ctx() context.Context { return context.Background() }

// ts returns a fixed UTC time with microsecond precision, offset by i seconds.
func ts(i int) time.Time {
	return time.Date(2024, 5, 17, 10, 30, 0, 123456000, time.UTC).Add(time.Duration(i) * time.Second)
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want errors.Is(err, %v)", what, err, target)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// sameBytes compares byte slices treating nil and empty as equal.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }

// sameStrings compares string slices treating nil and empty as equal.
func sameStrings(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }
