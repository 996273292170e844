package session

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/proccpu"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// BenchmarkLiveWave measures what a wave of group posts costs the live
// members' sessions once the fan-out hands it over (Router.RouteLogged):
// the hand-over to each member's mailbox, its runner writing the copies
// (XML, to a transport that counts and discards) and the write
// acknowledging them (no stream management). One op is one delivery.
// per-copy hands each copy as an item of its own (Deliver), as before
// Session.DeliverLog; wave hands a member its copies of a wave at once.
//
//	go test ./internal/session -run '^$' -bench LiveWave -benchmem
func BenchmarkLiveWave(b *testing.B) {
	for _, mode := range []string{"per-copy", "wave"} {
		for _, posts := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/posts=%d", mode, posts), func(b *testing.B) { benchLiveWave(b, mode == "wave", posts) })
		}
	}
}

func benchLiveWave(b *testing.B, whole bool, posts int) {
	const members = 256
	r, _, trs, all := liveMembers(b, members, whole)
	msgs := make([]*stanza.Element, posts)
	for i := range msgs {
		msgs[i] = stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "g@groups.example.org/alice@example.org", "type", "groupchat", "to", "m@example.org").
			AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "Hello, this is a typical group message of about a hundred bytes in length, sent to everyone!"})
	}
	var seq uint64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), proccpu.Now()
	for done := 0; done < b.N; done += members * posts {
		seqs := make([]uint64, posts)
		for i := range seqs {
			seq++
			seqs[i] = seq
		}
		for i := range all {
			all[i].Msgs, all[i].Seqs = msgs, seqs
		}
		if serr := r.RouteLogged(context.Background(), testLog, all); serr != nil {
			b.Fatal(serr)
		}
		for _, ok := r.LogLowWater(testLog); ok; _, ok = r.LogLowWater(testLog) {
			time.Sleep(20 * time.Microsecond) // until every member's write acknowledged the wave
		}
	}
	el, cpu := time.Since(start), proccpu.Now()-cpu0
	b.StopTimer()
	var writes int64
	for _, t := range trs {
		writes += t.writes.Load()
	}
	deliveries := float64(seq) * members
	b.ReportMetric(deliveries/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/deliveries, "cpu-ns/delivery")
	b.ReportMetric(float64(writes)/deliveries, "writes/delivery")
}

// liveMembers is n members' active sessions (no stream management)
// registered with a router, their transports, and the wave's Stored for
// each; with whole false each session is registered as a plain
// router.Device (no DeliverLog).
func liveMembers(b *testing.B, n int, whole bool) (*router.Router, []*Session, []*countingTransport, []router.Stored) {
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := router.NewRegistry()
	r := router.New(router.Config{Domain: "example.org", Registry: reg, Queue: st, Codec: testXMLCodec{}, Users: everyUser{}, Log: logger})
	cfg := &Config{Domain: "example.org", Queue: st, Codec: testXMLCodec{}, Now: time.Now, MailboxSize: 1024, Logs: r, Log: logger}
	ss := make([]*Session, n)
	trs := make([]*countingTransport, n)
	all := make([]router.Stored, n)
	for i := range trs {
		trs[i] = &countingTransport{}
		full := jid.MustParse(fmt.Sprintf("m%04d@example.org/phone", i))
		s := New(context.Background(), cfg, nil, full, trs[i])
		ss[i] = s
		s.state, s.initialDone = stateActive, true
		s.available.Store(true)
		if whole {
			reg.Add(s)
		} else {
			reg.Add(perCopyDevice{s})
		}
		all[i].To = full.Bare()
	}
	return r, ss, trs, all
}

// perCopyDevice hides Session.DeliverLog from the router.
type perCopyDevice struct{ router.Device }

// countingTransport counts the session's writes and discards them.
type countingTransport struct{ writes atomic.Int64 }

func (t *countingTransport) AppendElement(dst []byte, e *stanza.Element) []byte {
	return xmlstream.AppendElement(dst, e, stanza.NSClient)
}
func (t *countingTransport) AppendClose(dst []byte, _ *stanza.StreamError) []byte { return dst }
func (t *countingTransport) Write([]byte) error                                   { t.writes.Add(1); return nil }
func (t *countingTransport) Close() error                                         { return nil }
