package server

import (
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/parley-im/parley/internal/config"
)

// TestSCRAMFirstStepLeavesConnectionStacksSmall: 200 connections each wait
// for their client's SCRAM response after the server's first message. The
// first step (the account read through Pebble's iterators, the HMACs) runs
// on a deep-call worker, not on the connection's goroutine, which then
// neither copies its stack as it grows nor holds the grown stack while it
// waits: the server's stack memory per waiting connection stays under
// 12 KiB. Before, each such goroutine held 16 KiB (measured: 16,384 B
// against 3,932 B).
func TestSCRAMFirstStepLeavesConnectionStacksSmall(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	ts.addUser(t, "alice", "pw-alice")
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection shrinks stacks meanwhile
	runtime.GC()
	const n = 200
	before := stackInUse()
	for i := range n {
		c := dialC2S(t, ts)
		first := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "n,,n=alice,r=client-nonce-%d", i))
		write(t, c, streamOpen+"<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'><initial-response>"+
			first+"</initial-response></authenticate>")
		readUntil(t, c, "</challenge>")
	}
	perConn := (stackInUse() - before) / n
	t.Logf("stack memory per connection waiting for its SCRAM response: %d B", perConn)
	if perConn > 12<<10 {
		t.Fatalf("%d B of stack per connection waiting for its SCRAM response, want at most 12 KiB", perConn)
	}
}

func stackInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}
