package push

import "time"

// notice is one notification to send for an account: how many messages
// arrived since its devices were last online and the newest's sender (and
// body, sent only with Options.IncludeBody).
type notice struct {
	user   string // bare JID
	count  int
	sender string
	body   string
}

// throttle coalesces the messages of each account: the first message
// after a quiet interval is notified at once; the ones that follow within
// the interval are counted and notified together when it ends. It is
// owned by the worker goroutine (no lock).
type throttle struct {
	interval time.Duration
	idle     time.Duration // an account with nothing pending is forgotten after this
	accounts map[string]*account
	waiting  map[string]*account // accounts with messages not yet notified
}

// account is the throttle's state of one account.
type account struct {
	count   int       // messages since the account was last online
	pending int       // of which not yet notified
	sender  string    // of the newest message
	body    string    // of the newest message
	next    time.Time // earliest time of the next notification
	last    time.Time // of the newest message
}

func newThrottle(interval, idle time.Duration) *throttle {
	return &throttle{interval: interval, idle: idle, accounts: make(map[string]*account), waiting: make(map[string]*account)}
}

// add counts a message for user at now. It returns the notice to send now,
// or false when the message waits for the end of the account's interval.
func (t *throttle) add(now time.Time, user, sender, body string) (notice, bool) {
	a := t.accounts[user]
	if a == nil {
		a = &account{}
		t.accounts[user] = a
	}
	a.count++
	a.pending++
	a.sender, a.body, a.last = sender, body, now
	if now.Before(a.next) {
		t.waiting[user] = a
		return notice{}, false
	}
	return t.fire(now, user, a), true
}

// fire makes the notice of a and starts a new interval.
func (t *throttle) fire(now time.Time, user string, a *account) notice {
	a.pending = 0
	a.next = now.Add(t.interval)
	delete(t.waiting, user)
	return notice{user: user, count: a.count, sender: a.sender, body: a.body}
}

// due returns the notices of the accounts whose interval ended with
// messages pending.
func (t *throttle) due(now time.Time) []notice {
	var out []notice
	for user, a := range t.waiting {
		if !now.Before(a.next) {
			out = append(out, t.fire(now, user, a))
		}
	}
	return out
}

// reset forgets an account (its devices are online again: the count
// starts over).
func (t *throttle) reset(user string) {
	delete(t.accounts, user)
	delete(t.waiting, user)
}

// sweep forgets the accounts that have been quiet for t.idle with nothing
// pending, bounding the memory the throttle keeps.
func (t *throttle) sweep(now time.Time) {
	for user, a := range t.accounts {
		if a.pending == 0 && now.Sub(a.last) >= t.idle {
			delete(t.accounts, user)
		}
	}
}
