package server

// Issue 3 scenarios with real clients (see realclients_test.go for the
// harness): slixmpp registers accounts in band (XEP-0077); slixmpp and
// xmpp.js devices of one account get carbons (XEP-0280); a slixmpp user
// blocks an xmpp.js user (XEP-0191), both ways, then unblocks.
//
// Run: go test -run TestRealClientsMobile -v ./internal/server/

import (
	"strings"
	"testing"
)

func TestRealClientsMobile01SlixmppRegistrationRefusedWhenOffWorkingWhenOn(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, nil)
		obs := runScript(t, []string{"PASSWORD=pw-carol-1"}, "register.py", ts.addrs.C2S, "carol@localhost/reg")
		if f, _ := find(obs, isEvent("features")); f.raw["register"] != false {
			t.Errorf("register stream feature offered while registration is off: %v", f)
		}
		e, found := find(obs, isEvent("register_error"))
		if !found || e.Condition != "service-unavailable" {
			t.Fatalf("registration when off: %v, want register_error service-unavailable", obs)
		}
		if _, in := find(obs, isEvent("session_start")); in {
			t.Fatal("logged in although registration is off")
		}
	})
	t.Run("on", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, withRegistration(10))
		ts.addUser(t, "alice", "pw-alice")
		obs := runScript(t, []string{"PASSWORD=pw-carol-1"}, "register.py", ts.addrs.C2S, "carol@localhost/reg",
			"--new-password", "pw-carol-2")
		if f, _ := find(obs, isEvent("features")); f.raw["register"] != true {
			t.Errorf("no register stream feature while registration is on: %v", obs)
		}
		if f, _ := find(obs, isEvent("form")); !strings.Contains(f.line, `"username"`) || !strings.Contains(f.line, `"password"`) {
			t.Errorf("registration form: %v, want username and password fields", f)
		}
		for _, ev := range []string{"registered", "session_start", "password_changed"} {
			if _, found := find(obs, isEvent(ev)); !found {
				t.Fatalf("no %s: %v", ev, obs)
			}
		}
		// the new password works (slixmpp logs in with it), the old one not.
		ok := runScript(t, []string{"PASSWORD=pw-carol-2"}, "login.py", ts.addrs.C2S, "carol@localhost/again")
		if _, found := find(ok, isEvent("session_start")); !found {
			t.Fatalf("login with the changed password: %v", ok)
		}
		bad := runScript(t, []string{"PASSWORD=pw-carol-1"}, "login.py", ts.addrs.C2S, "carol@localhost/old", "--mech", "PLAIN")
		if _, found := find(bad, isEvent("session_start")); found {
			t.Fatal("the old password still works")
		}

		for _, tc := range []struct{ name, jid, username, want string }{
			{"duplicate", "alice@localhost/reg", "", "conflict"},
			{"bad username", "dave@localhost/reg", "bad user", "not-acceptable"},
		} {
			args := []string{ts.addrs.C2S, tc.jid}
			if tc.username != "" {
				args = append(args, "--username", tc.username)
			}
			obs := runScript(t, []string{"PASSWORD=pw-other-1"}, "register.py", args...)
			e, found := find(obs, isEvent("register_error"))
			if !found || e.Condition != tc.want {
				t.Errorf("%s: %v, want register_error %s", tc.name, obs, tc.want)
			}
		}
	})
}
