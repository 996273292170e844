package storetest

import (
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// privacyOf returns s as a store.Privacy, or skips: the contract is not
// yet part of store.Store, so a backend may not have it.
func privacyOf(t *testing.T, s store.Store) store.Privacy {
	t.Helper()
	p, ok := s.(store.Privacy)
	if !ok {
		t.Skip("backend does not implement store.Privacy")
	}
	return p
}

func checkPrivacy(t *testing.T, p store.Privacy, user string, want store.PrivacySettings) {
	t.Helper()
	got, err := p.GetPrivacy(ctx(), user)
	must(t, "GetPrivacy "+user, err)
	if got != want {
		t.Fatalf("GetPrivacy(%q) = %+v, want %+v", user, got, want)
	}
}

func runPrivacy(t *testing.T, f Factory) {
	const alice, bob = "alice@example.org", "bob@example.org"
	all := []store.PrivacySettings{
		{},
		{LastSeen: store.AudienceContacts, OnlineAsLastSeen: true},
		{LastSeen: store.AudienceNobody, ReadReceiptsOff: true, Photo: store.AudienceContacts},
		{LastSeen: store.AudienceNobody, OnlineAsLastSeen: true, ReadReceiptsOff: true, Photo: store.AudienceNobody},
	}
	subtests(t, f, []namedTest{
		{"DefaultIsZero", func(t *testing.T, s store.Store) {
			checkPrivacy(t, privacyOf(t, s), alice, store.PrivacySettings{})
		}},
		{"PutGetReplace", func(t *testing.T, s store.Store) {
			p := privacyOf(t, s)
			for _, want := range all {
				must(t, "PutPrivacy", p.PutPrivacy(ctx(), alice, want))
				checkPrivacy(t, p, alice, want)
			}
		}},
		{"PerUser", func(t *testing.T, s store.Store) {
			p := privacyOf(t, s)
			must(t, "PutPrivacy alice", p.PutPrivacy(ctx(), alice, all[2]))
			must(t, "PutPrivacy a@x", p.PutPrivacy(ctx(), "a@x", all[1]))
			checkPrivacy(t, p, bob, store.PrivacySettings{})
			checkPrivacy(t, p, "a@xy", store.PrivacySettings{})
			checkPrivacy(t, p, alice, all[2])
			checkPrivacy(t, p, "a@x", all[1])
		}},
		{"DeleteAccount", func(t *testing.T, s store.Store) {
			p := privacyOf(t, s)
			must(t, "CreateAccount", s.CreateAccount(ctx(), account(alice, 1)))
			must(t, "PutPrivacy", p.PutPrivacy(ctx(), alice, all[3]))
			must(t, "PutPrivacy bob", p.PutPrivacy(ctx(), bob, all[1]))
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), alice))
			checkPrivacy(t, p, alice, store.PrivacySettings{})
			checkPrivacy(t, p, bob, all[1])
		}},
		{"Closed", func(t *testing.T, s store.Store) {
			p := privacyOf(t, s)
			must(t, "Close", s.Close())
			if _, err := p.GetPrivacy(ctx(), alice); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("GetPrivacy after Close: %v, want ErrClosed", err)
			}
			if err := p.PutPrivacy(ctx(), alice, all[1]); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("PutPrivacy after Close: %v, want ErrClosed", err)
			}
		}},
	})
	t.Run("Reopen", func(t *testing.T) {
		if f.Reopen == nil {
			t.Skip("backend does not support Reopen")
		}
		s := f.Open(t)
		must(t, "PutPrivacy", privacyOf(t, s).PutPrivacy(ctx(), alice, all[3]))
		s = f.Reopen(t, s)
		defer s.Close()
		checkPrivacy(t, privacyOf(t, s), alice, all[3])
	})
}
