package calls

import (
	"context"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// timeout ends a call nobody answered: the caller is told, the callee's
// devices stop ringing, and the missed call is stored in the chat.
func (f *Feature) timeout(id string) {
	f.mu.Lock()
	c := f.calls[id]
	if c == nil || !c.answered.IsZero() {
		f.mu.Unlock()
		return
	}
	f.send(c.caller, c.callee.String(), stanza.NewElement(NS, "terminate", "id", id, "reason", "timeout"))
	f.stopRinging(c, jid.JID{}, "timeout")
	f.forget(c)
	f.mu.Unlock()
	f.missed(c)
}

// missed stores the "missed call" message in the callee's chat with the
// caller: a chat message from the caller with a body (so every app shows
// it), queued for an offline callee, archived, and pushed.
func (f *Feature) missed(c *call) {
	body := "Missed voice call"
	if c.media == "video" {
		body = "Missed video call"
	}
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "type", "chat", "id", c.id,
		"from", c.caller.String(), "to", c.callee.String())
	m.AddChild(text(stanza.NSClient, "body", body))
	m.AddChild(stanza.NewElement(NS, "missed", "id", c.id, "media", c.media,
		"at", f.opts.Now().UTC().Format(time.RFC3339)))
	m.AddChild(stanza.NewElement(stanza.NSHints, "store"))
	f.host.Route(context.Background(), m)
}

// online rings a device of a callee that becomes available while a call
// to it rings (module.AvailableHook).
func (f *Feature) online(_ context.Context, s module.Session, initial bool) {
	if !initial {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.busy[s.JID().Bare().String()]
	if c != nil && c.callee == s.JID().Bare() && c.answered.IsZero() && !c.ringing[s.JID().String()] {
		f.ring(c, s)
	}
}

// ended ends the calls of a device that is gone (module.EndedHook): a
// caller's ringing call is cancelled (and missed), an answered call is
// over for the other party; a ringing callee device just stops counting.
func (f *Feature) ended(_ context.Context, s module.Session) {
	full := s.JID()
	f.mu.Lock()
	c := f.busy[full.Bare().String()]
	if c == nil {
		f.mu.Unlock()
		return
	}
	var missed bool
	switch {
	case full == c.caller && c.answered.IsZero():
		f.stopRinging(c, jid.JID{}, "cancelled")
		f.forget(c)
		missed = true
	case full == c.caller:
		f.send(c.answered, full.String(), stanza.NewElement(NS, "terminate", "id", c.id, "reason", "gone"))
		f.forget(c)
	case full == c.answered:
		f.send(c.caller, full.String(), stanza.NewElement(NS, "terminate", "id", c.id, "reason", "gone"))
		f.forget(c)
	default:
		delete(c.ringing, full.String())
	}
	f.mu.Unlock()
	if missed {
		f.missed(c)
	}
}

// stopRinging tells the callee's devices that rang, except keep, that the
// call is over for them. f.mu is held.
func (f *Feature) stopRinging(c *call, keep jid.JID, reason string) {
	for full := range c.ringing {
		if full == keep.String() {
			continue
		}
		if j, err := jid.Parse(full); err == nil {
			f.send(j, c.caller.String(), stanza.NewElement(NS, "terminate", "id", c.id, "reason", reason))
		}
	}
}

// forget removes a call that is over. f.mu is held.
func (f *Feature) forget(c *call) {
	c.timer.Stop()
	delete(f.calls, c.id)
	for _, u := range []string{c.caller.Bare().String(), c.callee.String()} {
		if f.busy[u] == c {
			delete(f.busy, u)
		}
	}
}

// send gives el to one device, in a headline message from the other
// party. f.mu is held (Send never blocks).
func (f *Feature) send(to jid.JID, from string, el *stanza.Element) {
	if s := f.host.Session(to); s != nil {
		s.Send(event(from, to, el))
	}
}

// event wraps a call element in the message devices get.
func event(from string, to jid.JID, el *stanza.Element) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "type", "headline", "from", from, "to", to.String())
	return m.AddChild(el)
}

// text is an element with text content.
func text(ns, name, s string) *stanza.Element {
	el := stanza.NewElement(ns, name)
	el.Text = s
	return el
}
