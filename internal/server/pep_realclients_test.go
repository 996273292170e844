package server

// PEP (XEP-0163) with real clients (harness in realclients_helpers_test.go):
// slixmpp with its xep_0115, xep_0163 and xep_0084 plugins announces
// +notify interest in avatar metadata through entity capabilities; the
// server asks it for its caps node's disco#info, and notifies it when a
// contact publishes, whether that contact is xmpp.js (a raw publish) or
// slixmpp (publish_avatar_metadata). A user not subscribed to the
// publisher's presence gets nothing of theirs.
//
// Run: go test -run TestRealClientsPEP -v ./internal/server/

import (
	"strings"
	"testing"
)

func avatarObs(from, id string) func(observation) bool {
	return func(o observation) bool { return o.Event == "avatar_metadata" && o.From == from && o.ID == id }
}

func TestRealClientsPEP01PublishThenNotifyContactWithNotify(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	ts := startServer(t, nil)
	privacyUsers(t, ts) // alice and bob are mutual contacts; carol is subscribed to alice only
	web := jsAgent(t, ts, "alice", "web", "ws")
	bob := slixAgent(t, ts, "bob", "phone", "--pep")
	carol := slixAgent(t, ts, "carol", "phone", "--pep")
	for _, a := range []*agent{web, bob, carol} {
		a.send("<presence/>")
	}
	bob.expect("alice's presence", presenceFrom("alice@localhost/web", ""))

	// alice (xmpp.js) publishes her avatar metadata with a raw iq.
	web.do(map[string]any{"cmd": "iq", "xml": "<iq type='set' id='pub1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>" +
		"<publish node='urn:xmpp:avatar:metadata'><item id='aaaa1111'><metadata xmlns='urn:xmpp:avatar:metadata'>" +
		"<info bytes='1024' id='aaaa1111' type='image/png' height='64' width='64'/></metadata></item></publish></pubsub></iq>"})
	if r := web.expect("publish answer", isAnyEvent("iq_result", "iq_error")); r.Event != "iq_result" || !strings.Contains(r.XML, "aaaa1111") {
		t.Fatalf("publish: %v", r)
	}
	// bob's slixmpp sees it through its xep_0084 plugin (a live
	// notification, or the last item once the server learnt his caps).
	bob.expect("alice's avatar metadata", avatarObs("alice@localhost", "aaaa1111"))

	// bob (slixmpp) publishes his: alice's slixmpp phone, with +notify, gets it.
	phone := slixAgent(t, ts, "alice", "phone", "--pep")
	phone.send("<presence/>")
	bob.do(map[string]any{"cmd": "publish_avatar", "id": "bbbb2222", "bytes": 2048})
	if r := bob.expect("publish_avatar", isAnyEvent("published", "publish_error")); r.Event != "published" {
		t.Fatalf("slixmpp publish_avatar_metadata: %v", r)
	}
	phone.expect("bob's avatar metadata", avatarObs("bob@localhost", "bbbb2222"))
	phone.expect("alice's own avatar (her own node)", avatarObs("alice@localhost", "aaaa1111"))

	// carol announces the same interest: she is subscribed to alice's
	// presence, so she gets alice's avatar, but not to bob's.
	carol.expect("alice's avatar (carol is her presence subscriber)", avatarObs("alice@localhost", "aaaa1111"))
	carol.sync("after")
	fromBob := func(o observation) bool { return o.Event == "avatar_metadata" && o.From == "bob@localhost" }
	if n := carol.countMatching(fromBob, false); n != 0 {
		t.Fatalf("carol got bob's avatar without a subscription: %v", carol.all(fromBob))
	}
}
