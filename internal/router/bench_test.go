package router_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// benchDevice is a connected, available device that counts what it is
// handed (the session actor's own cost is measured by the server
// benchmarks).
type benchDevice struct {
	full      jid.JID
	delivered atomic.Int64
}

func (d *benchDevice) JID() jid.JID              { return d.full }
func (d *benchDevice) Send(*stanza.Element) bool { d.delivered.Add(1); return true }
func (d *benchDevice) Available() bool           { return true }
func (d *benchDevice) Priority() int             { return 0 }
func (d *benchDevice) Presence() *stanza.Element { return nil }
func (d *benchDevice) LastStatus() string        { return "" }
func (d *benchDevice) RosterRequested() bool     { return false }
func (d *benchDevice) SetRosterRequested()       {}
func (d *benchDevice) Deliver(*stanza.Element, string, uint64) bool {
	d.delivered.Add(1)
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

// benchRouter is a router over a real, synced Pebble store with nOnline
// users connected (user0 ... user{n-1}@localhost/phone).
func benchRouter(b *testing.B, nOnline int) *router.Router {
	st, err := pebble.Open(b.TempDir(), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	reg := router.NewRegistry()
	for i := range nOnline {
		reg.Add(&benchDevice{full: jid.MustParse(fmt.Sprintf("user%d@localhost/phone", i))})
	}
	return router.New(router.Config{
		Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{}, Users: allUsers{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

func chat(to string, i int) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, "message")
	m.SetAttr("from", "sender@localhost/phone").SetAttr("to", to).SetAttr("type", "chat").SetAttr("id", fmt.Sprint(i))
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "Hello, this is a typical one-to-one chat message of about a hundred bytes in length!"
	m.AddChild(body)
	m.AddChild(stanza.NewElement(stanza.NSReceipts, "request"))
	return m
}

func typing(to string) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, "message")
	m.SetAttr("from", "sender@localhost/phone").SetAttr("to", to).SetAttr("type", "chat")
	m.AddChild(stanza.NewElement(stanza.NSChatStates, "composing"))
	return m
}

// BenchmarkRoute measures Router.Route from many concurrent senders (the
// way sessions call it): a chat message to an online user is stamped,
// synced to the queue (group commit) and handed over; to an offline user it
// is only synced; a chat state is never stored.
func BenchmarkRoute(b *testing.B) {
	const users = 1000
	cases := []struct {
		name string
		make func(i int) *stanza.Element
	}{
		{"message-to-online-user", func(i int) *stanza.Element { return chat(fmt.Sprintf("user%d@localhost", i%users), i) }},
		{"message-to-offline-user", func(i int) *stanza.Element { return chat(fmt.Sprintf("away%d@localhost", i%users), i) }},
		{"chat-state-to-online-user", func(i int) *stanza.Element { return typing(fmt.Sprintf("user%d@localhost", i%users)) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := benchRouter(b, users)
			var n atomic.Int64
			b.SetParallelism(32) // 32 senders per core, as many sessions do
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if err := r.Route(ctx, c.make(int(n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
