package router

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// unheldDevice is a device of the test: only its address matters.
type unheldDevice struct{ full jid.JID }

func (d *unheldDevice) JID() jid.JID                                 { return d.full }
func (d *unheldDevice) Send(*stanza.Element) bool                    { return true }
func (d *unheldDevice) Available() bool                              { return true }
func (d *unheldDevice) Priority() int                                { return 0 }
func (d *unheldDevice) Presence() *stanza.Element                    { return nil }
func (d *unheldDevice) LastStatus() string                           { return "" }
func (d *unheldDevice) RosterRequested() bool                        { return false }
func (d *unheldDevice) SetRosterRequested()                          {}
func (d *unheldDevice) Deliver(*stanza.Element, string, uint64) bool { return true }

// TestUnheldCountFollowsThePositions: whatever happens to a user's
// positions of a log (handed to some of its devices, released by them,
// acknowledged, written to its queue, in any order and more than once),
// its count of positions that no device holds and no queue has equals
// what a scan of its positions finds. RouteLogged asks that count, at
// every wave, whether the user's next copies must go through its queue.
func TestUnheldCountFollowsThePositions(t *testing.T) {
	const key = "groups.localhost"
	r := &Router{}
	tr := r.log(key)
	rng := rand.New(rand.NewPCG(1, 2))
	var users []jid.JID
	var devices [][]Device
	for u := range 3 {
		bare := jid.MustParse(fmt.Sprintf("u%d@localhost", u))
		users = append(users, bare)
		devices = append(devices, []Device{
			&unheldDevice{full: jid.MustParse(bare.String() + "/phone")},
			&unheldDevice{full: jid.MustParse(bare.String() + "/laptop")},
		})
	}
	msg := stanza.NewElement(stanza.NSClient, "message")
	var seq, qseq uint64
	counts := map[string]int{}
	for step := range 20000 {
		u := rng.IntN(len(users))
		d := devices[u][rng.IntN(2)]
		some := func() []uint64 { // a few positions, some never handed to u
			out := make([]uint64, 1+rng.IntN(3))
			for i := range out {
				out[i] = seq - min(seq, rng.Uint64N(8)) // recent ones mostly: those are still there
			}
			return out
		}
		switch op := rng.IntN(4); op {
		case 0:
			seq++
			targets := devices[u][:1+rng.IntN(2)]
			if rng.IntN(2) == 0 {
				targets = devices[u][1:]
			}
			if tr.hold(users[u], []*stanza.Element{msg}, []uint64{seq}, append([]Device(nil), targets...)) {
				counts["handed"]++
			} else {
				counts["refused: an unheld position waits"]++
			}
		case 1:
			seqs := some()
			r.LogReleased(d, key, seqs)
			if rng.IntN(2) == 0 { // by both devices: nobody holds them now
				r.LogReleased(devices[u][0], key, seqs)
				r.LogReleased(devices[u][1], key, seqs)
			}
			counts["released"]++
		case 2:
			r.LogAcked(d, key, some())
			counts["acknowledged"]++
		case 3:
			ps := tr.unqueued(users[u])
			tr.queued(users[u], ps, qseq+1)
			qseq += uint64(len(ps))
			counts["queued"]++
		}
		for user, ul := range tr.users {
			scanned := 0
			for i := range ul.entries {
				if ul.entries[i].isUnheld() {
					scanned++
				}
			}
			if ul.unheld != scanned {
				t.Fatalf("step %d: %v counts %d unheld positions, a scan finds %d", step, user, ul.unheld, scanned)
			}
		}
	}
	t.Logf("operations: %v", counts)
	if counts["refused: an unheld position waits"] == 0 {
		t.Fatal("no wave was refused for an unheld position: the test never reached that state")
	}
}
