package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// fillUser stores an account, roster, queues, last activity and a block
// list for jid.
func fillUser(t *testing.T, s store.Store, jid string, seed byte) {
	t.Helper()
	must(t, "CreateAccount "+jid, s.CreateAccount(ctx(), account(jid, seed)))
	_, err := s.PutRosterItem(ctx(), jid, store.RosterItem{JID: "friend@example.org", Name: jid, Subscription: store.SubBoth})
	must(t, "PutRosterItem", err)
	for _, key := range []string{jid, jid + "#phone", jid + "#web"} {
		enqueue(t, s, key, payload(key, 0), payload(key, 1))
	}
	must(t, "PutLastSeen", s.PutLastSeen(ctx(), map[string]store.LastSeen{jid: {At: ts(int(seed)), Status: jid}}))
	must(t, "AddToBlocklist", s.AddToBlocklist(ctx(), jid, []string{"enemy@example.org", jid + "/self"}))
}

// checkUser checks what fillUser stored, or that nothing is left.
func checkUser(t *testing.T, s store.Store, jid string, seed byte, present bool) {
	t.Helper()
	if !present {
		_, err := s.GetAccount(ctx(), jid)
		wantErr(t, "GetAccount "+jid, err, store.ErrNotFound)
		checkRoster(t, s, jid)
		_, err = s.GetRosterItem(ctx(), jid, "friend@example.org")
		wantErr(t, "GetRosterItem", err, store.ErrNotFound)
		for _, key := range []string{jid, jid + "#phone", jid + "#web"} {
			checkQueue(t, s, key, nil, nil)
		}
		_, err = s.GetLastSeen(ctx(), jid)
		wantErr(t, "GetLastSeen "+jid, err, store.ErrNotFound)
		checkBlocklist(t, s, jid)
		return
	}
	checkAccount(t, s, account(jid, seed))
	checkRoster(t, s, jid, store.RosterItem{JID: "friend@example.org", Name: jid, Subscription: store.SubBoth})
	for _, key := range []string{jid, jid + "#phone", jid + "#web"} {
		got := read(t, s, key, 0, readAllLimit)
		if len(got) != 2 || got[1].Seq != got[0].Seq+1 || string(got[1].Payload) != string(payload(key, 1)) {
			t.Fatalf("queue %q = %v, want 2 stanzas", key, seqsOf(got))
		}
	}
	checkLastSeen(t, s, jid, store.LastSeen{At: ts(int(seed)), Status: jid})
	checkBlocklist(t, s, jid, "enemy@example.org", jid+"/self")
}

func runDeleteAccount(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"RemovesUserData", func(t *testing.T, s store.Store) {
			users := []string{"a@x", "a@xy", "a@x.y", "b@x", "x", "aa@x"}
			for i, u := range users {
				fillUser(t, s, u, byte(i+1))
			}
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), "a@x"))
			checkUser(t, s, "a@x", 1, false)
			for i, u := range users[1:] {
				checkUser(t, s, u, byte(i+2), true)
			}
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), "x")) // a domain JID
			checkUser(t, s, "x", 5, false)
			checkUser(t, s, "aa@x", 6, true)
			// Stores work normally for a re-registered JID.
			fillUser(t, s, "a@x", 9)
			checkUser(t, s, "a@x", 9, true)
			checkUser(t, s, "a@xy", 2, true)
		}},
	})
}

// testClosed checks that every method returns ErrClosed after Close.
func testClosed(t *testing.T, f Factory) {
	s := f.Open(t)
	fillUser(t, s, "alice@example.org", 1)
	must(t, "Close", s.Close())
	const j = "alice@example.org"
	calls := map[string]func() error{
		"CreateAccount":     func() error { return s.CreateAccount(ctx(), account("bob@example.org", 2)) },
		"GetAccount":        func() error { _, err := s.GetAccount(ctx(), j); return err },
		"UpdateCredentials": func() error { return s.UpdateCredentials(ctx(), j, keys(1, 1), keys(2, 2)) },
		"DeleteAccount":     func() error { return s.DeleteAccount(ctx(), j) },
		"ListAccounts":      func() error { _, err := s.ListAccounts(ctx(), ""); return err },
		"GetRoster":         func() error { _, _, err := s.GetRoster(ctx(), j); return err },
		"GetRosterItem":     func() error { _, err := s.GetRosterItem(ctx(), j, "friend@example.org"); return err },
		"PutRosterItem":     func() error { _, err := s.PutRosterItem(ctx(), j, fullItem()); return err },
		"DeleteRosterItem":  func() error { _, err := s.DeleteRosterItem(ctx(), j, "friend@example.org"); return err },
		"Enqueue":           func() error { _, err := s.Enqueue(ctx(), j, []byte("x")); return err },
		"ReadQueue":         func() error { _, err := s.ReadQueue(ctx(), j, 0, 10); return err },
		"AckQueue":          func() error { return s.AckQueue(ctx(), j, 1) },
		"QueueLen":          func() error { _, err := s.QueueLen(ctx(), j); return err },
		"PutLastSeen":       func() error { return s.PutLastSeen(ctx(), map[string]store.LastSeen{j: {At: ts(1)}}) },
		"GetLastSeen":       func() error { _, err := s.GetLastSeen(ctx(), j); return err },
		"GetBlocklist":      func() error { _, err := s.GetBlocklist(ctx(), j); return err },
		"AddToBlocklist":    func() error { return s.AddToBlocklist(ctx(), j, []string{"x@y"}) },
		"RemoveFromBlocklist": func() error {
			return s.RemoveFromBlocklist(ctx(), j, []string{"enemy@example.org"})
		},
		"ClearBlocklist": func() error { return s.ClearBlocklist(ctx(), j) },
		"AddPushRegistration": func() error {
			return s.AddPushRegistration(ctx(), j, store.PushRegistration{Service: "p.x", Node: "n"})
		},
		"RemovePushRegistrations": func() error { _, err := s.RemovePushRegistrations(ctx(), j, "p.x", ""); return err },
		"PushRegistrations":       func() error { _, err := s.PushRegistrations(ctx(), j); return err },
		"AddDevice":               func() error { return s.AddDevice(ctx(), j, device("d", 1), 4) },
		"GetDevice":               func() error { _, err := s.GetDevice(ctx(), j, "d"); return err },
		"ListDevices":             func() error { _, err := s.ListDevices(ctx(), j); return err },
		"TouchDevice":             func() error { return s.TouchDevice(ctx(), j, "d", ts(1)) },
		"RevokeDevice":            func() error { return s.RevokeDevice(ctx(), j, "d") },
	}
	for name, call := range calls {
		if err := safeCall(call); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
	if err := safeCall(s.Close); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close: %v, want nil or ErrClosed", err)
	}
}

// safeCall turns a panic into an error, so one bad method fails its own check.
func safeCall(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// testReopen checks that data survives Close and reopening, and that
// queue sequence numbers continue where they were, even for drained queues.
func testReopen(t *testing.T, f Factory) {
	s := f.Open(t)
	fillUser(t, s, "alice@example.org", 1)
	fillUser(t, s, "bob@example.org", 2)
	ver := checkRoster(t, s, "alice@example.org", store.RosterItem{JID: "friend@example.org", Name: "alice@example.org", Subscription: store.SubBoth})
	const q, drained = "carol@example.org#dev", "dave@example.org"
	b := enqueue(t, s, q, payload(q, 0), payload(q, 1), payload(q, 2), payload(q, 3), payload(q, 4))
	ack(t, s, q, b, b+1, b+3)
	d := enqueue(t, s, drained, payload(drained, 0), payload(drained, 1))
	ack(t, s, drained, d, d+1)

	s = f.Reopen(t, s)
	checkUser(t, s, "alice@example.org", 1, true)
	checkUser(t, s, "bob@example.org", 2, true)
	checkQueue(t, s, q, []uint64{b + 2, b + 4}, func(seq uint64) []byte { return payload(q, int(seq-b)) })
	checkQueue(t, s, drained, nil, nil)
	if got := enqueue(t, s, q, payload(q, 5)); got != b+5 {
		t.Fatalf("Enqueue after reopen = %d, want %d", got, b+5)
	}
	if got := enqueue(t, s, drained, payload(drained, 2)); got != d+2 {
		t.Fatalf("Enqueue to a drained queue after reopen = %d, want %d (seqs are never reused)", got, d+2)
	}
	v, err := s.PutRosterItem(ctx(), "alice@example.org", fullItem())
	must(t, "PutRosterItem", err)
	if v <= ver {
		t.Fatalf("roster version after reopen = %d, want > %d", v, ver)
	}
	must(t, "DeleteAccount", s.DeleteAccount(ctx(), "bob@example.org"))
	ack(t, s, q, b+2)

	s = f.Reopen(t, s)
	checkUser(t, s, "bob@example.org", 2, false)
	checkAccount(t, s, account("alice@example.org", 1))
	if got := checkRoster(t, s, "alice@example.org", fullItem(),
		store.RosterItem{JID: "friend@example.org", Name: "alice@example.org", Subscription: store.SubBoth}); got != v {
		t.Fatalf("roster version after reopen = %d, want %d", got, v)
	}
	checkQueue(t, s, q, []uint64{b + 4, b + 5}, func(seq uint64) []byte { return payload(q, int(seq-b)) })
	must(t, "Close", s.Close())
}
