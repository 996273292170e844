package server

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// TestGroupsMemberDroppingMidFanOutGetsEveryPostOnce: bob (stream
// management, never acknowledging) drops his connection after the first
// few of 40 posts, while the fan-out of the others goes on; carol is
// offline throughout. When each logs in again, every post comes once, in
// order; bob's copies he saw before the drop come again with the stanza-id
// they had (unacknowledged copies stay stored; a client dedupes them).
func TestGroupsMemberDroppingMidFanOutGetsEveryPostOnce(t *testing.T) {
	const posts = 40
	ts := startServer(t, nil)
	groupUsers(t, ts, "alice", "bob", "carol")
	alice := online(t, ts, "alice")
	bob := ts.login(t, "bob", "phone", withSM)
	bob.SendRaw("<presence/>")
	g := createGroup(t, alice, "drop", "bob", "carol")
	for i := 1; i <= posts; i++ {
		post(alice, g, fmt.Sprintf("p%d", i), strconv.Itoa(i))
	}
	before := map[int]string{} // what bob saw before the drop: post -> stanza-id
	for len(before) < 3 {
		el := bob.Expect("a post", isPost)
		n, sid := postOf(t, el, "bob@localhost")
		before[n] = sid
	}
	bob.Drop()
	// alice's own copies come in the same waves as the members' stored ones.
	got, _ := bodiesUntil(t, alice, g, numbers(posts)...)
	for _, n := range numbers(posts) {
		if got[n] != 1 {
			t.Fatalf("alice got post %s %d times", n, got[n])
		}
	}
	for _, who := range []string{"bob", "carol"} {
		c := online(t, ts, who)
		got := map[int]string{}
		for want := 1; want <= posts; want++ {
			el := c.Expect("post "+strconv.Itoa(want), isPost)
			n, sid := postOf(t, el, who+"@localhost")
			if n != want {
				t.Fatalf("%s got post %d, want %d (lost, repeated or out of order)", who, n, want)
			}
			got[n] = sid
		}
		none(t, c, "a second copy", isPost)
		if who == "bob" {
			for n, sid := range before {
				if got[n] != sid {
					t.Errorf("bob's post %d had stanza-id %q before the drop, %q after", n, sid, got[n])
				}
			}
		}
	}
}

// isPost matches a member's post (not a system message).
func isPost(el *stanza.Element) bool {
	_, err := strconv.Atoi(el.Body())
	return el.Name == "message" && err == nil
}

// postOf returns a post's number and its stanza-id by member.
func postOf(t *testing.T, el *stanza.Element, member string) (int, string) {
	t.Helper()
	n, err := strconv.Atoi(el.Body())
	if err != nil {
		t.Fatalf("not a post: %v", el)
	}
	for _, c := range el.Children {
		if c.Space == stanza.NSSID && c.Name == "stanza-id" && c.Attr("by") == member {
			return n, c.Attr("id")
		}
	}
	t.Fatalf("post %d has no stanza-id by %s: %v", n, member, el)
	return 0, ""
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}
