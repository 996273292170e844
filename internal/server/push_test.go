package server

// Push notifications (XEP-0357) end to end: a Go XEP-0114 component plays
// the app server (push gateway); the webhook is an httptest server.
//
// Run: go test -run TestPush -v ./internal/server/

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/push"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

const enablePush = `<iq type='set' id='%s'><enable xmlns='urn:xmpp:push:0' jid='%s' node='%s'>
	<x xmlns='jabber:x:data' type='submit'>
		<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
		<field var='secret'><value>app-secret-42</value></field>
	</x></enable></iq>`

// enable sends <enable/> and fails unless it is accepted.
func enable(t *testing.T, c *xmpptest.Client, service, node string) {
	t.Helper()
	c.SendRaw(sprintf(enablePush, "en-"+node, service, node))
	if r := c.Expect("enable", xmpptest.IsIQResult("en-"+node)); r.Type() != "result" {
		t.Fatalf("enable push to %s refused: %v", service, r)
	}
}

// checkPublish checks a publish for bob: node, count, sender, no body,
// the publish options, from bob's bare JID.
func checkPublish(t *testing.T, iq *stanza.Element, node, count, sender, secretBody string) {
	t.Helper()
	gotNode, f, opts := pushSummary(t, iq)
	if iq.Attr("from") != "bob@localhost" || iq.Attr("to") != "push.localhost" || iq.Type() != "set" || gotNode != node {
		t.Fatalf("publish attributes: %v", iq)
	}
	if f["FORM_TYPE"] != "urn:xmpp:push:summary" || f["message-count"] != count || f["last-message-sender"] != sender {
		t.Fatalf("summary %v, want count %s from %s", f, count, sender)
	}
	if _, ok := f["last-message-body"]; ok || strings.Contains(iq.String(), secretBody) {
		t.Fatalf("the notification carries the body: %v", iq)
	}
	if opts["secret"] != "app-secret-42" {
		t.Fatalf("publish options %v", opts)
	}
}

func TestPushComponentNotifiedWithoutBodyAndAfterRestart(t *testing.T) {
	data := t.TempDir()
	var secret string
	tweak := func(c *config.Config) { c.Data = data; secret = componentConfig(t, c) }
	ts := startServer(t, tweak)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)

	// bob's phone enables push, checks disco, then the app goes to sleep.
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "push.localhost", "bob-phone")
	if !hasFeature(t, bob, push.NS) {
		t.Fatal("server disco#info without urn:xmpp:push:0")
	}
	bob.SendRaw("<iq type='get' id='ad' to='bob@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
	if r := bob.Expect("account disco", xmpptest.IsIQResult("ad")); !strings.Contains(r.String(), push.NS) {
		t.Fatalf("account disco#info without urn:xmpp:push:0: %v", r)
	}
	bob.Close()
	ts.waitGone(t, "bob@localhost")

	// alice writes; the message is stored and the gateway is told, without the text.
	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>the eagle lands at dawn</body></message>")
	checkPublish(t, gw.expectPublish("offline message"), "bob-phone", "1", "alice@localhost", "eagle")

	// After a restart the registration is still there.
	ts.stop()
	ts = startServer(t, tweak)
	gw = dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	alice = ts.login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>second eagle</body></message>")
	checkPublish(t, gw.expectPublish("after restart"), "bob-phone", "1", "alice@localhost", "eagle")

	// bob reads his messages: both were kept for him.
	bob = ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	bob.Expect("first", xmpptest.IsMessageWithBody("the eagle lands at dawn"))
	bob.Expect("second", xmpptest.IsMessageWithBody("second eagle"))
	// Online, he gets no push; after disable, none either.
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>online now</body></message>")
	bob.Expect("live", xmpptest.IsMessageWithBody("online now"))
	gw.noPublish("bob online", 300*time.Millisecond)
	bob.SendRaw("<iq type='set' id='dis'><disable xmlns='urn:xmpp:push:0' jid='push.localhost' node='bob-phone'/></iq>")
	if r := bob.Expect("disable", xmpptest.IsIQResult("dis")); r.Type() != "result" {
		t.Fatalf("disable: %v", r)
	}
	bob.Close()
	ts.waitGone(t, "bob@localhost")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>after disable</body></message>")
	gw.noPublish("after disable", 500*time.Millisecond)
}

func TestPushWhileSessionWaitsForResumption(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c) })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	enable(t, bob, "push.localhost", "n1")
	bob.Drop() // the phone lost its network: the session is detached
	ts.waitDetached(t, "bob@localhost")

	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>are you there?</body></message>")
	checkPublish(t, gw.expectPublish("detached session"), "n1", "1", "alice@localhost", "there?")
}

func TestPushBurstIsCoalesced(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c); c.PushInterval = 700 * time.Millisecond })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "push.localhost", "n1")
	bob.Close()
	ts.waitGone(t, "bob@localhost")

	alice := ts.login(t, "alice", "phone")
	sendAndSync(t, alice, "burst", 6) // (to bob@localhost)
	checkPublish(t, gw.expectPublish("first of the burst"), "n1", "1", "alice@localhost", "burst")
	checkPublish(t, gw.expectPublish("the rest, coalesced"), "n1", "6", "alice@localhost", "burst")
	gw.noPublish("after the burst", time.Second)
}

func TestPushRegistrationRefusedByTheAppServerIsRemoved(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c); c.PushInterval = 100 * time.Millisecond })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	gw.answer = func(iq *stanza.Element) string {
		return sprintf("<iq type='error' id='%s' from='%s' to='%s'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
			iq.ID(), iq.Attr("to"), iq.Attr("from"))
	}
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "push.localhost", "gone-node")
	// An app server we cannot reach is refused at once.
	bob.SendRaw(sprintf(enablePush, "far", "push.elsewhere.example", "n"))
	if r := bob.Expect("enable elsewhere", xmpptest.IsIQResult("far")); r.Type() != "error" || errorCondition(r) != "remote-server-not-found" {
		t.Fatalf("enable to an unreachable app server: %v", r)
	}
	bob.Close()
	ts.waitGone(t, "bob@localhost")
	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>one</body></message>")
	gw.expectPublish("first")
	time.Sleep(300 * time.Millisecond)
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>two</body></message>")
	gw.noPublish("after item-not-found", 500*time.Millisecond)
	regs, err := ts.store.PushRegistrations(t.Context(), "bob@localhost")
	if err != nil || len(regs) != 0 {
		t.Fatalf("registrations after item-not-found: %v %v", regs, err)
	}
}

func TestComponentHandshake(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c) })
	if _, answer, _ := dialComponentRaw(t, ts.addrs.Component, "push.localhost", "wrong"); !isStreamError(answer, "not-authorized") {
		t.Fatalf("wrong secret answered with %v", answer)
	}
	// An unknown domain gets the stream header, then host-unknown.
	if _, answer, err := dialComponentRaw(t, ts.addrs.Component, "other.localhost", secret); err != nil || !isStreamError(answer, "host-unknown") {
		t.Fatalf("unknown domain answered with %v (%v)", answer, err)
	}
	// A connected component can talk to users: a message from it is routed.
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	gw.write("<message from='push.localhost' to='bob@localhost/phone'><body>hello from a component</body></message>")
	if m := bob.Expect("component message", xmpptest.IsMessageWithBody("hello from a component")); m.Attr("from") != "push.localhost" {
		t.Fatalf("from %q", m.Attr("from"))
	}
	// ...and bob can reach it: an iq to the component gets its answer.
	bob.SendRaw("<iq type='get' id='cq' to='push.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
	if r := bob.Expect("component answer", xmpptest.IsIQResult("cq")); r.Type() != "result" || r.Attr("from") != "push.localhost" {
		t.Fatalf("answer %v", r)
	}
	// A stanza from a domain that is not the component's ends its stream.
	gw.write("<message from='localhost' to='bob@localhost'><body>spoof</body></message>")
	select {
	case <-gw.done:
	case <-time.After(5 * time.Second):
		t.Fatal("a spoofing component stayed connected")
	}
}

func TestPushWebhookSignedWithoutBody(t *testing.T) {
	const key = "webhook-signing-key"
	got := make(chan push.WebhookPayload, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(push.SignatureHeader) != push.Sign([]byte(key), body) {
			t.Errorf("bad signature on %s", body)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p push.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Error(err)
		}
		if strings.Contains(string(body), "launch codes") {
			t.Errorf("the body reached the webhook: %s", body)
		}
		got <- p
	}))
	defer hook.Close()
	keyFile := filepath.Join(t.TempDir(), "hook.key")
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(c *config.Config) { c.PushWebhook, c.PushWebhookSecretFile = hook.URL+"/push", keyFile })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "app.example.net", "device-7")
	bob.Close()
	ts.waitGone(t, "bob@localhost")
	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<message to='bob@localhost' type='chat'><body>launch codes</body></message>")
	select {
	case p := <-got:
		if p.Account != "bob@localhost" || p.Service != "app.example.net" || p.Node != "device-7" || p.MessageCount != 1 ||
			p.LastMessageSender != "alice@localhost" || p.LastMessageBody != "" || p.PublishOptions["secret"][0] != "app-secret-42" {
			t.Fatalf("webhook payload %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook got nothing")
	}
}

// TestPushForAGroupPost: bob is offline with push enabled; the group's
// creation, then alice's post to it wake his phone, the group as sender,
// without the text.
func TestPushForAGroupPost(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c); c.PushInterval = 300 * time.Millisecond })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "push.localhost", "n1")
	bob.Close()
	ts.waitGone(t, "bob@localhost")

	alice := online(t, ts, "alice")
	g := createGroup(t, alice, "Push", "bob")
	checkPublish(t, gw.expectPublish("the created event"), "n1", "1", g, "created")
	post(alice, g, "a1", "wake up")
	alice.Expect("her own copy", xmpptest.IsMessageWithBody("wake up"))
	checkPublish(t, gw.expectPublish("the post"), "n1", "2", g, "wake up")
}
