package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/cluster/natstest"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

type xmlCodec struct{}

func (xmlCodec) Encode(st *stanza.Element) []byte {
	return xmlstream.AppendElement(nil, st, stanza.NSClient)
}
func (xmlCodec) Decode(b []byte) (*stanza.Element, error) {
	return xmlstream.ParseElement(b, stanza.NSClient, xmlstream.DefaultLimits())
}

// probeDevice is an available device connected to the receiving node that
// notes when each stanza arrived (the session actor's own cost is measured
// by the server benchmarks).
type probeDevice struct {
	full jid.JID
	got  chan time.Time
}

func (d *probeDevice) JID() jid.JID              { return d.full }
func (d *probeDevice) Send(*stanza.Element) bool { return true }
func (d *probeDevice) Available() bool           { return true }
func (d *probeDevice) Priority() int             { return 0 }
func (d *probeDevice) Presence() *stanza.Element { return nil }
func (d *probeDevice) LastStatus() string        { return "" }
func (d *probeDevice) RosterRequested() bool     { return false }
func (d *probeDevice) SetRosterRequested()       {}
func (d *probeDevice) Deliver(st *stanza.Element, _ string, _ uint64) bool {
	ns, _ := strconv.ParseInt(st.ID(), 10, 64)
	d.got <- time.Unix(0, ns)
	return true
}

// startNodes starts two nodes, each on its own server of a two-server
// NATS cluster, and returns them once each knows the other.
func startNodes(tb testing.TB) (a, b *Node) {
	tb.Helper()
	ns := natstest.Cluster(tb, 2)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(id, url string) *Node {
		n, err := Start(context.Background(), Config{NodeID: id, URLs: url, Heartbeat: 100 * time.Millisecond,
			Registry: router.NewRegistry(), Codec: xmlCodec{}, Log: log})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(n.Close)
		return n
	}
	a, b = start("a", ns[0].URL), start("b", ns[1].URL)
	return a, b
}

// BenchmarkBusHop measures one stored message's hand-over between two
// nodes: the proxy on node a encodes it and publishes a route frame to
// NATS server 1, which routes it to server 2, node b decodes and checks
// it, finds the device and delivers. Messages are offered at 5,000/s (a
// paced sender, as parley bench); the latency percentiles are reported.
func BenchmarkBusHop(b *testing.B) {
	na, nb := startNodes(b)
	bob := jid.MustParse("bob@localhost/phone")
	probe := &probeDevice{full: bob, got: make(chan time.Time, 1<<16)}
	nb.reg.Add(probe)
	nb.Up(probe)
	deadline := time.Now().Add(10 * time.Second)
	for na.reg.Device(bob) == nil {
		if time.Now().After(deadline) {
			b.Fatal("node a never learnt bob's device")
		}
		time.Sleep(10 * time.Millisecond)
	}
	proxy := na.reg.Device(bob)
	const rate = 5000
	interval := time.Second / rate
	lat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			sent := <-probe.got
			lat = append(lat, time.Since(sent))
		}
	}()
	b.ResetTimer()
	next := time.Now()
	for i := range b.N {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", "bob@localhost", "from", "alice@localhost/phone",
			"type", "chat", "id", strconv.FormatInt(time.Now().UnixNano(), 10))
		body := stanza.NewElement(stanza.NSClient, "body")
		body.Text = fmt.Sprintf("message %d with a body of about a hundred bytes, as parley bench sends them.....", i)
		m.AddChild(body)
		proxy.Deliver(m, "bob@localhost", uint64(i+1))
	}
	<-done
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

// BenchmarkDirectoryMemory measures what the directory holds per remote
// device: the proxy in the registry, with its state and its presence (a
// typical one with caps, kept as the stanza tree features read). It
// applies one snapshot of 20,000 devices and reports the live heap growth
// per device.
func BenchmarkDirectoryMemory(b *testing.B) {
	const devices = 20000
	for range b.N {
		n := &Node{id: "a", reg: router.NewRegistry(), codec: xmlCodec{}, members: map[string]*member{},
			log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		n.metrics = newMetrics(nil, n)
		snap := control{Node: "b", Epoch: "e1", Seq: 1, Devs: make([]deviceState, devices)}
		for i := range snap.Devs {
			full := fmt.Sprintf("user%d@localhost/phone", i)
			snap.Devs[i] = deviceState{JID: full, Available: true, RosterRequested: true, Presence: "<presence from='" + full +
				"'><show>away</show><status>at work</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1'" +
				" node='https://parley.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>"}
		}
		before := heapInUse()
		n.applySnapshot(snap)
		snap.Devs = nil
		after := heapInUse()
		if n.reg.RemoteLen() != devices {
			b.Fatalf("%d remote devices", n.reg.RemoteLen())
		}
		b.ReportMetric(float64(after-before)/devices, "B/device")
		runtime.KeepAlive(n)
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
