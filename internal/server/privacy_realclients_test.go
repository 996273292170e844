package server

// Privacy settings (urn:parley:privacy:0) with real clients (harness in
// realclients_helpers_test.go): slixmpp's XEP-0012 plugin asks for a
// user's last seen under "everyone", "contacts" and "nobody"; read
// receipts off between slixmpp and xmpp.js.
//
// Run: go test -run TestRealClientsPrivacy -v ./internal/server/

import (
	"strings"
	"testing"
)

// setPrivacyVia sets attrs (an attribute string) through an agent's raw iq.
func setPrivacyVia(t *testing.T, a *agent, id, attrs string) {
	t.Helper()
	a.do(map[string]any{"cmd": "iq", "xml": "<iq type='set' id='" + id + "'><privacy xmlns='urn:parley:privacy:0' " + attrs + "/></iq>"})
	if r := a.expect("privacy set "+id, isAnyEvent("iq_result", "iq_error")); r.Event != "iq_result" {
		t.Fatalf("%s: privacy set %s: %v", a.name, attrs, r)
	}
}

// lastSeenVia asks with slixmpp's xep_0012 plugin; it returns "seconds" or
// the error condition.
func lastSeenVia(t *testing.T, a *agent, jid string) string {
	t.Helper()
	a.do(map[string]any{"cmd": "last", "jid": jid})
	r := a.expect("last activity of "+jid, isAnyEvent("last", "last_error", "last_timeout"))
	switch r.Event {
	case "last":
		return "seconds"
	case "last_error":
		return r.Condition
	}
	t.Fatalf("%s: last activity timed out", a.name)
	return ""
}

func TestRealClientsPrivacy01LastSeenEveryoneContactsNobody(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	privacyUsers(t, ts) // bob is alice's contact; carol only subscribed to her
	old := ts.login(t, "alice", "old")
	old.SendRaw("<presence/>")
	old.Close()
	alice := jsAgent(t, ts, "alice", "web", "ws")
	bob := slixAgent(t, ts, "bob", "phone")
	carol := slixAgent(t, ts, "carol", "phone")

	for _, tc := range []struct{ setting, bob, carol string }{
		{"everyone", "seconds", "seconds"},
		{"contacts", "seconds", "forbidden"},
		{"nobody", "forbidden", "forbidden"},
	} {
		setPrivacyVia(t, alice, "p-"+tc.setting, "last-seen='"+tc.setting+"'")
		if got := lastSeenVia(t, bob, "alice@localhost"); got != tc.bob {
			t.Errorf("last-seen %s: bob (a contact) got %s, want %s", tc.setting, got, tc.bob)
		}
		if got := lastSeenVia(t, carol, "alice@localhost"); got != tc.carol {
			t.Errorf("last-seen %s: carol (not a contact) got %s, want %s", tc.setting, got, tc.carol)
		}
	}
}

func TestRealClientsPrivacy02ReadReceiptsOff(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	alice := slixAgent(t, ts, "alice", "phone")
	bob := jsAgent(t, ts, "bob", "laptop", "tcp")
	alice.send("<presence/>")
	bob.send("<presence/>")
	alice.expect("bob's presence", presenceFrom("bob@localhost/laptop", ""))
	setPrivacyVia(t, alice, "off", "read-receipts='off'")
	displayed := msgWithChild(nsMarkers, "displayed")

	bob.send("<message to='alice@localhost' type='chat' id='b1'><body>did you read this?</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>")
	alice.expect("bob's message", msgWithBody("did you read this?"))
	alice.send("<message to='bob@localhost' type='chat' id='r1'><received xmlns='urn:xmpp:receipts' id='b1'/></message>")
	alice.send("<message to='bob@localhost' type='chat' id='d1'><displayed xmlns='urn:xmpp:chat-markers:0' id='b1'/></message>")
	bob.expect("alice's delivery receipt", msgWithChild(nsReceipts, "received"))
	alice.send("<message to='bob@localhost' type='chat' id='a1'><body>yes</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>")
	bob.expect("alice's answer", msgWithBody("yes"))
	bob.send("<message to='alice@localhost' type='chat' id='d2'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>")
	bob.send("<message to='alice@localhost' type='chat' id='b2'><body>after my marker</body></message>")
	alice.expect("bob's next message", msgWithBody("after my marker"))
	bob.sync("off")
	if n := bob.countMatching(displayed, false); n != 0 {
		t.Fatalf("bob got alice's displayed marker although her read receipts are off: %v", bob.all(displayed))
	}
	if n := alice.countMatching(displayed, false); n != 0 {
		t.Fatalf("alice got bob's displayed marker although her read receipts are off: %v", alice.all(displayed))
	}

	setPrivacyVia(t, alice, "on", "read-receipts='on'")
	bob.send("<message to='alice@localhost' type='chat' id='d3'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>")
	if m := alice.expect("bob's marker with receipts on", displayed); !strings.Contains(m.XML, "a1") {
		t.Errorf("marker: %v", m)
	}
	alice.send("<message to='bob@localhost' type='chat' id='d4'><displayed xmlns='urn:xmpp:chat-markers:0' id='b2'/></message>")
	bob.expect("alice's marker with receipts on", displayed)
}
