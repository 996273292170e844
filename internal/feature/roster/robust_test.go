package roster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func TestOptions(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("default options: %v", err)
	}
	for _, o := range []Options{{MaxItems: 0, MaxTextLen: 10}, {MaxItems: 10, MaxTextLen: 0}} {
		if _, err := NewWithOptions(newMemStore(), o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewWithOptions(%+v) = %v, want ErrInvalidOptions", o, err)
		}
	}
	if New(newMemStore()).Name() != "roster" {
		t.Error("unexpected name")
	}
}

func TestSubscribeWhenRosterFull(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	h.f.opts.MaxItems = 1
	st.PutRosterItem(context.Background(), alice, store.RosterItem{JID: carol, Subscription: store.SubNone})
	a := h.login("alice/phone")
	b := h.login("bob/laptop")
	drain(a, b)

	h.sendEl(a, presence("id", "s1", "type", "subscribe", "to", bob))
	e := a.expect(t, "presence", "type", "error", "id", "s1", "to", alice+"/phone")
	if se := stanza.ParseError(e); se == nil || se.Condition != stanza.PolicyViolation {
		t.Errorf("error %v, want policy-violation", e)
	}
	a.expectNothing(t)
	b.expectNothing(t)
}

// failingStore refuses writes.
type failingStore struct {
	*memStore
	err error
}

func (f failingStore) PutRosterItem(context.Context, string, store.RosterItem) (uint64, error) {
	return 0, f.err
}

func TestStoreFailures(t *testing.T) {
	h := newHost(t, failingStore{newMemStore(), fmt.Errorf("disk full: %w", store.ErrUnavailable)})
	a := h.login("alice/phone")
	var se *stanza.Error
	if err := h.setItem(a, nil, "jid", bob); !errors.As(err, &se) || se.Condition != stanza.ResourceConstraint {
		t.Errorf("set with the store unavailable: %v, want resource-constraint", err)
	}
	h.sendEl(a, presence("type", "subscribe", "to", bob))
	if e := a.expect(t, "presence", "type", "error"); stanza.ParseError(e).Condition != stanza.ResourceConstraint {
		t.Errorf("subscribe with the store unavailable: %v", e)
	}

	h = newHost(t, failingStore{newMemStore(), errors.New("boom")})
	a = h.login("alice/phone")
	if err := h.setItem(a, nil, "jid", bob); err == nil || errors.As(err, &se) {
		t.Errorf("set with a broken store: %v, want a plain error (internal-server-error)", err)
	}
	h.sendEl(a, presence("type", "subscribe", "to", bob))
	if e := a.expect(t, "presence", "type", "error"); stanza.ParseError(e).Condition != stanza.InternalServerError {
		t.Errorf("subscribe with a broken store: %v", e)
	}
}

// TestConcurrentHandshakes has every pair of users subscribe to each other
// and approve at the same time, in both directions. Whatever the
// interleaving (approval first is a pre-approval, later a grant), every
// pair must end in "both", and nothing may deadlock.
func TestConcurrentHandshakes(t *testing.T) {
	st := newMemStore()
	h := newHost(t, st)
	const n = 12
	users := make([]*fakeSession, n)
	for i := range users {
		users[i] = h.login(fmt.Sprintf("u%d/dev", i))
	}
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range users {
				if j == i {
					continue
				}
				to := users[j].jid.Bare().String()
				h.send(users[i], "presence", "type", "subscribe", "to", to)
				h.send(users[i], "presence", "type", "subscribed", "to", to)
			}
		}()
	}
	wg.Wait()
	for i := range users {
		for j := range users {
			if i == j {
				continue
			}
			it, ok := item(t, st, users[i].jid.Bare().String(), users[j].jid.Bare().String())
			if !ok || it.Subscription != store.SubBoth || it.AskOut || it.PendingIn || it.PreApproved || it.Hidden {
				t.Errorf("u%d's item for u%d = %+v (found %v), want both and nothing pending", i, j, it, ok)
			}
		}
	}
}
