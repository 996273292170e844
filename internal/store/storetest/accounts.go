package storetest

import (
	"slices"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// keys returns distinct SCRAM keys derived from seed.
func keys(seed byte, iter int) store.SCRAMKeys {
	return store.SCRAMKeys{
		Salt:       []byte{seed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		Iterations: iter,
		StoredKey:  []byte{seed, 0xAA, 0xBB, 0xCC, 0x00, 0xFF, seed + 1},
		ServerKey:  []byte{seed, 0x11, 0x22, 0x33, 0x00, 0xEE, seed + 2},
	}
}

func account(jid string, seed byte) store.Account {
	return store.Account{JID: jid, SHA1: keys(seed, 4096), SHA256: keys(seed+100, 8192), Created: ts(int(seed))}
}

func sameKeys(a, b store.SCRAMKeys) bool {
	return sameBytes(a.Salt, b.Salt) && a.Iterations == b.Iterations &&
		sameBytes(a.StoredKey, b.StoredKey) && sameBytes(a.ServerKey, b.ServerKey)
}

func checkAccount(t *testing.T, s store.Store, want store.Account) {
	t.Helper()
	got, err := s.GetAccount(ctx(), want.JID)
	must(t, "GetAccount "+want.JID, err)
	if got.JID != want.JID || !sameKeys(got.SHA1, want.SHA1) || !sameKeys(got.SHA256, want.SHA256) ||
		!got.Created.Equal(want.Created) {
		t.Fatalf("GetAccount(%q) = %+v, want %+v", want.JID, got, want)
	}
}

func runAccounts(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"CreateGet", func(t *testing.T, s store.Store) {
			a := account("alice@example.org", 1)
			must(t, "CreateAccount", s.CreateAccount(ctx(), a))
			checkAccount(t, s, a)
			// The store keeps its own copy of the caller's slices.
			a.SHA1.Salt[0] = 99
			checkAccount(t, s, account("alice@example.org", 1))
		}},
		{"CreateExisting", func(t *testing.T, s store.Store) {
			a := account("alice@example.org", 1)
			must(t, "CreateAccount", s.CreateAccount(ctx(), a))
			wantErr(t, "CreateAccount twice", s.CreateAccount(ctx(), account("alice@example.org", 2)), store.ErrExists)
			checkAccount(t, s, a) // the first one is untouched
		}},
		{"GetMissing", func(t *testing.T, s store.Store) {
			must(t, "CreateAccount", s.CreateAccount(ctx(), account("alice@example.org", 1)))
			for _, j := range []string{"bob@example.org", "alice@example.or", "alice@example.orgx", "alice"} {
				_, err := s.GetAccount(ctx(), j)
				wantErr(t, "GetAccount "+j, err, store.ErrNotFound)
			}
		}},
		{"OddValues", func(t *testing.T, s store.Store) {
			a := store.Account{JID: "zero@example.org"} // zero time, nil keys
			must(t, "CreateAccount", s.CreateAccount(ctx(), a))
			checkAccount(t, s, a)
			b := account("old@example.org", 2)
			b.Created = b.Created.AddDate(-60, 0, 0)
			b.SHA1.Iterations = 1<<31 - 1
			must(t, "CreateAccount", s.CreateAccount(ctx(), b))
			checkAccount(t, s, b)
		}},
		{"UpdateCredentials", func(t *testing.T, s store.Store) {
			a := account("alice@example.org", 1)
			must(t, "CreateAccount", s.CreateAccount(ctx(), a))
			must(t, "CreateAccount bob", s.CreateAccount(ctx(), account("bob@example.org", 3)))
			a.SHA1, a.SHA256 = keys(50, 10000), keys(60, 20000)
			must(t, "UpdateCredentials", s.UpdateCredentials(ctx(), a.JID, a.SHA1, a.SHA256))
			checkAccount(t, s, a) // Created is kept
			checkAccount(t, s, account("bob@example.org", 3))
			wantErr(t, "UpdateCredentials missing",
				s.UpdateCredentials(ctx(), "carol@example.org", a.SHA1, a.SHA256), store.ErrNotFound)
		}},
		{"DeleteMissing", func(t *testing.T, s store.Store) {
			wantErr(t, "DeleteAccount", s.DeleteAccount(ctx(), "nobody@example.org"), store.ErrNotFound)
			must(t, "CreateAccount", s.CreateAccount(ctx(), account("alice@example.org", 1)))
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), "alice@example.org"))
			wantErr(t, "DeleteAccount twice", s.DeleteAccount(ctx(), "alice@example.org"), store.ErrNotFound)
			_, err := s.GetAccount(ctx(), "alice@example.org")
			wantErr(t, "GetAccount after delete", err, store.ErrNotFound)
			// The JID can be registered again.
			must(t, "CreateAccount again", s.CreateAccount(ctx(), account("alice@example.org", 7)))
			checkAccount(t, s, account("alice@example.org", 7))
		}},
		{"List", testListAccounts},
	})
}

func testListAccounts(t *testing.T, s store.Store) {
	list := func(domain string) []string {
		t.Helper()
		got, err := s.ListAccounts(ctx(), domain)
		must(t, "ListAccounts "+domain, err)
		return got
	}
	if got := list(""); len(got) != 0 {
		t.Fatalf("ListAccounts on empty store = %q", got)
	}
	jids := []string{
		"zed@example.org", "alice@example.org", "bob@example.org", "alice@example.net",
		"alice@example.orgx", "carol@sub.example.org", "example.org", "a@x", "a@xy", "b@x",
	}
	for i, j := range jids {
		must(t, "CreateAccount "+j, s.CreateAccount(ctx(), account(j, byte(i))))
	}
	all := slices.Clone(jids)
	slices.Sort(all)
	cases := map[string][]string{
		"":                {},
		"example.org":     {"alice@example.org", "bob@example.org", "example.org", "zed@example.org"},
		"example.net":     {"alice@example.net"},
		"sub.example.org": {"carol@sub.example.org"},
		"x":               {"a@x", "b@x"},
		"xy":              {"a@xy"},
		"nowhere.test":    {},
		"example":         {},
	}
	cases[""] = all
	for domain, want := range cases {
		if got := list(domain); !sameStrings(got, want) {
			t.Errorf("ListAccounts(%q) = %q, want %q", domain, got, want)
		}
	}
	must(t, "DeleteAccount", s.DeleteAccount(ctx(), "bob@example.org"))
	if got, want := list("example.org"), []string{"alice@example.org", "example.org", "zed@example.org"}; !sameStrings(got, want) {
		t.Errorf("ListAccounts after delete = %q, want %q", got, want)
	}
}
