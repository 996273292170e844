package server

// Push notification scenarios (XEP-0357) with real clients: slixmpp and
// xmpp.js enable push with a raw <enable/> (the Debian slixmpp 1.8.3 has no
// xep_0357 plugin; xmpp.js has none either), go offline, a message comes
// from the other client, and the push gateway (a Go XEP-0114 component,
// component_helpers_test.go) gets the notification without the body, again
// after a server restart.
//
// Run: go test -run TestRealClientsPush -v ./internal/server/

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/xmpptest"
)

// enableIQ is the <enable/> a client sends: app server push.localhost, its
// node and the app's secret in the publish options.
func enableIQ(node string) string {
	return `<iq type='set'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='` + node + `'>` +
		`<x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='secret'><value>app-secret-42</value></field></x></enable></iq>`
}

// agentEnablesPush has a (logged-in) agent enable push and checks that its
// account's disco#info offers urn:xmpp:push:0.
func agentEnablesPush(t *testing.T, a *agent, node string) {
	t.Helper()
	a.do(map[string]any{"cmd": "iq", "tag": "enable", "xml": enableIQ(node)})
	if o := a.expect("enable push", func(o observation) bool { return o.Tag == "enable" }); o.Event != "iq_result" {
		t.Fatalf("enable refused: %s", o.line)
	}
	a.do(map[string]any{"cmd": "iq", "tag": "disco", "xml": "<iq type='get' to='bob@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"})
	if o := a.expect("account disco", func(o observation) bool { return o.Tag == "disco" }); !strings.Contains(o.XML, "urn:xmpp:push:0") {
		t.Fatalf("account disco#info without urn:xmpp:push:0: %s", o.line)
	}
}

func TestRealClientsPush01SlixmppOfflineAndAfterRestart(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	data := t.TempDir()
	var secret string
	tweak := func(c *config.Config) { c.Data = data; secret = componentConfig(t, c) }
	ts := startServer(t, tweak)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)

	// bob's slixmpp enables push, then quits (the app sleeps).
	bob := slixAgent(t, ts, "bob", "phone")
	bob.send("<presence/>")
	agentEnablesPush(t, bob, "slix-node")
	bob.quit()
	ts.waitGone(t, "bob@localhost")

	// alice (xmpp.js) writes; the gateway gets count 1 from alice, no text.
	alice := jsAgent(t, ts, "alice", "laptop", "tcp")
	alice.send("<message to='bob@localhost' type='chat'><body>meet at the old mill</body></message>")
	checkPublish(t, gw.expectPublish("offline message from xmpp.js"), "slix-node", "1", "alice@localhost", "old mill")
	alice.quit()

	// Restart: the registration survived; a new message is notified again.
	ts.stop()
	ts = startServer(t, tweak)
	gw = dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	alice = jsAgent(t, ts, "alice", "laptop", "tcp")
	alice.send("<message to='bob@localhost' type='chat'><body>still at the mill</body></message>")
	checkPublish(t, gw.expectPublish("after restart"), "slix-node", "1", "alice@localhost", "mill")

	// bob wakes up and gets both messages from the offline queue.
	bob = slixAgent(t, ts, "bob", "phone")
	bob.send("<presence/>")
	bob.expect("first message", msgWithBody("meet at the old mill"))
	bob.expect("second message", msgWithBody("still at the mill"))
}

func TestRealClientsPush02XmppjsWebSocket(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	needXmppjs(t)
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c) })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)

	bob := jsAgent(t, ts, "bob", "web", "ws")
	agentEnablesPush(t, bob, "js-node")
	bob.quit()
	ts.waitGone(t, "bob@localhost")

	alice := slixAgent(t, ts, "alice", "phone")
	alice.send("<message to='bob@localhost' type='chat'><body>ping from slixmpp</body></message>")
	checkPublish(t, gw.expectPublish("offline message from slixmpp"), "js-node", "1", "alice@localhost", "slixmpp")
	// The Go client sees the same message waiting.
	c := ts.login(t, "bob", "phone")
	c.SendRaw("<presence/>")
	c.Expect("queued message", xmpptest.IsMessageWithBody("ping from slixmpp"))
}
