package server

// Scenario tests for issue 3 with the Go test client over real sockets:
// in-band registration (XEP-0077), message carbons (XEP-0280) and blocking
// (XEP-0191). The same points with slixmpp and xmpp.js are in
// mobile_realclients_test.go.

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

const (
	nsCarbons  = "urn:xmpp:carbons:2"
	nsForward  = "urn:xmpp:forward:0"
	nsBlocking = "urn:xmpp:blocking"
	nsRegister = "jabber:iq:register"
)

func withRegistration(perHour int) func(*config.Config) {
	return func(c *config.Config) { c.AllowRegistration, c.RegistrationsPerHour = true, perHour }
}

func TestRegistrationIsOffByDefault(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	c := dialPreAuth(t, ts.addrs.C2S, false)
	if c.offersRegistration() {
		t.Fatal("the register stream feature is offered while registration is off")
	}
	c.send("<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>")
	if cond := c.answer("g1"); cond != "service-unavailable" {
		t.Fatalf("registration form when off: %q, want service-unavailable", cond)
	}
	if cond := c.register("s1", "carol", "pw-carol-1"); cond != "service-unavailable" {
		t.Fatalf("registration when off: %q, want service-unavailable", cond)
	}
	if _, err := xmpptest.Connect(t, ts.addrs.C2S, xmpptest.Options{User: "carol", Password: "pw-carol-1"}); err == nil {
		t.Fatal("carol can log in: an account was created while registration is off")
	}
	alice := ts.login(t, "alice", "phone")
	if hasFeature(t, alice, nsRegister) {
		t.Fatal("disco lists jabber:iq:register while registration is off")
	}
	alice.SendRaw("<iq type='set' id='pw'><query xmlns='jabber:iq:register'><username>alice</username><password>new-password</password></query></iq>")
	if r := alice.Expect("password change", xmpptest.IsIQResult("pw")); errorCondition(r) != "service-unavailable" {
		t.Fatalf("password change when off: %v, want service-unavailable", r)
	}
}

func TestRegistrationCreatesAccountsWithChecks(t *testing.T) {
	ts := startServer(t, withRegistration(10))
	ts.addUser(t, "alice", "pw-alice")

	plain := dialPreAuth(t, ts.addrs.C2S, true)
	if cond := plain.register("p1", "carol", "pw-carol-1"); cond != "not-allowed" {
		t.Fatalf("registration before TLS: %q, want not-allowed", cond)
	}

	c := dialPreAuth(t, ts.addrs.C2S, false)
	if !c.offersRegistration() {
		t.Fatalf("no register stream feature after TLS: %v", c.features)
	}
	c.send("<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>")
	form := c.next()
	q := form.Child(nsRegister, "query")
	if form.Type() != "result" || q == nil || q.Child(nsRegister, "username") == nil ||
		q.Child(nsRegister, "password") == nil || q.ChildText(nsRegister, "instructions") == "" {
		t.Fatalf("registration form: %v", form)
	}
	for _, tc := range []struct{ name, user, password, want string }{
		{"taken", "alice", "pw-alice-2", "conflict"},
		{"taken, other case", "ALICE", "pw-alice-2", "conflict"},
		{"bad username", "bad user", "pw-carol-1", "not-acceptable"},
		{"username with @", "carol@evil", "pw-carol-1", "not-acceptable"},
		{"no username", "", "pw-carol-1", "not-acceptable"},
		{"empty password", "carol", "", "not-acceptable"},
		{"weak password", "carol", "short", "not-acceptable"},
		{"ok", "carol", "pw-carol-1", ""},
		{"again", "carol", "pw-carol-2", "conflict"},
	} {
		if got := c.register("r-"+tc.name, tc.user, tc.password); got != tc.want {
			t.Errorf("%s: registering %q/%q answered %q, want %q", tc.name, tc.user, tc.password, got, tc.want)
		}
	}

	carol := xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "carol", Password: "pw-carol-1", Mechanism: "SCRAM-SHA-256"})
	if !hasFeature(t, carol, nsRegister) {
		t.Fatal("disco does not list jabber:iq:register while registration is on")
	}
	carol.SendRaw("<iq type='get' id='g2'><query xmlns='jabber:iq:register'/></iq>")
	if r := carol.Expect("registration info", xmpptest.IsIQResult("g2")); r.Child(nsRegister, "query").Child(nsRegister, "registered") == nil {
		t.Fatalf("a logged-in get: %v, want <registered/>", r)
	}
	changePassword(t, ts, carol)
	removeAccount(t, ts, carol)
}

// changePassword: carol changes her password; only the new one works, and
// she cannot change alice's.
func changePassword(t *testing.T, ts *testServer, carol *xmpptest.Client) {
	t.Helper()
	carol.SendRaw("<iq type='set' id='pw0'><query xmlns='jabber:iq:register'><username>alice</username><password>hijacked-1</password></query></iq>")
	if r := carol.Expect("changing alice's password", xmpptest.IsIQResult("pw0")); errorCondition(r) != "not-authorized" {
		t.Fatalf("carol changing alice's password: %v, want not-authorized", r)
	}
	carol.SendRaw("<iq type='set' id='pw1'><query xmlns='jabber:iq:register'><username>carol</username><password>abc</password></query></iq>")
	if r := carol.Expect("weak password change", xmpptest.IsIQResult("pw1")); errorCondition(r) != "not-acceptable" {
		t.Fatalf("weak new password: %v, want not-acceptable", r)
	}
	carol.SendRaw("<iq type='set' id='pw2'><query xmlns='jabber:iq:register'><username>carol</username><password>new-carol-pw</password></query></iq>")
	if r := carol.Expect("password change", xmpptest.IsIQResult("pw2")); r.Type() != "result" {
		t.Fatalf("password change: %v", r)
	}
	if _, err := xmpptest.Connect(t, ts.addrs.C2S, xmpptest.Options{User: "carol", Password: "pw-carol-1"}); err == nil {
		t.Fatal("the old password still works")
	}
	xmpptest.Dial(t, ts.addrs.C2S, xmpptest.Options{User: "carol", Password: "new-carol-pw", Resource: "2", Mechanism: "SCRAM-SHA-1"})
	if _, err := xmpptest.Connect(t, ts.addrs.C2S, xmpptest.Options{User: "alice", Password: "hijacked-1"}); err == nil {
		t.Fatal("carol changed alice's password")
	}
}

// removeAccount: carol removes her account: the answer, then the stream
// ends; she cannot log in any more.
func removeAccount(t *testing.T, ts *testServer, carol *xmpptest.Client) {
	t.Helper()
	carol.SendRaw("<iq type='set' id='rm'><query xmlns='jabber:iq:register'><remove/></query></iq>")
	if r := carol.Expect("account removal", xmpptest.IsIQResult("rm")); r.Type() != "result" {
		t.Fatalf("account removal: %v", r)
	}
	if se := carol.Closed(); se == nil || se.Condition != stanza.StreamNotAuthorized {
		t.Fatalf("after removal the stream ended with %v, want not-authorized", se)
	}
	if _, err := xmpptest.Connect(t, ts.addrs.C2S, xmpptest.Options{User: "carol", Password: "new-carol-pw"}); err == nil {
		t.Fatal("carol can still log in after removing her account")
	}
}

func TestRegistrationIsLimitedPerAddress(t *testing.T) {
	ts := startServer(t, withRegistration(2))
	c := dialPreAuth(t, ts.addrs.C2S, false)
	for i, want := range []string{"", "", "resource-constraint"} {
		user := "user" + string(rune('a'+i))
		if got := c.register("l"+user, user, "pw-"+user+"-123"); got != want {
			t.Fatalf("registration %d: %q, want %q", i+1, got, want)
		}
	}
}

// isCarbon matches a carbon of kind (received/sent) whose forwarded
// message has body.
func isCarbon(kind, body string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool {
		return forwarded(el, kind) != nil && forwarded(el, kind).Body() == body
	}
}

func forwarded(el *stanza.Element, kind string) *stanza.Element {
	c := el.Child(nsCarbons, kind)
	if el.Name != "message" || c == nil || c.Child(nsForward, "forwarded") == nil {
		return nil
	}
	return c.Child(nsForward, "forwarded").Child(stanza.NSClient, "message")
}

func isAnyCarbon(el *stanza.Element) bool {
	return el.Child(nsCarbons, "received") != nil || el.Child(nsCarbons, "sent") != nil
}

func enableCarbons(t *testing.T, c *xmpptest.Client, verb string) {
	t.Helper()
	c.SendRaw("<iq type='set' id='" + verb + "'><" + verb + " xmlns='urn:xmpp:carbons:2'/></iq>")
	if r := c.Expect("carbons "+verb, xmpptest.IsIQResult(verb)); r.Type() != "result" {
		t.Fatalf("carbons %s: %v", verb, r)
	}
}

func TestCarbonsBetweenResourcesOfOneAccount(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	phone, laptop, old := ts.login(t, "alice", "phone"), ts.login(t, "alice", "laptop"), ts.login(t, "alice", "old")
	bob := ts.login(t, "bob", "web")
	for _, c := range []*xmpptest.Client{phone, laptop, old, bob} {
		c.SendRaw("<presence/>")
	}
	if !hasFeature(t, phone, nsCarbons) {
		t.Fatal("disco does not list urn:xmpp:carbons:2")
	}
	enableCarbons(t, phone, "enable")
	enableCarbons(t, laptop, "enable") // "old" does not: it never gets copies

	// bob writes to alice's phone: the laptop gets a received copy.
	bob.SendRaw("<message to='alice@localhost/phone' type='chat' id='b1'><body>to your phone</body></message>")
	phone.Expect("bob's message", xmpptest.IsMessageWithBody("to your phone"))
	c := laptop.Expect("received carbon", isCarbon("received", "to your phone"))
	if c.Attr("from") != "alice@localhost" || c.Attr("to") != "alice@localhost/laptop" ||
		forwarded(c, "received").Attr("from") != "bob@localhost/web" {
		t.Fatalf("received carbon: %v", c)
	}
	// alice answers from the phone: bob gets it, the laptop a sent copy.
	phone.SendRaw("<message to='bob@localhost' type='chat' id='a1'><body>from my phone</body></message>")
	bob.Expect("alice's answer", xmpptest.IsMessageWithBody("from my phone"))
	c = laptop.Expect("sent carbon", isCarbon("sent", "from my phone"))
	if f := forwarded(c, "sent"); f.Attr("to") != "bob@localhost" || f.Attr("from") != "alice@localhost/phone" {
		t.Fatalf("sent carbon: %v", c)
	}
	// chat states and receipts are copied; a headline is not.
	bob.SendRaw("<message to='alice@localhost/phone' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	laptop.Expect("carbon of a chat state", func(el *stanza.Element) bool {
		f := forwarded(el, "received")
		return f != nil && f.Child(nsChatStates, "composing") != nil
	})
	// private and no-copy hints are honoured, both ways.
	bob.SendRaw("<message to='alice@localhost/phone' type='chat'><body>secret 1</body><private xmlns='urn:xmpp:carbons:2'/></message>")
	phone.SendRaw("<message to='bob@localhost' type='chat'><body>secret 2</body><no-copy xmlns='urn:xmpp:hints'/></message>")
	bob.SendRaw("<message to='alice@localhost/phone' type='headline'><body>news</body></message>")
	phone.Expect("the private message", xmpptest.IsMessageWithBody("secret 1"))
	bob.Expect("the no-copy message", xmpptest.IsMessageWithBody("secret 2"))
	none(t, laptop, "a copy of a private, no-copy or headline message", isAnyCarbon)
	none(t, old, "a carbon without enabling carbons", isAnyCarbon)

	// the laptop disables carbons: no more copies.
	enableCarbons(t, laptop, "disable")
	bob.SendRaw("<message to='alice@localhost/phone' type='chat'><body>after disable</body></message>")
	phone.Expect("message after disable", xmpptest.IsMessageWithBody("after disable"))
	none(t, laptop, "a carbon after disabling", isAnyCarbon)
	// messages to the bare JID reach every available resource: no copies.
	bob.SendRaw("<message to='alice@localhost' type='chat'><body>to all</body></message>")
	for _, c := range []*xmpptest.Client{phone, laptop, old} {
		c.Expect("message to the bare JID", xmpptest.IsMessageWithBody("to all"))
	}
	none(t, phone, "a carbon of a message it got itself", isAnyCarbon)
}

func isErrorWith(cond string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool { return el.Type() == "error" && errorCondition(el) == cond }
}

func blockingIQ(t *testing.T, c *xmpptest.Client, id, payload string) *stanza.Element {
	t.Helper()
	c.SendRaw("<iq type='set' id='" + id + "'>" + payload + "</iq>")
	r := c.Expect(id, xmpptest.IsIQResult(id))
	if r.Type() != "result" {
		t.Fatalf("%s: %v", id, r)
	}
	return r
}

func isBlockPush(verb, jid string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool {
		q := el.Child(nsBlocking, verb)
		if el.Name != "iq" || el.Type() != "set" || q == nil {
			return false
		}
		return jid == "" && len(q.Children) == 0 || (len(q.Children) == 1 && q.Children[0].Attr("jid") == jid)
	}
}

func presenceFromWithStatus(from, typ, status string) func(*stanza.Element) bool {
	return func(el *stanza.Element) bool {
		return el.Name == "presence" && strings.HasPrefix(el.Attr("from"), from) && el.Type() == typ &&
			(status == "" || el.ChildText(stanza.NSClient, "status") == status)
	}
}

func TestBlockingBothWaysThenUnblocking(t *testing.T) {
	ts := startServer(t, nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		ts.addUser(t, u, "pw-"+u)
	}
	ts.befriend(t, "alice", "bob")
	phone, laptop := ts.login(t, "alice", "phone"), ts.login(t, "alice", "laptop")
	bob, carol := ts.login(t, "bob", "web"), ts.login(t, "carol", "web")
	for _, c := range []*xmpptest.Client{phone, laptop, bob, carol} {
		c.SendRaw("<presence/>")
	}
	phone.Expect("bob's presence", presenceFromWithStatus("bob@localhost/web", "", ""))
	bob.Expect("alice's presence", presenceFromWithStatus("alice@localhost/phone", "", ""))
	if !hasFeature(t, phone, nsBlocking) {
		t.Fatal("disco does not list urn:xmpp:blocking")
	}

	blockingIQ(t, phone, "b1", "<block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block>")
	laptop.Expect("block push", isBlockPush("block", "bob@localhost"))
	bob.Expect("alice's unavailable on block", presenceFromWithStatus("alice@localhost/phone", "unavailable", ""))
	phone.Expect("bob's unavailable on block", presenceFromWithStatus("bob@localhost/web", "unavailable", ""))
	phone.SendRaw("<iq type='get' id='bl'><blocklist xmlns='urn:xmpp:blocking'/></iq>")
	if r := phone.Expect("block list", xmpptest.IsIQResult("bl")); !isBlocklist(r, "bob@localhost") {
		t.Fatalf("block list: %v", r)
	}

	// bob -> alice: refused like a missing account; alice sees nothing.
	bob.SendRaw("<message to='alice@localhost' type='chat' id='m1'><body>hello?</body></message>")
	bob.Expect("service-unavailable for his message", isErrorWith("service-unavailable"))
	bob.SendRaw("<iq type='get' id='q1' to='alice@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>")
	if r := bob.Expect("iq to alice", xmpptest.IsIQResult("q1")); errorCondition(r) != "service-unavailable" {
		t.Fatalf("bob's iq to a blocker: %v", r)
	}
	bob.SendRaw("<presence><status>bob busy</status></presence>")
	// alice -> bob: not-acceptable with <blocked/>.
	phone.SendRaw("<message to='bob@localhost' type='chat' id='m2'><body>hi bob</body></message>")
	e := phone.Expect("not-acceptable for her message", isErrorWith("not-acceptable"))
	if e.Child(stanza.NSClient, "error").Child("urn:xmpp:blocking:errors", "blocked") == nil {
		t.Fatalf("no <blocked/> in %v", e)
	}
	phone.SendRaw("<presence><status>alice here</status></presence>")
	// carol is not blocked by anyone.
	carol.SendRaw("<message to='alice@localhost/phone' type='chat'><body>from carol</body></message>")
	phone.Expect("carol's message", xmpptest.IsMessageWithBody("from carol"))
	none(t, phone, "something from bob", func(el *stanza.Element) bool { return strings.HasPrefix(el.Attr("from"), "bob@") })
	none(t, bob, "something from alice", func(el *stanza.Element) bool {
		return strings.HasPrefix(el.Attr("from"), "alice@") && el.Type() != "error"
	})

	blockingIQ(t, laptop, "u1", "<unblock xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></unblock>")
	phone.Expect("unblock push", isBlockPush("unblock", "bob@localhost"))
	bob.Expect("alice's presence after unblock", presenceFromWithStatus("alice@localhost/phone", "", "alice here"))
	phone.Expect("bob's presence after unblock", presenceFromWithStatus("bob@localhost/web", "", "bob busy"))
	bob.SendRaw("<message to='alice@localhost/phone' type='chat'><body>again</body></message>")
	phone.Expect("bob's message after unblock", xmpptest.IsMessageWithBody("again"))
	phone.SendRaw("<message to='bob@localhost' type='chat'><body>welcome back</body></message>")
	bob.Expect("alice's message after unblock", xmpptest.IsMessageWithBody("welcome back"))

	// block two, unblock all: the list is empty and everyone is back.
	blockingIQ(t, phone, "b2", "<block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/><item jid='carol@localhost'/></block>")
	blockingIQ(t, phone, "u2", "<unblock xmlns='urn:xmpp:blocking'/>")
	laptop.Expect("unblock-all push", isBlockPush("unblock", ""))
	phone.SendRaw("<iq type='get' id='bl2'><blocklist xmlns='urn:xmpp:blocking'/></iq>")
	if r := phone.Expect("empty block list", xmpptest.IsIQResult("bl2")); !isBlocklist(r) {
		t.Fatalf("block list after unblock-all: %v", r)
	}
	carol.SendRaw("<message to='alice@localhost/phone' type='chat'><body>carol again</body></message>")
	phone.Expect("carol's message after unblock-all", xmpptest.IsMessageWithBody("carol again"))
}

func isBlocklist(r *stanza.Element, jids ...string) bool {
	q := r.Child(nsBlocking, "blocklist")
	if r.Type() != "result" || q == nil || len(q.Children) != len(jids) {
		return false
	}
	for i, it := range q.Children {
		if it.Attr("jid") != jids[i] {
			return false
		}
	}
	return true
}
