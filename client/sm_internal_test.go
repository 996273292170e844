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
