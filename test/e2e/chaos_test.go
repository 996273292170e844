package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/xmpptest"
)

// TestChaosKill9UnderLoad sends messages continuously while the server is
// killed with kill -9 at random moments and restarted, PARLEY_CHAOS_KILLS
// times (3 by default, so that CI stays short; the long form is
// PARLEY_CHAOS_KILLS=25, see docs/benchmarks.md). Afterwards every message
// the server acknowledged is delivered exactly once, nothing is delivered
// twice, the order holds, and the store opens cleanly each time.
func TestChaosKill9UnderLoad(t *testing.T) {
	kills := 3
	if v, err := strconv.Atoi(os.Getenv("PARLEY_CHAOS_KILLS")); err == nil && v > 0 {
		kills = v
	}
	data := t.TempDir()
	parley(t, "user", "add", "alice@localhost", "--password", "pw-alice", "--data", data)
	parley(t, "user", "add", "bob@localhost", "--password", "pw-bob", "--data", data)
	c2s := freeAddr(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	next := 1            // the number of the next message
	var mustArrive []int // numbers the server acknowledged
	for round := range kills {
		srv := startServe(t, data, c2s)
		acked, sent := sendUntilKilled(t, c2s, srv, next, time.Duration(50+rng.IntN(400))*time.Millisecond)
		mustArrive = append(mustArrive, numbers(next, acked)...)
		next += sent // the unacknowledged ones may or may not have been stored
		t.Logf("round %d: %d messages acknowledged before kill -9", round+1, acked)
	}

	srv := startServe(t, data, c2s)
	got := drain(t, c2s)
	srv.stop(t)
	seen := map[int]bool{}
	for i, n := range got {
		if seen[n] {
			t.Fatalf("message %d delivered twice", n)
		}
		seen[n] = true
		if i > 0 && n < got[i-1] {
			t.Fatalf("message %d after %d: out of order", n, got[i-1])
		}
	}
	for _, n := range mustArrive {
		if !seen[n] {
			t.Fatalf("message %d was acknowledged as sent but never delivered (%d acked, %d delivered)", n, len(mustArrive), len(got))
		}
	}
	if len(mustArrive) == 0 {
		t.Fatal("no message was acknowledged in any round: the test proved nothing")
	}
	t.Logf("%d kills: %d messages acknowledged, %d delivered, 0 lost, 0 duplicated, 0 reordered", kills, len(mustArrive), len(got))
}

// sendUntilKilled sends numbered messages from alice (with stream
// management) until the server is killed after d, and returns how many of
// them the server acknowledged and how many were sent.
func sendUntilKilled(t *testing.T, c2s string, srv *serverProc, first int, d time.Duration) (acked, sent int) {
	alice, err := xmpptest.Connect(t, c2s, xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "phone", EnableSM: true})
	if err != nil {
		log, _ := os.ReadFile(srv.log)
		t.Fatalf("connecting alice: %v; the server's log:\n%s", err, log)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := first; ; n++ {
			select {
			case <-stop:
				sent = n - first
				return
			default:
			}
			alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'><body>%d</body></message><r xmlns='urn:xmpp:sm:3'/>", n, n))
			if (n-first)%50 == 49 {
				time.Sleep(time.Millisecond) // let acks flow back
			}
		}
	}()
	h := 0
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		h = max(h, latestAck(alice, 5*time.Millisecond))
	}
	srv.kill()
	close(stop)
	wg.Wait()
	h = max(h, latestAck(alice, 50*time.Millisecond)) // acks already on their way
	alice.Drop()
	return h, sent
}

func numbers(first, count int) []int {
	out := make([]int, count)
	for i := range out {
		out[i] = first + i
	}
	return out
}

// drain logs bob in and returns the numbers of every message he gets.
func drain(t *testing.T, c2s string) []int {
	bob := xmpptest.Dial(t, c2s, xmpptest.Options{User: "bob", Password: "pw-bob", Resource: "phone"})
	defer bob.Close()
	bob.SendRaw("<presence/>")
	var got []int
	for el := bob.Next(5 * time.Second); el != nil; el = bob.Next(2 * time.Second) {
		if el.Name == "message" {
			n, err := strconv.Atoi(el.Body())
			if err != nil {
				t.Fatalf("unexpected message %v", el)
			}
			got = append(got, n)
		}
	}
	return got
}
