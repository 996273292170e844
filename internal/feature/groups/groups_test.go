package groups

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func TestRecipientsJoinedBeforeAndTheRemoved(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	members := []store.GroupMember{
		{JID: "alice@x", Joined: t0},
		{JID: "bob@x", Joined: t0.Add(time.Second)},
		{JID: "late@x", Joined: t0.Add(time.Hour)},
	}
	m := stanza.NewElement(stanza.NSClient, "message")
	got := recipients(m, members, t0.Add(time.Second))
	if len(got) != 2 || got[0] != "alice@x" || got[1] != "bob@x" {
		t.Fatalf("recipients = %q", got)
	}
	m.AddChild(event("removed", "carol@x", "alice@x"))
	got = recipients(m, members, t0.Add(time.Second))
	if len(got) != 3 || got[2] != "carol@x" {
		t.Fatalf("recipients of a removal = %q", got)
	}
}

func TestGroupCopyStampsOnceAndDropsForgeries(t *testing.T) {
	f := New(nil, nil, Options{})
	f.service = "groups.x"
	m := stanza.NewElement(stanza.NSClient, "message", "type", "chat", "id", "a1", "to", "g1@groups.x")
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = "hi"
	m.AddChild(body).
		AddChild(stanza.NewElement(NS, "sender", "jid", "mallory@x")).
		AddChild(stanza.NewElement(NS, "event", "type", "removed", "jid", "bob@x")).
		AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", "forged", "by", "g1@groups.x")).
		AddChild(stanza.NewElement(stanza.NSReceipts, "received", "id", "zz")).
		AddChild(stanza.NewElement(stanza.NSMarkers, "markable"))
	c := f.groupCopy(m, "g1", jid.MustParse("alice@x"))
	if c.Type() != "groupchat" || c.Attr("from") != "g1@groups.x/alice@x" || c.ID() != "a1" || c.Attr("to") != "" {
		t.Fatalf("copy %v", c)
	}
	var senders, sids, events, receipts, markable int
	for _, ch := range c.Children {
		switch {
		case ch.Space == NS && ch.Name == "sender":
			senders++
			if ch.Attr("jid") != "alice@x" {
				t.Fatalf("sender %v", ch)
			}
		case ch.Space == NS && ch.Name == "event":
			events++
		case ch.Space == stanza.NSSID:
			sids++
			if ch.Attr("id") == "forged" {
				t.Fatalf("forged stanza-id kept: %v", c)
			}
		case ch.Space == stanza.NSReceipts:
			receipts++
		case ch.Space == stanza.NSMarkers:
			markable++
		}
	}
	if senders != 1 || sids != 1 || events != 0 || receipts != 0 || markable != 1 || c.Body() != "hi" {
		t.Fatalf("copy %v", c)
	}
	if groupStanzaID(c) == "" {
		t.Fatalf("no group stanza-id: %v", c)
	}
	shared := stanza.NewShared(c)
	mc := memberCopy(shared, "bob@x", groupStanzaID(c), &childRoom{})
	if mc.Attr("to") != "bob@x" || len(mc.Children) != len(c.Children)+1 {
		t.Fatalf("member copy %v", mc)
	}
	if mc.Shared != shared || !shared.Fits(mc) {
		t.Fatalf("the member copy is not encoded from the post's template: %v", mc)
	}
}

func TestReceiptBatcherWindowAndLimit(t *testing.T) {
	got := make(chan []receiptItem, 4)
	b := newReceiptBatcher(50*time.Millisecond, 3, func(_ batchKey, items []receiptItem) { got <- items })
	k := batchKey{sender: "alice@x", group: "g1"}
	for _, m := range []string{"bob@x", "carol@x", "dave@x"} {
		b.add(k, receiptItem{id: "a1", member: m})
	}
	if items := <-got; len(items) != 3 {
		t.Fatalf("a full batch: %d items", len(items))
	}
	b.add(k, receiptItem{id: "a1", member: "erin@x"})
	b.add(batchKey{sender: "bob@x", group: "g1"}, receiptItem{id: "b1", member: "alice@x"})
	for range 2 {
		select {
		case items := <-got:
			if len(items) != 1 {
				t.Fatalf("after the window: %d items", len(items))
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the window never ended")
		}
	}
}

func TestIDCacheForgetsTheOldest(t *testing.T) {
	c := newIDCache()
	for i := range stanzaIDCacheSize + 1 {
		c.put("g", fmt.Sprint("sid", i), fmt.Sprint("id", i))
	}
	if _, ok := c.get("g", "sid0"); ok {
		t.Fatal("the oldest entry is still there")
	}
	if id, ok := c.get("g", fmt.Sprint("sid", stanzaIDCacheSize)); !ok || id != fmt.Sprint("id", stanzaIDCacheSize) {
		t.Fatalf("the newest entry: %q %v", id, ok)
	}
	if _, ok := c.get("other", "sid1"); ok {
		t.Fatal("an entry of another group")
	}
}

// A member's copy of a usual post is about one allocation: its block
// (the copy, its attributes, its stanza-id), its children's slice coming
// from an array shared by copiesPerChildArray copies; a post with many
// attributes needs one more for them. A copy's children slice has no room
// beyond its own: appending to one copy never writes into another's.
func TestMemberCopyOfAUsualPostIsAboutOneAllocation(t *testing.T) {
	usual := benchPost("gid1")
	large := benchPost("gid2")
	for i := range 8 {
		large.SetAttr(fmt.Sprint("x", i), "y")
	}
	for _, c := range []struct {
		post   *stanza.Element
		allocs float64
	}{{usual, 1 + 1.0/copiesPerChildArray}, {large, 2 + 1.0/copiesPerChildArray}} {
		shared := stanza.NewShared(c.post)
		var kids childRoom
		mc := memberCopy(shared, "bob@x", "gid", &kids)
		next := memberCopy(shared, "carol@x", "gid", &kids)
		if mc.Attr("to") != "bob@x" || !shared.Fits(mc) || mc.Attr("from") != c.post.Attr("from") ||
			len(mc.Children) != len(c.post.Children)+1 || mc.Children[len(mc.Children)-1].Attr("by") != "bob@x" {
			t.Fatalf("member copy %v", mc)
		}
		mc.AddChild(stanza.NewElement("urn:x", "extra"))
		if len(next.Children) != len(c.post.Children)+1 || next.Children[len(next.Children)-1].Attr("by") != "carol@x" {
			t.Fatalf("the next copy's children changed when one was added to the first: %v", next)
		}
		n := testing.AllocsPerRun(10, func() {
			for range copiesPerChildArray * 4 {
				memberCopy(shared, "bob@x", "gid", &kids)
			}
		}) / (copiesPerChildArray * 4)
		if n > c.allocs {
			t.Fatalf("a copy of a post with %d attributes: %v allocations, want %v", len(c.post.Attrs), n, c.allocs)
		}
	}
}

// A wave costs no allocation per member besides the copies, with one post
// (the usual case below a few posts per second) or more: each member's
// first post comes with room for the group's posts of the wave, made for
// all of them at once. The members come out in first-seen order, each
// member's posts in order; a chunk's copies are made from them in that
// order, each addressed to its member, with about one allocation each.
func TestAWaveAllocatesNothingPerMember(t *testing.T) {
	const members = 1024
	names := make([]string, members)
	for i := range names {
		names[i] = fmt.Sprintf("m%04d@localhost", i)
	}
	var posts [2]postCopy
	for p := range posts {
		post := stanza.NewElement(stanza.NSClient, "message", "type", "groupchat", "id", fmt.Sprint(p))
		posts[p] = postCopy{shared: stanza.NewShared(post), gid: fmt.Sprint("gid", p)}
	}
	build := func(n int) *wave {
		w := newWave()
		for p, post := range posts[:n] {
			for i := range names {
				w.add(names[i], post, uint64(p+1), members-i, n-p)
			}
		}
		return w
	}
	w := build(2)
	if len(w.recipients) != members {
		t.Fatalf("%d recipients, want %d", len(w.recipients), members)
	}
	for i, r := range w.recipients {
		if r.member != names[i] || len(r.posts) != 2 || r.posts[0] != posts[0] || r.posts[1] != posts[1] ||
			len(r.seqs) != 2 || r.seqs[0] != 1 || r.seqs[1] != 2 {
			t.Fatalf("recipient %d: %s with %v", i, r.member, r.posts)
		}
	}
	ds := make([]module.StoredDelivery, members)
	makeCopies(ds, w.recipients, 2*members)
	for i, d := range ds {
		for p, c := range d.Msgs {
			if len(d.Msgs) != 2 || c.Shared != posts[p].shared || c.ID() != fmt.Sprint(p) || c.Attr("to") != names[i] ||
				c.Child(stanza.NSSID, "stanza-id").Attr("by") != names[i] || c.Child(stanza.NSSID, "stanza-id").Attr("id") != posts[p].gid {
				t.Fatalf("recipient %d: copies %v", i, d.Msgs)
			}
		}
	}
	if n := testing.AllocsPerRun(5, func() { makeCopies(ds, w.recipients, 2*members) }) / (2 * members); n > 1.2 {
		t.Fatalf("making a chunk's copies: %.2f allocations per copy", n)
	}
	for posts := 1; posts <= 2; posts++ {
		n := testing.AllocsPerRun(20, func() { build(posts) }) / members
		t.Logf("a wave of %d posts: %.3f allocations per member", posts, n)
		if n > 0.1 {
			t.Fatalf("a wave of %d posts: %.2f allocations per member", posts, n)
		}
	}
}
