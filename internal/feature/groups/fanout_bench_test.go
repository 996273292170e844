package groups

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/proccpu"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// BenchmarkDeliveryPath measures the fan-out's per-delivery path for a
// wave of 64 posts (or one) to a group of 1,024 online members: each post
// (memberPost) handed to each member's device with its log position
// (Router.RouteLogged through deliverAll, chunk by chunk), or, for a
// member with positions its devices dropped, its copy encoded and stored
// with one synced Pebble write per chunk of members. One op is one
// delivery; the devices only count (the session's writer is measured end to
// end by BenchmarkGroupFanOut in internal/server and by parley bench).
//
//	go test ./internal/feature/groups -run '^$' -bench DeliveryPath -benchmem
//
// posts=1 is a wave of one post, as at a few posts per second (parley
// bench's 20/s): the per-member costs of a wave are then per delivery.
func BenchmarkDeliveryPath(b *testing.B) {
	for _, posts := range []int{entriesPerRead, 1} {
		b.Run(fmt.Sprintf("posts=%d", posts), func(b *testing.B) { benchDeliveryPath(b, posts) })
	}
}

func benchDeliveryPath(b *testing.B, posts int) {
	const members = 1024
	f, devs := benchFeature(b, members)
	names := make([]string, members)
	for i := range names {
		names[i] = devs[i].full.Bare().String()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), proccpu.Now()
	var seq uint64
	for done := 0; done < b.N; done += members * posts {
		w := f.nextWave() // as the worker does
		for pi := range posts {
			gid := fmt.Sprintf("gid%d-%d", done, pi)
			p := memberPost(benchPost(gid))
			seq++
			for i := range members {
				w.add(names[i], p, seq, members-i, posts-pi)
			}
		}
		if !f.deliverAll(context.Background(), w) {
			b.Fatal("delivery failed")
		}
	}
	el, cpu := time.Since(start), proccpu.Now()-cpu0
	b.StopTimer()
	var got int64
	for _, d := range devs {
		got += d.delivered.Load()
	}
	b.ReportMetric(float64(got)/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(got), "cpu-ns/delivery")
}

// benchFeature is a feature delivering through a router (with a route
// filter that lets everything through) over a synced Pebble store to n
// online devices, which acknowledge what they are
// handed with a log position at once (as a device's <a/> would).
func benchFeature(b testing.TB, n int) (*Feature, []*countingDevice) {
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	reg := router.NewRegistry()
	devs := make([]*countingDevice, n)
	for i := range devs {
		devs[i] = &countingDevice{full: jid.MustParse(fmt.Sprintf("m%04d@localhost/phone", i))}
		reg.Add(devs[i])
	}
	r := router.New(router.Config{Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{},
		Users: allUsers{}, Filter: passAll, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, d := range devs {
		d.r = r
	}
	f := New(nil, xmlCodec{}, Options{})
	f.outbox = "groups.localhost"
	f.deliver, f.logs = routerDeliverer{r}, routerDeliverer{r}
	return f, devs
}

// passAll is a route filter that lets everything through: the server
// always has one (blocking, privacy lists), and RouteLogged's cost with a
// filter is what it pays.
func passAll(context.Context, *stanza.Element, jid.JID) (bool, *stanza.Error) { return true, nil }

func benchPost(gid string) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, "message", "from", "g1@groups.localhost/m0000@localhost", "type", "groupchat", "id", "abcdefghij")
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "Hello, this is a typical group message of about a hundred bytes in length, sent to everyone!"
	return m.AddChild(body).AddChild(stanza.NewElement(NS, "sender", "jid", "m0000@localhost")).
		AddChild(stanza.NewElement(stanza.NSMarkers, "markable")).
		AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", gid, "by", "g1@groups.localhost"))
}

type routerDeliverer struct{ r *router.Router }

func (d routerDeliverer) DeliverLogged(ctx context.Context, key string, ds []module.StoredDelivery) *stanza.Error {
	all := make([]router.Stored, len(ds))
	for i, x := range ds {
		all[i] = router.Stored{To: x.To, Msgs: x.Msgs, Seqs: x.Seqs}
	}
	return d.r.RouteLogged(ctx, key, all)
}

func (d routerDeliverer) SettleLog(ctx context.Context, key string) *stanza.Error {
	return d.r.SettleLog(ctx, key)
}
func (d routerDeliverer) LogLowWater(key string) (uint64, bool) { return d.r.LogLowWater(key) }
func (d routerDeliverer) OnLogReleased(key string, wake func()) { d.r.OnLogReleased(key, wake) }

func (d routerDeliverer) DeliverStored(ctx context.Context, ds []module.StoredDelivery) *stanza.Error {
	all := make([]router.Stored, len(ds))
	for i, x := range ds {
		all[i] = router.Stored{To: x.To, Msgs: x.Msgs}
	}
	return d.r.RouteStoredAll(ctx, all)
}

// countingDevice is an online device that counts what it is handed.
type countingDevice struct {
	full      jid.JID
	r         *router.Router
	delivered atomic.Int64
	last      atomic.Pointer[stanza.Element] // the last stanza handed
}

func (d *countingDevice) JID() jid.JID              { return d.full }
func (d *countingDevice) Send(*stanza.Element) bool { return true }
func (d *countingDevice) Available() bool           { return true }
func (d *countingDevice) Priority() int             { return 0 }
func (d *countingDevice) Presence() *stanza.Element { return nil }
func (d *countingDevice) LastStatus() string        { return "" }
func (d *countingDevice) RosterRequested() bool     { return false }
func (d *countingDevice) SetRosterRequested()       {}
func (d *countingDevice) Deliver(st *stanza.Element, key string, seq uint64) bool {
	d.delivered.Add(1)
	d.last.Store(st)
	if router.IsLogKey(key) {
		d.r.LogAcked(d, key, []uint64{seq})
	}
	return true
}

type xmlCodec struct{}

func (xmlCodec) Encode(st *stanza.Element) []byte {
	return xmlstream.AppendElement(nil, st, stanza.NSClient)
}
func (xmlCodec) AppendEncoded(dst []byte, st *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, st, stanza.NSClient)
}
func (xmlCodec) Decode(b []byte) (*stanza.Element, error) {
	return xmlstream.ParseElement(b, stanza.NSClient, xmlstream.DefaultLimits())
}

type allUsers struct{}

func (allUsers) UserExists(context.Context, jid.JID) (bool, error) { return true, nil }
