package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

func history(t *testing.T, c *client.Client, q client.HistoryQuery) client.HistoryPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := c.History(ctx, q)
	if err != nil {
		t.Fatalf("%s: History(%+v): %v", c.JID(), q, err)
	}
	return p
}

func stanzaIDs(ms []client.HistoryMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.StanzaID
	}
	return out
}

// checkPage compares a page with want (stanza-ids), its paging fields and
// completeness.
func checkPage(t *testing.T, p client.HistoryPage, want []string, index, count int, complete bool) {
	t.Helper()
	got := stanzaIDs(p.Messages)
	if !slices.Equal(got, want) || p.Index != index || p.Count != count || p.Complete != complete ||
		p.First != want[0] || p.Last != want[len(want)-1] {
		t.Fatalf("page %v index=%d count=%d complete=%v first=%s last=%s\nwant %v index=%d count=%d complete=%v",
			got, p.Index, p.Count, p.Complete, p.First, p.Last, want, index, count, complete)
	}
}

// TestHistoryAfterOfflineDeliveryHasTheSameStanzaIDs: alice sends bob 25
// messages while he is offline; bob logs in, gets them from the offline
// queue, then syncs the archive: pages of 10, 10 and 5 forward, and 10, 10,
// 5 backward from the newest, carry exactly the stanza-ids he already has,
// so he drops every one as a duplicate. Alice's own archive holds the same
// ids (her binary "sent" acks named them). Both encodings.
func TestHistoryAfterOfflineDeliveryHasTheSameStanzaIDs(t *testing.T) {
	for _, enc := range []struct {
		name string
		opt  func(*servertest.Server) func(*client.Options)
	}{{"XML", func(*servertest.Server) func(*client.Options) { return xml }}, {"Binary", binary}} {
		t.Run(enc.name, func(t *testing.T) {
			srv := servertest.Start(t, nil)
			srv.AddUser(t, "alice@localhost", "pw-alice")
			srv.AddUser(t, "bob@localhost", "pw-bob")
			alice := dial(t, srv, "alice@localhost/phone", "pw-alice", enc.opt(srv))
			sent := map[string]string{} // message id -> stanza-id in alice's ack (binary only)
			var ids []string
			for i := range 25 {
				id, err := alice.SendMessage("bob@localhost", fmt.Sprintf("message %d", i))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			for _, id := range ids {
				sent[id] = next(t, alice, func(s *client.Sent) bool { return s.ID == id }).StanzaID
			}

			bob := dial(t, srv, "bob@localhost/phone", "pw-bob", enc.opt(srv))
			if err := bob.SetPresence("", ""); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			var offline []string
			for i := range 25 {
				m := next(t, bob, func(*client.Message) bool { return true })
				if m.Body != fmt.Sprintf("message %d", i) || m.StanzaID == "" || m.Delayed.IsZero() {
					t.Fatalf("offline message %d: %+v", i, m)
				}
				seen[m.StanzaID] = true
				offline = append(offline, m.StanzaID)
			}

			// Forward: 10, 10, 5, in order, complete on the last page.
			p1 := history(t, bob, client.HistoryQuery{Max: 10})
			checkPage(t, p1, offline[:10], 0, 25, false)
			p2 := history(t, bob, client.HistoryQuery{Max: 10, After: p1.Last})
			checkPage(t, p2, offline[10:20], 10, 25, false)
			p3 := history(t, bob, client.HistoryQuery{Max: 10, After: p2.Last})
			checkPage(t, p3, offline[20:], 20, 25, true)
			dups := 0
			for _, p := range []client.HistoryPage{p1, p2, p3} {
				for i, m := range p.Messages {
					if seen[m.StanzaID] {
						dups++ // the client drops it: it already has this message
					}
					if m.From != "alice@localhost/phone" || m.To != "bob@localhost" || m.ID == "" || m.Time.IsZero() ||
						m.Body != fmt.Sprintf("message %d", p.Index+i) {
						t.Fatalf("archived message %+v", m)
					}
				}
			}
			if dups != 25 {
				t.Fatalf("%d of 25 archived messages match an offline stanza-id", dups)
			}

			// Backward from the newest: 10, 10, 5.
			b1 := history(t, bob, client.HistoryQuery{Max: 10, Backward: true})
			checkPage(t, b1, offline[15:], 15, 25, false)
			b2 := history(t, bob, client.HistoryQuery{Max: 10, Before: b1.First})
			checkPage(t, b2, offline[5:15], 5, 25, false)
			b3 := history(t, bob, client.HistoryQuery{Max: 10, Before: b2.First})
			checkPage(t, b3, offline[:5], 0, 25, true)

			// Alice's archive: the same ids, with bob.
			a := history(t, alice, client.HistoryQuery{With: "bob@localhost", Max: 30})
			checkPage(t, a, offline, 0, 25, true)
			if enc.name == "Binary" {
				for i, m := range a.Messages {
					if sent[m.ID] != m.StanzaID || m.ID != ids[i] {
						t.Fatalf("alice's archive %d: %+v, her ack said stanza-id %q", i, m, sent[m.ID])
					}
				}
			}
		})
	}
}

// TestHistoryFiltersByPeerAndTime: carol's messages are kept apart from
// alice's; a time range selects.
func TestHistoryFiltersByPeerAndTime(t *testing.T) {
	srv := servertest.Start(t, nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		srv.AddUser(t, u+"@localhost", "pw-"+u)
	}
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	carol := dial(t, srv, "carol@localhost/phone", "pw-carol")
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	send := func(c *client.Client, body string) {
		id, err := c.SendMessage("bob@localhost", body)
		if err != nil {
			t.Fatal(err)
		}
		next(t, c, func(s *client.Sent) bool { return s.ID == id })
	}
	start := time.Now()
	for i := range 3 {
		send(alice, fmt.Sprintf("a%d", i))
		send(carol, fmt.Sprintf("c%d", i))
	}
	p := history(t, bob, client.HistoryQuery{With: "carol@localhost"})
	if len(p.Messages) != 3 || p.Count != 3 || !p.Complete || p.Messages[0].Body != "c0" || p.Messages[2].Body != "c2" {
		t.Fatalf("bob's history with carol: %+v", p)
	}
	p = history(t, bob, client.HistoryQuery{Start: start, End: time.Now().Add(time.Minute)})
	if p.Count != 6 {
		t.Fatalf("bob's history in a time range: %+v", p)
	}
	if p := history(t, bob, client.HistoryQuery{Start: time.Now().Add(time.Hour)}); p.Count != 0 || len(p.Messages) != 0 || !p.Complete {
		t.Fatalf("history in the future: %+v", p)
	}
	if p := history(t, carol, client.HistoryQuery{}); p.Count != 3 || p.Messages[0].To != "bob@localhost" {
		t.Fatalf("carol's own archive: %+v", p)
	}
}

// TestHistoryRefusedWithoutServerHistory: with --no-server-history the
// server keeps no archive and refuses the query.
func TestHistoryRefusedWithoutServerHistory(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.NoServerHistory = true })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	_, err := alice.History(context.Background(), client.HistoryQuery{})
	var iqErr *client.IQError
	if !errors.As(err, &iqErr) || iqErr.Condition != "service-unavailable" {
		t.Fatalf("History without server history: %v, want service-unavailable", err)
	}
}
