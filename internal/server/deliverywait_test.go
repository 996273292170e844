package server

import (
	"testing"
	"time"

	"github.com/parley-im/parley/internal/xmpptest"
)

// TestDeliveryWaitIsMeasuredPerWrite: a message handed to bob's session
// adds a write to parley_delivery_wait_seconds (the wait of the oldest
// stanza it carried, from its hand-over to the end of the write), and the
// waits it adds are more than nothing.
func TestDeliveryWaitIsMeasuredPerWrite(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	bob := ts.login(t, "bob", "phone")
	availableAndSettled(bob)
	alice := ts.login(t, "alice", "phone")
	count, sum := metricValue(t, ts, "parley_delivery_wait_seconds_count"), metricValue(t, ts, "parley_delivery_wait_seconds_sum")

	alice.SendRaw("<message to='bob@localhost' type='chat' id='w1'><body>hi</body></message>")
	bob.Expect("alice's message", xmpptest.IsMessageWithBody("hi"))
	// The write's wait is recorded just after the write: bob may read first.
	for deadline := time.Now().Add(5 * time.Second); metricValue(t, ts, "parley_delivery_wait_seconds_count") < count+1 &&
		time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := metricValue(t, ts, "parley_delivery_wait_seconds_count"); got < count+1 {
		t.Errorf("parley_delivery_wait_seconds_count went from %v to %v for a delivered message, want one more at least", count, got)
	}
	if got := metricValue(t, ts, "parley_delivery_wait_seconds_sum"); got <= sum {
		t.Errorf("parley_delivery_wait_seconds_sum went from %v to %v, want more", sum, got)
	}
}
