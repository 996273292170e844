package storetest

import (
	"reflect"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func pushReg(service, node string, i int, opts ...store.PushField) store.PushRegistration {
	return store.PushRegistration{Service: service, Node: node, Created: ts(i), Options: opts}
}

// checkPush compares the user's registrations with want (in order).
func checkPush(t *testing.T, s store.Store, user string, want ...store.PushRegistration) {
	t.Helper()
	got, err := s.PushRegistrations(ctx(), user)
	must(t, "PushRegistrations "+user, err)
	if len(got) != len(want) {
		t.Fatalf("PushRegistrations(%s) = %+v, want %+v", user, got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Service != w.Service || g.Node != w.Node || !g.Created.Equal(w.Created) ||
			(len(g.Options) != 0 || len(w.Options) != 0) && !reflect.DeepEqual(g.Options, w.Options) {
			t.Fatalf("registration %d of %s = %+v, want %+v", i, user, g, w)
		}
	}
}

func removePush(t *testing.T, s store.Store, user, service, node string, want int) {
	t.Helper()
	n, err := s.RemovePushRegistrations(ctx(), user, service, node)
	must(t, "RemovePushRegistrations", err)
	if n != want {
		t.Fatalf("RemovePushRegistrations(%s, %s, %q) removed %d, want %d", user, service, node, n, want)
	}
}

func runPush(t *testing.T, f Factory) {
	const alice = "alice@example.org"
	secret := store.PushField{Var: "secret", Values: []string{"s3cr3t"}}
	formType := store.PushField{Var: "FORM_TYPE", Values: []string{"http://jabber.org/protocol/pubsub#publish-options"}}
	multi := store.PushField{Var: "list", Values: []string{"b", "a", ""}}
	subtests(t, f, []namedTest{
		{"Empty", func(t *testing.T, s store.Store) {
			checkPush(t, s, alice)
			removePush(t, s, alice, "push.example.org", "", 0)
			removePush(t, s, alice, "push.example.org", "n1", 0)
		}},
		{"AddReplaceRemove", func(t *testing.T, s store.Store) {
			a := pushReg("push.example.org", "n1", 1, formType, secret)
			b := pushReg("push.example.org", "n0", 2)
			c := pushReg("app.example.net", "ñode", 3, multi)
			for _, r := range []store.PushRegistration{a, b, c} {
				must(t, "AddPushRegistration", s.AddPushRegistration(ctx(), alice, r))
			}
			// Sorted by service, then node.
			checkPush(t, s, alice, c, b, a)
			// The same service and node replace the registration.
			a2 := pushReg("push.example.org", "n1", 4, secret)
			must(t, "AddPushRegistration again", s.AddPushRegistration(ctx(), alice, a2))
			checkPush(t, s, alice, c, b, a2)
			removePush(t, s, alice, "push.example.org", "n1", 1)
			checkPush(t, s, alice, c, b)
			removePush(t, s, alice, "push.example.org", "n1", 0)
			must(t, "AddPushRegistration", s.AddPushRegistration(ctx(), alice, a))
			// An empty node removes every registration of the service.
			removePush(t, s, alice, "push.example.org", "", 2)
			checkPush(t, s, alice, c)
		}},
		{"PerUserAndService", func(t *testing.T, s store.Store) {
			// JIDs sharing prefixes keep separate registrations.
			users := []string{"a@x", "a@xy", "a@x.y", "aa@x", "x"}
			for i, u := range users {
				must(t, "AddPushRegistration "+u, s.AddPushRegistration(ctx(), u, pushReg("p.x", u, i)))
			}
			must(t, "AddPushRegistration", s.AddPushRegistration(ctx(), "a@x", pushReg("p.xy", "n", 9)))
			removePush(t, s, "a@x", "p.x", "", 1)
			checkPush(t, s, "a@x", pushReg("p.xy", "n", 9))
			for i, u := range users[1:] {
				checkPush(t, s, u, pushReg("p.x", u, i+1))
			}
		}},
		{"DeleteAccountAndReopen", func(t *testing.T, s store.Store) {
			fillUser(t, s, alice, 1)
			fillUser(t, s, "bob@example.org", 2)
			r := pushReg("push.example.org", "n1", 1, formType, secret)
			for _, u := range []string{alice, "bob@example.org"} {
				must(t, "AddPushRegistration", s.AddPushRegistration(ctx(), u, r))
			}
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), alice))
			checkPush(t, s, alice)
			if f.Reopen != nil {
				s = f.Reopen(t, s)
				defer func() { _ = s.Close() }()
			}
			checkPush(t, s, "bob@example.org", r)
		}},
	})
}
