package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/logbuf"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDirectoryFollowsDevicesAndNodes: node a learns of node b's device
// when it is bound, loses it when it ends, learns a new one through a
// snapshot after a gap in b's events, and drops everything of b when b's
// heartbeats stop (b's NATS connection cut without a goodbye).
func TestDirectoryFollowsDevicesAndNodes(t *testing.T) {
	na, nb := startNodes(t)
	bob := jid.MustParse("bob@localhost/phone")
	probe := &probeDevice{full: bob, got: make(chan time.Time, 16)}
	nb.reg.Add(probe)
	nb.Up(probe)
	waitFor(t, "bob's device on node a", func() bool { return na.reg.Device(bob) != nil })
	if d := na.reg.Device(bob); !router.IsRemote(d) || d.(router.RemoteDevice).Node() != "b" || !d.Available() {
		t.Fatalf("node a's view of bob: %#v", d)
	}
	proxy := na.reg.Device(bob)
	proxy.Deliver(probeMessage(), "bob@localhost", 1)
	select {
	case <-probe.got:
	case <-time.After(10 * time.Second):
		t.Fatal("a delivery through the proxy never reached node b's device")
	}

	nb.Down(probe)
	waitFor(t, "bob's device gone from node a", func() bool { return na.reg.RemoteLen() == 0 })

	// A gap: carol's event is numbered as if one had been lost; node a
	// applies it and asks b for a snapshot, which also brings dave.
	carol := &probeDevice{full: jid.MustParse("carol@localhost/pc"), got: make(chan time.Time, 1)}
	dave := &probeDevice{full: jid.MustParse("dave@localhost/pc"), got: make(chan time.Time, 1)}
	nb.mu.Lock()
	nb.local[dave.full.String()] = dave // known to b, never announced
	nb.seq++
	nb.mu.Unlock()
	nb.Up(carol)
	waitFor(t, "carol and dave on node a (event, then snapshot)", func() bool {
		return na.reg.Device(carol.full) != nil && na.reg.Device(dave.full) != nil
	})

	nb.nc.Close() // b dies: no goodbye, no heartbeats
	waitFor(t, "node b expired on node a", func() bool { return na.reg.RemoteLen() == 0 && len(na.Members()) == 1 })
}

func probeMessage() *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", "bob@localhost", "id", strconv.FormatInt(time.Now().UnixNano(), 10))
	return m
}

// TestSnapshotInParts: a node with more devices than one NATS message
// holds (NATS's default max_payload, 1 MiB, in these tests) sends its
// snapshot in parts; a starting node applies it whole (a snapshot in
// parts is applied only once all its parts arrived).
func TestSnapshotInParts(t *testing.T) {
	na, _ := startNodes(t)
	const devices = 1500 // ~1.4 MB of JIDs: 6 parts of 256 KiB, over NATS's default 1 MiB payload
	na.mu.Lock()
	for i := range devices {
		d := &probeDevice{full: jid.MustParse(fmt.Sprintf("%s%d@localhost/pc", strings.Repeat("u", 900), i))}
		na.local[d.full.String()] = d
	}
	parts := na.snapshotLocked()
	na.mu.Unlock()
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	nc, err := Start(context.Background(), Config{NodeID: "c", URLs: na.nc.ConnectedUrl(),
		Heartbeat: 100 * time.Millisecond, Registry: router.NewRegistry(), Codec: xmlCodec{}, Log: na.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	// Usually the hello's answer; on a loaded machine (the race detector,
	// other tests) it may come after the hello's quiet period, with the
	// sync that node a's next heartbeat starts: in parts all the same.
	waitFor(t, fmt.Sprintf("the starting node to know all %d of node a's devices (%d parts)", devices, len(parts)), func() bool {
		return nc.reg.RemoteLen() == devices
	})
}

// TestCloseIsNoLostConnection: closing a node (a clean shutdown, here on
// the embedded NATS server of --nats embedded) logs the NATS connection's
// end at debug level, not the warning of a lost connection.
func TestCloseIsNoLostConnection(t *testing.T) {
	e, err := StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var logs logbuf.Buffer
	n, err := Start(context.Background(), Config{NodeID: "a", Options: []nats.Option{e.Option()}, Registry: router.NewRegistry(),
		Codec: xmlCodec{}, Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	waitFor(t, "the NATS connection's end in the log", func() bool { return strings.Contains(logs.String(), "NATS connection") })
	if got := logs.String(); !strings.Contains(got, `level=DEBUG msg="cluster: NATS connection closed"`) || strings.Contains(got, "WARN") {
		t.Errorf("a clean close logged:\n%s", got)
	}
}
