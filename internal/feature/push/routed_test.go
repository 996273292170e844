package push

import (
	"context"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// device is a module.Session that is detached (waiting for its client to
// resume) or live.
type device struct {
	module.Session
	detached bool
}

func (d device) Detached() bool { return d.detached }

// TestAGroupPostIsPushedWhenNoLiveDeviceGotIt: the router hands a
// member's devices, and the message hooks, the group's post itself
// (stanza.NewPost), not the member's copy: a post for a member whose
// only device is detached is pushed, as its copy was; one a live device
// got is not.
func TestAGroupPostIsPushedWhenNoLiveDeviceGotIt(t *testing.T) {
	f, err := New(nil, Options{Components: []string{"push.example.org"}, QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "from", "g1@groups.example.org/alice@example.org", "type", "groupchat")
	m.AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: "hi"})
	post := stanza.NewPost(m, stanza.NewElement(stanza.NSSID, "stanza-id", "id", "gid", "by", ""))
	bob := jid.MustParse("bob@example.org")
	f.routed(context.Background(), post, bob, []module.Session{device{detached: false}})
	if len(f.q) != 0 {
		t.Fatalf("%d pushes for a post a live device got, want none", len(f.q))
	}
	f.routed(context.Background(), post, bob, []module.Session{device{detached: true}})
	if len(f.q) != 1 {
		t.Fatalf("%d pushes for a post only a detached device got, want one", len(f.q))
	}
	if ev := <-f.q; ev.user != "bob@example.org" || ev.sender != "g1@groups.example.org" {
		t.Fatalf("push %+v, want to bob from the group", ev)
	}
}
