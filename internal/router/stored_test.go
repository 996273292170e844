package router_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store/pebble"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// hookCall is one run of a message hook.
type hookCall struct {
	to       string
	ids      []string
	got      int   // devices handed the messages
	received int64 // what the device had been handed when the hook ran
}

// RouteStoredAll runs the message hooks once per recipient for all its
// messages (a group wave gives a member many copies: what the hooks need
// per recipient is then made once), after the recipient's devices were
// handed every one of them; without DeliveredAll, Delivered runs per
// message.
func TestRouteStoredAllRunsTheHooksOncePerRecipient(t *testing.T) {
	for _, all := range []bool{true, false} {
		st, err := pebble.Open(t.TempDir(), pebble.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reg := router.NewRegistry()
		bob := &benchDevice{full: jid.MustParse("bob@localhost/phone")}
		reg.Add(bob)
		var calls []hookCall
		cfg := router.Config{Domain: "localhost", Registry: reg, Queue: st, Codec: xmlCodec{}, Users: allUsers{},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		record := func(ms []*stanza.Element, to jid.JID, targets []router.Device) {
			c := hookCall{to: to.String(), got: len(targets), received: bob.delivered.Load()}
			for _, m := range ms {
				c.ids = append(c.ids, m.ID())
			}
			calls = append(calls, c)
		}
		cfg.Delivered = func(_ context.Context, m *stanza.Element, to jid.JID, targets []router.Device) {
			record([]*stanza.Element{m}, to, targets)
		}
		if all {
			cfg.DeliveredAll = func(_ context.Context, ms []*stanza.Element, to jid.JID, targets []router.Device) {
				record(ms, to, targets)
			}
		}
		r := router.New(cfg)
		msgs := func(to string) []*stanza.Element {
			var out []*stanza.Element
			for _, id := range []string{"p1", "p2", "p3"} {
				m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/alice@localhost", "type", "groupchat", "id", id, "to", to)
				out = append(out, m.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", id, "by", to)))
			}
			return out
		}
		serr := r.RouteStoredAll(context.Background(), []router.Stored{
			{To: jid.MustParse("bob@localhost"), Msgs: msgs("bob@localhost")},
			{To: jid.MustParse("carol@localhost"), Msgs: msgs("carol@localhost")},
		})
		_ = st.Close()
		if serr != nil {
			t.Fatal(serr)
		}
		want := []hookCall{{"bob@localhost", []string{"p1", "p2", "p3"}, 1, 3}, {"carol@localhost", []string{"p1", "p2", "p3"}, 0, 3}}
		if !all {
			want = []hookCall{{"bob@localhost", []string{"p1"}, 1, 3}, {"bob@localhost", []string{"p2"}, 1, 3}, {"bob@localhost", []string{"p3"}, 1, 3},
				{"carol@localhost", []string{"p1"}, 0, 3}, {"carol@localhost", []string{"p2"}, 0, 3}, {"carol@localhost", []string{"p3"}, 0, 3}}
		}
		if len(calls) != len(want) {
			t.Fatalf("DeliveredAll set: %v; hooks ran %d times: %+v, want %+v", all, len(calls), calls, want)
		}
		for i := range want {
			c, w := calls[i], want[i]
			if c.to != w.to || c.got != w.got || c.received != w.received || len(c.ids) != len(w.ids) {
				t.Fatalf("DeliveredAll set: %v; hook run %d: %+v, want %+v", all, i, c, w)
			}
			for j := range w.ids {
				if c.ids[j] != w.ids[j] {
					t.Fatalf("DeliveredAll set: %v; hook run %d: %+v, want %+v", all, i, c, w)
				}
			}
		}
	}
}

// appendCodec is xmlCodec as an AppendCodec that counts its calls.
type appendCodec struct {
	xmlCodec
	encoded, appended *int
}

func (c appendCodec) Encode(st *stanza.Element) []byte {
	*c.encoded++
	return c.xmlCodec.Encode(st)
}

func (c appendCodec) AppendEncoded(dst []byte, st *stanza.Element) []byte {
	*c.appended++
	return xmlstream.AppendElement(dst, st, stanza.NSClient)
}

// With a codec that appends, RouteStoredAll encodes the users' messages
// into shared buffers (not one allocation per copy), and each queue gets
// its own messages in order, intact, across several buffers and with
// payloads larger than the one before.
func TestRouteStoredAllEncodesIntoOneBuffer(t *testing.T) {
	st, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	var encoded, appended int
	codec := appendCodec{encoded: &encoded, appended: &appended}
	r := router.New(router.Config{Domain: "localhost", Registry: router.NewRegistry(), Queue: st, Codec: codec,
		Users: allUsers{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var all []router.Stored
	want := map[string][]string{}
	for u := range 5 {
		to := fmt.Sprintf("user%d@localhost", u)
		s := router.Stored{To: jid.MustParse(to)}
		for i := range 20 {
			m := stanza.NewElement(stanza.NSClient, "message", "from", "g@groups.localhost/a@localhost", "type", "groupchat", "to", to)
			body := stanza.NewElement(stanza.NSClient, "body")
			body.Text = strings.Repeat("x", u*100+i*37) // later copies larger than the first
			m.AddChild(body).AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", fmt.Sprint(i), "by", to))
			s.Msgs = append(s.Msgs, m)
			want[to] = append(want[to], string(xmlstream.AppendElement(nil, m, stanza.NSClient)))
		}
		all = append(all, s)
	}
	if serr := r.RouteStoredAll(context.Background(), all); serr != nil {
		t.Fatal(serr)
	}
	if encoded != 0 || appended != 100 {
		t.Fatalf("%d payloads encoded on their own, %d appended to the buffer; want 0 and 100", encoded, appended)
	}
	for to, w := range want {
		got, err := st.ReadQueue(context.Background(), to, 0, 0)
		if err != nil || len(got) != len(w) {
			t.Fatalf("%s: %d queued (%v), want %d", to, len(got), err, len(w))
		}
		for i := range w {
			if string(got[i].Payload) != w[i] {
				t.Fatalf("%s: queued %d = %s, want %s", to, i, got[i].Payload, w[i])
			}
		}
	}
}
