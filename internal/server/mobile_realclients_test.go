package server

// Issue 3 scenarios with real clients (see realclients_test.go for the
// harness): slixmpp registers accounts in band (XEP-0077); slixmpp and
// xmpp.js devices of one account get carbons (XEP-0280); a slixmpp user
// blocks an xmpp.js user (XEP-0191), both ways, then unblocks.
//
// Run: go test -run TestRealClientsMobile -v ./internal/server/

import (
	"slices"
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

// isCarbonObs matches a carbon of kind (received/sent) carrying body.
func isCarbonObs(kind, body string) func(observation) bool {
	return func(o observation) bool {
		return o.Event == "stanza" && o.Kind == "message" && o.has(nsCarbons, kind) && strings.Contains(o.XML, body)
	}
}

func anyCarbonObs(o observation) bool {
	return o.Event == "stanza" && o.Kind == "message" && (o.has(nsCarbons, "received") || o.has(nsCarbons, "sent"))
}

// sync round-trips a ping through an agent (everything sent to it before
// the answer has been observed).
func (a *agent) sync(id string) {
	a.t.Helper()
	a.do(map[string]any{"cmd": "iq", "xml": "<iq type='get' to='localhost' id='" + id + "'><ping xmlns='urn:xmpp:ping'/></iq>"})
	a.expect("ping answer "+id, func(o observation) bool { return o.Event == "iq_result" && o.ID == id })
}

// TestRealClientsMobile02CarbonsBetweenSlixmppAndXmppjs: alice is on her
// phone (slixmpp) and on the web (xmpp.js over WebSocket), both with
// carbons; bob (Go client) writes to the phone, the web gets a received
// copy; alice writes from the web, the phone gets a sent copy; private
// messages are not copied.
func TestRealClientsMobile02CarbonsBetweenSlixmppAndXmppjs(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	phone := slixAgent(t, ts, "alice", "phone")
	web := jsAgent(t, ts, "alice", "web", "ws")
	bob := ts.login(t, "bob", "desk")
	bob.SendRaw("<presence/>")
	for _, a := range []*agent{phone, web} {
		a.send("<presence/>")
		a.do(map[string]any{"cmd": "iq", "xml": "<iq type='set' id='carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq>"})
		if r := a.expect("carbons enabled", isAnyEvent("iq_result", "iq_error")); r.Event != "iq_result" {
			t.Fatalf("%s: enabling carbons: %v", a.name, r)
		}
	}

	bob.SendRaw("<message to='alice@localhost/phone' type='chat' id='b1'><body>to your phone</body></message>")
	phone.expect("bob's message", msgWithBody("to your phone"))
	c := web.expect("received carbon on the web", isCarbonObs("received", "to your phone"))
	if c.From != "alice@localhost" || c.To != "alice@localhost/web" || !strings.Contains(c.XML, "bob@localhost/desk") {
		t.Errorf("received carbon: %v", c)
	}

	web.send("<message to='bob@localhost' type='chat' id='w1'><body>from the web</body></message>")
	bob.Expect("alice's message", isBody("from the web"))
	c = phone.expect("sent carbon on the phone", isCarbonObs("sent", "from the web"))
	if c.From != "alice@localhost" || !strings.Contains(c.XML, "alice@localhost/web") {
		t.Errorf("sent carbon: %v", c)
	}

	phone.send("<message to='bob@localhost' type='chat' id='p1'><body>private 1</body><private xmlns='urn:xmpp:carbons:2'/></message>")
	bob.SendRaw("<message to='alice@localhost/phone' type='chat'><body>private 2</body><private xmlns='urn:xmpp:carbons:2'/></message>")
	bob.Expect("alice's private message", isBody("private 1"))
	phone.expect("bob's private message", msgWithBody("private 2"))
	web.sync("after-private")
	phone.sync("after-private")
	if n := web.countMatching(anyCarbonObs, true); n != 0 {
		t.Errorf("the web got %d carbons of private messages: %v", n, web.all(anyCarbonObs))
	}
	if n := phone.countMatching(anyCarbonObs, true); n != 0 {
		t.Errorf("the phone got %d unexpected carbons: %v", n, phone.all(anyCarbonObs))
	}
}

func isBody(body string) func(*stanzaElement) bool {
	return func(el *stanzaElement) bool { return el.Name == "message" && el.Body() == body }
}

// TestRealClientsMobile03BlockingBothWaysThenUnblocking: alice (slixmpp)
// blocks bob (xmpp.js): his messages are refused and hers to him too (with
// <blocked/>), presence stops both ways; unblocking restores everything.
func TestRealClientsMobile03BlockingBothWaysThenUnblocking(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	ts.befriend(t, "alice", "bob")
	alice := slixAgent(t, ts, "alice", "phone")
	bob := jsAgent(t, ts, "bob", "laptop", "tcp")
	alice.send("<presence/>")
	bob.send("<presence/>")
	alice.expect("bob's presence", presenceFrom("bob@localhost/laptop", ""))
	bob.expect("alice's presence", presenceFrom("alice@localhost/phone", ""))

	alice.do(map[string]any{"cmd": "iq", "xml": "<iq type='set' id='blk'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>"})
	if r := alice.expect("block answer", isAnyEvent("iq_result", "iq_error")); r.Event != "iq_result" {
		t.Fatalf("block: %v", r)
	}
	alice.expect("block push", func(o observation) bool {
		return isStanza("iq")(o) && o.Type == "set" && o.has(nsBlocking, "block") && strings.Contains(o.XML, "bob@localhost")
	})
	bob.expect("alice's unavailable on block", presenceFrom("alice@localhost/phone", "unavailable"))

	bob.send("<message to='alice@localhost' type='chat' id='b1'><body>hello?</body></message>")
	e := bob.expect("error for his message", func(o observation) bool { return isStanza("message")(o) && o.Type == "error" })
	if !strings.Contains(e.XML, "service-unavailable") {
		t.Errorf("bob's message to alice answered %v, want service-unavailable", e)
	}
	alice.send("<message to='bob@localhost' type='chat' id='a1'><body>hi bob</body></message>")
	e = alice.expect("error for her message", func(o observation) bool { return isStanza("message")(o) && o.Type == "error" })
	if !strings.Contains(e.XML, "not-acceptable") || !strings.Contains(e.XML, "urn:xmpp:blocking:errors") {
		t.Errorf("alice's message to bob answered %v, want not-acceptable with <blocked/>", e)
	}
	bob.send("<presence><status>bob is busy</status></presence>")
	alice.send("<presence><status>alice is here</status></presence>")
	alice.sync("blocked")
	bob.sync("blocked")
	// Initial presence may legitimately arrive twice (the broadcast and
	// the answer to a probe cross when both log in at once): only what was
	// sent after the block counts, recognised by its status text.
	fromBob := func(o observation) bool {
		return o.Event == "stanza" && strings.HasPrefix(o.From, "bob@") &&
			(o.Kind == "message" || (o.Kind == "presence" && o.Status != nil && *o.Status == "bob is busy"))
	}
	if n := alice.countMatching(fromBob, true); n != 0 {
		t.Errorf("alice got %d stanzas from bob while blocking him: %v", n, alice.all(fromBob))
	}
	if n := bob.countMatching(func(o observation) bool {
		return msgWithBody("hi bob")(o) || (presenceFrom("alice@localhost", "")(o) && o.Status != nil && *o.Status == "alice is here")
	}, true); n != 0 {
		t.Errorf("bob got alice's message or presence while blocked")
	}

	alice.do(map[string]any{"cmd": "iq", "xml": "<iq type='set' id='unblk'><unblock xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></unblock></iq>"})
	if r := alice.expect("unblock answer", isAnyEvent("iq_result", "iq_error")); r.Event != "iq_result" {
		t.Fatalf("unblock: %v", r)
	}
	bob.expect("alice's presence after unblock", func(o observation) bool {
		return presenceFrom("alice@localhost/phone", "")(o) && o.Status != nil && *o.Status == "alice is here"
	})
	alice.expect("bob's presence after unblock", func(o observation) bool {
		return presenceFrom("bob@localhost/laptop", "")(o) && o.Status != nil && *o.Status == "bob is busy"
	})
	bob.send("<message to='alice@localhost' type='chat' id='b2'><body>friends again</body></message>")
	alice.expect("bob's message after unblock", msgWithBody("friends again"))
	alice.send("<message to='bob@localhost' type='chat' id='a2'><body>yes</body></message>")
	bob.expect("alice's message after unblock", msgWithBody("yes"))
}

func isAnyEvent(names ...string) func(observation) bool {
	return func(o observation) bool { return slices.Contains(names, o.Event) }
}
