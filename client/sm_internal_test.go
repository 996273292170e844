package client

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestSMTicksMatchAModel drives smState with random sends (messages and
// other stanzas), explicit acks (in order and out of order, some twice) and
// stream-management acks, against a plain model: each message gets exactly
// one Sent tick, whichever ack comes first.
func TestSMTicksMatchAModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var m smState
	type entry struct {
		id     string
		ticked bool
	}
	var model []entry
	ticks := map[string]int{}
	next := 0
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 4: // send a message, or a presence (no tick)
			id := ""
			el := stanza.NewElement(stanza.NSClient, "presence")
			if rng.IntN(4) > 0 {
				id = "m" + strconv.Itoa(next)
				next++
				el = stanza.NewElement(stanza.NSClient, "message", "id", id)
			}
			m.track(el)
			model = append(model, entry{id: id})
		case op < 8 && len(model) > 0: // an explicit ack, usually of the oldest not ticked
			i := rng.IntN(len(model))
			if rng.IntN(5) > 0 {
				for j, e := range model {
					if e.id != "" && !e.ticked {
						i = j
						break
					}
				}
			}
			want := model[i].id != "" && !model[i].ticked
			if got := m.tick(model[i].id); got != want {
				t.Fatalf("step %d: tick(%q) = %v, want %v", step, model[i].id, got, want)
			}
			if want {
				model[i].ticked = true
				ticks[model[i].id]++
			}
		case len(model) > 0: // a stream-management ack of the n oldest
			n := rng.IntN(len(model) + 1)
			var want []string
			for _, e := range model[:n] {
				if e.id != "" && !e.ticked {
					want = append(want, e.id)
				}
			}
			got := m.acked(m.outAck + uint32(n))
			if fmtIDs(got) != fmtIDs(want) {
				t.Fatalf("step %d: acked(%d) = %v, want %v", step, n, got, want)
			}
			for _, id := range got {
				ticks[id]++
			}
			model = model[n:]
		}
	}
	for id, n := range ticks {
		if n != 1 {
			t.Fatalf("%s ticked %d times", id, n)
		}
	}
}

func fmtIDs(ids []string) string {
	s := ""
	for _, id := range ids {
		s += id + ","
	}
	return s
}

// TestARefusalCountsOnlyForAMessageInFlight: the server's error answer to
// a message in flight withholds its Sent tick; an error with the id of a
// message the server already acknowledged (a contact can send one with
// any id it saw), or of no message of ours, changes nothing and is no
// refusal.
func TestARefusalCountsOnlyForAMessageInFlight(t *testing.T) {
	m := smState{enabled: true}
	m.track(stanza.NewElement(stanza.NSClient, "message", "id", "stored"))
	if ids := m.acked(1); len(ids) != 1 || ids[0] != "stored" {
		t.Fatalf("ack of the first message: ticks %v", ids)
	}
	if m.refused("stored") {
		t.Fatal("an error for a message already acknowledged counted as its refusal")
	}
	if m.refused("never-sent") {
		t.Fatal("an error for an id never sent counted as a refusal")
	}
	m.track(stanza.NewElement(stanza.NSClient, "message", "id", "bounced"))
	m.track(stanza.NewElement(stanza.NSClient, "message", "id", "fine"))
	if !m.refused("bounced") {
		t.Fatal("the server's error for a message in flight did not count")
	}
	if ids := m.acked(3); len(ids) != 1 || ids[0] != "fine" {
		t.Fatalf("the ack covering a refused and a stored message ticked %v, want [fine]", ids)
	}
}

// TestARefusedMessageIsNotSentAgain: after a connection drops, a fresh
// login sends again what the server did not acknowledge, but not a
// message it refused (its MessageFailed was given; sent again it could be
// delivered under a ✗).
func TestARefusedMessageIsNotSentAgain(t *testing.T) {
	m := smState{enabled: true}
	for _, id := range []string{"bounced", "unacked"} {
		m.track(stanza.NewElement(stanza.NSClient, "message", "id", id))
	}
	m.refused("bounced")
	again := m.takeUnacked()
	if len(again) != 1 || again[0].ID() != "unacked" {
		ids := []string{}
		for _, el := range again {
			ids = append(ids, el.ID())
		}
		t.Fatalf("sent again after a fresh login: %v, want [unacked]", ids)
	}
}
