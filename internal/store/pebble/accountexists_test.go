package pebble

import (
	"context"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// TestAccountExists checks the remembered answer: true once an account
// is found, and false again at once after DeleteAccount (and after the
// account is created anew, true).
func TestAccountExists(t *testing.T) {
	s := openT(t, "", syncLogData)
	ctx := context.Background()
	const jid = "romeo@example.org"
	exists := func(want bool) {
		t.Helper()
		for range 2 { // the first answer reads the disk, the second the shard's memory
			if got, err := s.AccountExists(ctx, jid); err != nil || got != want {
				t.Fatalf("AccountExists(%s) = %v, %v; want %v", jid, got, err, want)
			}
		}
	}
	exists(false)
	if err := s.CreateAccount(ctx, store.Account{JID: jid}); err != nil {
		t.Fatal(err)
	}
	exists(true)
	if err := s.DeleteAccount(ctx, jid); err != nil {
		t.Fatal(err)
	}
	exists(false)
	if err := s.CreateAccount(ctx, store.Account{JID: jid}); err != nil {
		t.Fatal(err)
	}
	exists(true)
}
