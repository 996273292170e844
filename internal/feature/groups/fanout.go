package groups

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// entriesPerRead is how many outbox entries the worker reads at once.
const entriesPerRead = 16

// retryAfter is how long the worker waits after a store error.
const retryAfter = time.Second

func newID() string { return strings.ToLower(rand.Text()[:16]) }

// Run fans out the group outbox until ctx is cancelled: what a previous
// run left first, then each new entry. Call it once, after Register.
func (f *Feature) Run(ctx context.Context) {
	for {
		if !f.drain(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryAfter):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
	}
}

// Hold stops the worker before its next entry until release is called
// (maintenance, and tests that stop the server with fan-out pending).
func (f *Feature) Hold() (release func()) {
	f.held.Store(true)
	return func() {
		f.held.Store(false)
		f.poke()
	}
}

// poke wakes the worker.
func (f *Feature) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// drain fans out every outbox entry; false after an error (the entry
// stays and is fanned out again).
func (f *Feature) drain(ctx context.Context) bool {
	for ctx.Err() == nil && !f.held.Load() {
		entries, err := f.st.ReadQueue(ctx, f.outbox, 0, entriesPerRead)
		if err != nil {
			f.log.Error("reading the group outbox", "err", err)
			return false
		}
		if len(entries) == 0 {
			return true
		}
		for _, e := range entries {
			// An entry begun is finished even at shutdown (the server waits
			// for Run before closing the store): no member gets it twice.
			if !f.fanOutEntry(context.WithoutCancel(ctx), e) {
				return false
			}
			if err := f.st.AckQueue(ctx, f.outbox, e.Seq); err != nil {
				f.log.Error("acking the group outbox", "err", err)
				return false
			}
		}
	}
	return ctx.Err() == nil
}

// fanOutEntry delivers one outbox entry to the group's members; false if
// it must be tried again.
func (f *Feature) fanOutEntry(ctx context.Context, e store.QueuedStanza) bool {
	m, err := f.codec.Decode(e.Payload)
	if err != nil {
		f.log.Error("undecodable group outbox entry dropped", "seq", e.Seq, "err", err)
		return true
	}
	from, err := m.From()
	if err != nil {
		return true
	}
	members, err := f.st.GroupMembers(ctx, from.Local())
	if errors.Is(err, store.ErrNotFound) {
		return true // the group is gone
	}
	if err != nil {
		f.log.Error("reading group members", "group", from.Local(), "err", err)
		return false
	}
	return f.deliverAll(ctx, m, recipients(m, members, e.Stored))
}

// recipients are the members who joined before the entry was stored, plus
// the subject of a removal or leave event (who learns of it too).
func recipients(m *stanza.Element, members []store.GroupMember, stored time.Time) []string {
	out := make([]string, 0, len(members)+1)
	for _, mem := range members {
		if !mem.Joined.After(stored) {
			out = append(out, mem.JID)
		}
	}
	if ev := m.Child(NS, "event"); ev != nil && (ev.Attr("type") == "removed" || ev.Attr("type") == "left") {
		out = append(out, ev.Attr("jid"))
	}
	return out
}

// deliverAll delivers m to each recipient, opts.Batch at a time
// concurrently (so that their durable enqueues share syncs); false if
// the store failed for one of them.
func (f *Feature) deliverAll(ctx context.Context, m *stanza.Element, to []string) bool {
	var failed bool
	var mu sync.Mutex
	for start := 0; start < len(to); start += f.opts.Batch {
		batch := to[start:min(start+f.opts.Batch, len(to))]
		var wg sync.WaitGroup
		for _, member := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if !f.deliverOne(ctx, m, member) {
					mu.Lock()
					failed = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if failed {
			return false
		}
	}
	return true
}

// deliverOne gives member its copy: addressed to it, with a stanza-id by
// its account equal to the group's (so that a copy delivered twice after
// a crash is recognized).
func (f *Feature) deliverOne(ctx context.Context, m *stanza.Element, member string) bool {
	to, err := jid.Parse(member)
	if err != nil {
		return true
	}
	c := m.Copy()
	c.SetAttr("to", member)
	c.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "id", groupStanzaID(m), "by", member))
	if serr := f.deliver.DeliverStored(ctx, c, to); serr != nil {
		if serr.Condition == stanza.InternalServerError {
			return false
		}
		// refused by a filter (blocking): this member does not get it
	}
	return true
}

// newToken returns a random invite token (128 bits, base32).
func newToken() string { return rand.Text() }
