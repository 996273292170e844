package mam

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func msg(typ string, children ...*stanza.Element) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", "bob@example.org", "from", "alice@example.org/a")
	if typ != "" {
		m.SetAttr("type", typ)
	}
	for _, c := range children {
		m.AddChild(c)
	}
	return m
}

func TestArchivable(t *testing.T) {
	body := text(stanza.NSClient, "body", "hi")
	for _, tc := range []struct {
		name string
		m    *stanza.Element
		want bool
	}{
		{"chat with body", msg("chat", body), true},
		{"normal with body", msg("", body), true},
		{"normal with body, explicit", msg("normal", body), true},
		{"chat without body", msg("chat", text(stanza.NSReceipts, "received", "")), false},
		{"groupchat", msg("groupchat", body), false},
		{"headline", msg("headline", body), false},
		{"error", msg("error", body), false},
		{"no-store", msg("chat", body, stanza.NewElement(stanza.NSHints, "no-store")), false},
		{"no-permanent-store", msg("chat", body, stanza.NewElement(stanza.NSHints, "no-permanent-store")), false},
		{"store hint without body", msg("chat", stanza.NewElement(stanza.NSHints, "store")), true},
		{"call proposal (XEP-0353)", msg("chat", stanza.NewElement(stanza.NSJingleMessage, "propose")), true},
		{"call proposal with no-store", msg("chat", stanza.NewElement(stanza.NSJingleMessage, "propose"), stanza.NewElement(stanza.NSHints, "no-store")), false},
	} {
		if got := Archivable(tc.m); got != tc.want {
			t.Errorf("%s: Archivable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParsePrefs(t *testing.T) {
	el := stanza.NewElement(NS, "prefs", "default", "roster")
	el.AddChild(stanza.NewElement(NS, "always").AddChild(text(NS, "jid", "Bob@example.org/x")))
	el.AddChild(stanza.NewElement(NS, "never").AddChild(text(NS, "jid", "spam@example.org")))
	p, err := parsePrefs(el)
	if err != nil || p.Default != Roster || len(p.Always) != 1 || p.Always[0] != "bob@example.org" || p.Never[0] != "spam@example.org" {
		t.Fatalf("parsePrefs = %+v, %v", p, err)
	}
	if back, _ := parsePrefs(prefsElement(p)); back.Default != p.Default || back.Always[0] != p.Always[0] || back.Never[0] != p.Never[0] {
		t.Fatalf("round trip = %+v", back)
	}
	if _, err := parsePrefs(stanza.NewElement(NS, "prefs", "default", "sometimes")); err == nil {
		t.Fatal("default 'sometimes' accepted")
	}
}

func TestClockIsStrictlyIncreasingMicroseconds(t *testing.T) {
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)
	f, _ := New(nil, nil, Options{Default: Always, DefaultPage: 1, MaxPage: 1, Now: func() time.Time { return fixed }})
	a, b := f.now(), f.now()
	if !a.Equal(fixed.Truncate(time.Microsecond)) || !b.Equal(a.Add(time.Microsecond)) {
		t.Fatalf("now() = %v then %v", a, b)
	}
}

// sweepStore records DeleteArchiveBefore calls; nothing else is used.
type sweepStore struct {
	store.Archive
	cutoffs []time.Time
	left    int
}

func (s *sweepStore) GetRosterItem(context.Context, string, string) (store.RosterItem, error) {
	return store.RosterItem{}, store.ErrNotFound
}

func (s *sweepStore) DeleteArchiveBefore(_ context.Context, cutoff time.Time, limit int) (int, error) {
	s.cutoffs = append(s.cutoffs, cutoff)
	n := min(limit, s.left)
	s.left -= n
	return n, nil
}

func TestSweepDeletesInBatchesUpToTheCutoff(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	st := &sweepStore{left: 2*sweepBatch + 3}
	f, _ := New(st, nil, Options{Default: Always, DefaultPage: 1, MaxPage: 1, Retention: 24 * time.Hour, Now: func() time.Time { return now }})
	n, err := f.Sweep(context.Background())
	if err != nil || n != 2*sweepBatch+3 || len(st.cutoffs) != 3 || !st.cutoffs[0].Equal(now.Add(-24*time.Hour)) {
		t.Fatalf("Sweep = %d, %v; cutoffs %v", n, err, st.cutoffs)
	}
	off, _ := New(st, nil, DefaultOptions())
	if n, _ := off.Sweep(context.Background()); n != 0 || len(st.cutoffs) != 3 {
		t.Fatal("Sweep with no retention deleted something")
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{
		{Default: "sometimes", DefaultPage: 1, MaxPage: 1},
		{Default: Always, DefaultPage: 0, MaxPage: 1},
		{Default: Always, DefaultPage: 10, MaxPage: 5},
		{Default: Always, DefaultPage: 1, MaxPage: 1, Retention: -time.Hour},
	} {
		if o.Validate() == nil {
			t.Errorf("%+v: valid", o)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
}

// prefsStore counts preference reads.
type prefsStore struct {
	store.Archive
	prefs map[string]store.ArchivePrefs
	reads int
}

func (s *prefsStore) GetArchivePrefs(_ context.Context, user string) (store.ArchivePrefs, error) {
	s.reads++
	return s.prefs[user], nil
}

func (s *prefsStore) SetArchivePrefs(_ context.Context, user string, p store.ArchivePrefs) error {
	s.prefs[user] = p
	return nil
}

func TestPrefsCacheReadsOncePerTTLAndWritesThrough(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	st := &prefsStore{prefs: map[string]store.ArchivePrefs{"bob@x": {Default: Never}}}
	c := newPrefsCache(st, func() time.Time { return now })
	for range 3 {
		if p, _ := c.get(context.Background(), "bob@x"); p.Default != Never {
			t.Fatalf("get = %+v", p)
		}
	}
	if st.reads != 1 {
		t.Fatalf("%d store reads for 3 gets", st.reads)
	}
	if err := c.set(context.Background(), "bob@x", store.ArchivePrefs{Default: Roster}); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.get(context.Background(), "bob@x"); p.Default != Roster || st.reads != 1 {
		t.Fatalf("after set: %+v, %d reads", p, st.reads)
	}
	now = now.Add(prefsTTL)
	st.prefs["bob@x"] = store.ArchivePrefs{Default: Always} // changed behind the cache
	if p, _ := c.get(context.Background(), "bob@x"); p.Default != Always || st.reads != 2 {
		t.Fatalf("after the TTL: %+v, %d reads", p, st.reads)
	}
	for i := range prefsShards * prefsPerShard * 2 {
		c.put(fmt.Sprintf("u%d@x", i), store.ArchivePrefs{}, now)
	}
	for i := range c.shards {
		if n := len(c.shards[i].m); n > prefsPerShard {
			t.Fatalf("shard %d holds %d entries", i, n)
		}
	}
}
