package push

import (
	"testing"
	"time"
)

func TestThrottleCoalescesABurst(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	th := newThrottle(5*time.Second, time.Hour)

	// alice's first message is notified at once.
	n, now := th.add(at(0), "bob@x", "alice@x", "hi")
	if !now || n.count != 1 || n.sender != "alice@x" || n.user != "bob@x" {
		t.Fatalf("first message: %+v %v", n, now)
	}
	// A burst of 9 within the interval waits...
	for i := 1; i <= 9; i++ {
		sender := "alice@x"
		if i == 9 {
			sender = "carol@x"
		}
		if _, now := th.add(at(i*100), "bob@x", sender, "m"); now {
			t.Fatalf("message %d notified inside the interval", i)
		}
	}
	if due := th.due(at(4999)); len(due) != 0 {
		t.Fatalf("due before the interval ended: %+v", due)
	}
	// ...and is one notification when it ends: 10 messages, the last sender.
	due := th.due(at(5000))
	if len(due) != 1 || due[0].count != 10 || due[0].sender != "carol@x" {
		t.Fatalf("end of interval: %+v", due)
	}
	if due := th.due(at(20000)); len(due) != 0 {
		t.Fatalf("notified twice: %+v", due)
	}
	// Within the new interval (started at 5000) the next message waits.
	if _, now := th.add(at(6000), "bob@x", "alice@x", "m"); now {
		t.Fatal("notified inside the second interval")
	}
	if due := th.due(at(10000)); len(due) != 1 || due[0].count != 11 {
		t.Fatalf("second interval: %+v", due)
	}
	// After a quiet interval, a message is notified at once again.
	if n, now := th.add(at(30000), "bob@x", "dave@x", "m"); !now || n.count != 12 {
		t.Fatalf("after a quiet interval: %+v %v", n, now)
	}
}

func TestThrottleAccountsAreIndependent(t *testing.T) {
	t0 := time.Unix(1000, 0)
	th := newThrottle(time.Second, time.Hour)
	for _, u := range []string{"a@x", "b@x", "c@x"} {
		if _, now := th.add(t0, u, "s@x", ""); !now {
			t.Fatalf("%s: first message waits", u)
		}
	}
	th.add(t0.Add(10*time.Millisecond), "a@x", "s@x", "")
	if due := th.due(t0.Add(time.Second)); len(due) != 1 || due[0].user != "a@x" || due[0].count != 2 {
		t.Fatalf("due: %+v", due)
	}
}

func TestThrottleResetAndSweep(t *testing.T) {
	t0 := time.Unix(1000, 0)
	th := newThrottle(time.Second, time.Minute)
	th.add(t0, "bob@x", "alice@x", "")
	th.add(t0.Add(time.Millisecond), "bob@x", "alice@x", "")
	// bob comes online: the count starts over and nothing is pending.
	th.reset("bob@x")
	if due := th.due(t0.Add(time.Hour)); len(due) != 0 {
		t.Fatalf("due after reset: %+v", due)
	}
	if n, now := th.add(t0.Add(2*time.Millisecond), "bob@x", "alice@x", ""); !now || n.count != 1 {
		t.Fatalf("after reset: %+v %v", n, now)
	}
	// A quiet account is forgotten by the sweep; a pending one is kept.
	th.add(t0, "carol@x", "alice@x", "")
	th.add(t0.Add(time.Millisecond), "carol@x", "alice@x", "")
	th.sweep(t0.Add(2 * time.Minute))
	if _, ok := th.accounts["bob@x"]; ok {
		t.Fatal("a quiet account was kept")
	}
	if _, ok := th.accounts["carol@x"]; !ok {
		t.Fatal("an account with a pending message was forgotten")
	}
}
