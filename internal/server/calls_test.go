package server

import (
	"testing"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestPushForAnIncomingCall: bob's phone sleeps with push enabled; alice's
// call (urn:parley:call:0) rings on none of his devices, so the push
// gateway is asked to wake it, with alice as the sender.
func TestPushForAnIncomingCall(t *testing.T) {
	var secret string
	ts := startServer(t, func(c *config.Config) { secret = componentConfig(t, c) })
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	gw := dialComponent(t, ts.addrs.Component, "push.localhost", secret)
	bob := ts.login(t, "bob", "phone")
	enable(t, bob, "push.localhost", "n1")
	bob.Close()
	ts.waitGone(t, "bob@localhost")

	alice := ts.login(t, "alice", "phone")
	alice.SendRaw("<iq type='set' id='call1' to='localhost'><offer xmlns='urn:parley:call:0' to='bob@localhost' media='audio'><sdp>v=0</sdp></offer></iq>")
	if r := alice.Expect("offer result", xmpptest.IsIQResult("call1")); r.Type() != "result" {
		t.Fatalf("offer refused: %v", r)
	}
	checkPublish(t, gw.expectPublish("incoming call"), "n1", "1", "alice@localhost", "v=0")
}
