package admin

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/store/pebble"
)

// TestStoreAccounts runs the operations through the socket on a real
// (in-memory) Pebble store.
func TestStoreAccounts(t *testing.T) {
	st, err := pebble.Open("mem", pebble.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := start(t, StoreAccounts(st, 0))
	c := dial(t, f.path)
	ctx := context.Background()

	// Addresses are normalized.
	if err := c.CreateUser(ctx, "Alice@LocalHost", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	a, err := st.GetAccount(ctx, "alice@localhost")
	if err != nil {
		t.Fatalf("account not stored under its normalized JID: %v", err)
	}
	if len(a.SHA256.StoredKey) == 0 || len(a.SHA1.StoredKey) == 0 || a.SHA256.Iterations != 4096 {
		t.Errorf("SCRAM keys not derived: %+v", a)
	}

	err = c.CreateUser(ctx, "alice@localhost", "other")
	if !errors.Is(err, ErrUserExists) || err.Error() != "user alice@localhost already exists" {
		t.Errorf("duplicate: %v", err)
	}
	for _, bad := range []string{"localhost", "alice@localhost/phone", "@localhost", "a b@localhost", ""} {
		err := c.CreateUser(ctx, bad, "pw")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "invalid JID") {
			t.Errorf("CreateUser(%q): %v", bad, err)
		}
	}
	if err := c.CreateUser(ctx, "bob@localhost", ""); !errors.Is(err, ErrInvalid) || err.Error() != "empty password refused" {
		t.Errorf("empty password: %v", err)
	}
	if err := c.CreateUser(ctx, "bob@localhost", "bad\x00pw"); !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "bad") {
		t.Errorf("invalid password: %v", err)
	}
	if err := c.CreateUser(ctx, "bob@example.org", "pw-bob"); err != nil {
		t.Fatal(err)
	}

	if err := c.SetPassword(ctx, "alice@localhost", "new-pw"); err != nil {
		t.Fatal(err)
	}
	b, _ := st.GetAccount(ctx, "alice@localhost")
	if bytes.Equal(a.SHA256.StoredKey, b.SHA256.StoredKey) {
		t.Error("password change did not change the keys")
	}
	if err := c.SetPassword(ctx, "zed@localhost", "pw"); !errors.Is(err, ErrNoSuchUser) || err.Error() != "no such user zed@localhost" {
		t.Errorf("passwd missing: %v", err)
	}
	if err := c.SetPassword(ctx, "alice@localhost", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("passwd empty: %v", err)
	}

	users, err := c.ListUsers(ctx, "LOCALHOST")
	if err != nil || !slices.Equal(users, []string{"alice@localhost"}) {
		t.Errorf("list: %v %v", users, err)
	}
	users, err = c.ListUsers(ctx, "")
	if err != nil || !slices.Equal(users, []string{"alice@localhost", "bob@example.org"}) {
		t.Errorf("list all: %v %v", users, err)
	}
	if _, err := c.ListUsers(ctx, "a b"); !errors.Is(err, ErrInvalid) {
		t.Errorf("list bad domain: %v", err)
	}

	if err := c.DeleteUser(ctx, "ALICE@localhost"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, "alice@localhost"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("delete twice: %v", err)
	}
	if strings.Contains(f.log.String(), "pw-alice") || strings.Contains(f.log.String(), "new-pw") {
		t.Error("a password reached the log")
	}
}
