package calls

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// offer starts a call from the device from: <offer to media><sdp/></offer>.
// The result is <offer id state='ringing'|'busy'/>.
func (f *Feature) offer(ctx context.Context, from jid.JID, q *stanza.Element) (*stanza.Element, error) {
	to, err := jid.Parse(q.Attr("to"))
	if err != nil || to.Local() == "" || to.Domain() != f.host.Domain() {
		return nil, stanza.NewError(stanza.JIDMalformed, "'to' must be a user of this server")
	}
	to = to.Bare()
	media := q.Attr("media")
	if media == "" {
		media = "audio"
	}
	sdp := q.ChildText(NS, "sdp")
	switch {
	case media != "audio" && media != "video":
		return nil, stanza.NewError(stanza.BadRequest, "media is audio or video")
	case sdp == "" || len(sdp) > MaxSDPBytes:
		return nil, stanza.NewError(stanza.BadRequest, "the offer needs an <sdp/> of at most 32 KiB")
	case to == from.Bare():
		return nil, stanza.NewError(stanza.NotAllowed, "you cannot call yourself")
	}
	if _, err := f.st.GetAccount(ctx, to.String()); errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "no such user")
	} else if err != nil {
		return nil, err
	}
	if err := f.allowed(ctx, from, to); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.allowOffer(from.Bare().String(), f.opts.Now()) {
		return nil, stanza.NewError(stanza.ResourceConstraint, "too many calls; wait a minute")
	}
	if f.busy[from.Bare().String()] != nil {
		return nil, stanza.NewError(stanza.Conflict, "you are already in a call")
	}
	c := &call{id: rand.Text(), caller: from, callee: to, media: media, sdp: sdp, ringing: map[string]bool{}}
	res := stanza.NewElement(NS, "offer", "id", c.id, "state", "ringing")
	if f.busy[to.String()] != nil {
		return res.SetAttr("state", "busy"), nil
	}
	f.calls[c.id] = c
	f.busy[from.Bare().String()], f.busy[to.String()] = c, c
	c.timer = time.AfterFunc(f.opts.RingTimeout, func() { f.timeout(c.id) })
	rung := 0
	for _, s := range f.host.Sessions(to) {
		if s.Available() {
			f.ring(c, s)
			rung++
		}
	}
	if rung == 0 && f.opts.Wake != nil {
		f.opts.Wake(context.WithoutCancel(ctx), to, from)
	}
	return res, nil
}

// allowed runs the route filters (blocking, privacy) on an offer from
// caller to callee: a caller the callee blocked gets service-unavailable,
// one who blocked the callee not-acceptable, as for a message.
func (f *Feature) allowed(ctx context.Context, caller, callee jid.JID) *stanza.Error {
	rc, ok := f.host.(module.RouteChecker)
	if !ok {
		return nil
	}
	probe := event(caller.String(), callee, stanza.NewElement(NS, "offer"))
	probe.SetAttr("type", "chat")
	if ok, refusal := rc.Allowed(ctx, probe, callee); !ok {
		if refusal == nil {
			refusal = stanza.NewError(stanza.ServiceUnavailable, "")
		}
		return refusal
	}
	return nil
}

// ring sends the offer to one of the callee's devices. f.mu is held.
func (f *Feature) ring(c *call, s module.Session) {
	c.ringing[s.JID().String()] = true
	el := stanza.NewElement(NS, "offer", "id", c.id, "media", c.media, "from", c.caller.String())
	el.AddChild(text(NS, "sdp", c.sdp))
	s.Send(event(c.caller.String(), s.JID(), el))
}

// ringingFrom: a callee device says it rings; the caller is told once.
func (f *Feature) ringingFrom(from jid.JID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[id]
	if c == nil || from.Bare() != c.callee || !c.ringing[from.String()] {
		return errNoCall
	}
	if !c.rang && c.answered.IsZero() {
		c.rang = true
		f.send(c.caller, from.String(), stanza.NewElement(NS, "ringing", "id", id))
	}
	return nil
}

// accept: the first callee device to accept gets the call; the caller gets
// the answer, the callee's other devices stop ringing.
func (f *Feature) accept(from jid.JID, q *stanza.Element) error {
	sdp := q.ChildText(NS, "sdp")
	if sdp == "" || len(sdp) > MaxSDPBytes {
		return stanza.NewError(stanza.BadRequest, "the answer needs an <sdp/> of at most 32 KiB")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[q.Attr("id")]
	if c == nil || from.Bare() != c.callee {
		return errNoCall
	}
	if !c.answered.IsZero() {
		return stanza.NewError(stanza.Conflict, "the call was answered on another device")
	}
	c.answered = from
	c.timer.Stop()
	el := stanza.NewElement(NS, "accept", "id", c.id, "device", from.String())
	el.AddChild(text(NS, "sdp", sdp))
	f.send(c.caller, from.String(), el)
	f.stopRinging(c, from, "answered-elsewhere")
	return nil
}

// reject: a callee device declines; the caller is told, the callee's
// other devices stop ringing.
func (f *Feature) reject(from jid.JID, id, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[id]
	if c == nil || from.Bare() != c.callee || !c.answered.IsZero() {
		return errNoCall
	}
	f.rejectLocked(c, from, reason)
	return nil
}

// rejectLocked ends a ringing call a callee device declined. f.mu is held.
func (f *Feature) rejectLocked(c *call, from jid.JID, reason string) {
	if reason != "busy" {
		reason = "decline"
	}
	f.send(c.caller, from.String(), stanza.NewElement(NS, "reject", "id", c.id, "reason", reason))
	f.stopRinging(c, from, "rejected-elsewhere")
	f.forget(c)
}

// terminate: the caller cancels (the call is missed) or either party
// hangs up. after, when not nil, stores the missed call once f.mu is
// released.
func (f *Feature) terminate(from jid.JID, id, reason string) (after func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[id]
	if c == nil {
		return nil, errNoCall
	}
	if reason == "" || len(reason) > 32 {
		reason = "hangup"
	}
	switch {
	case from == c.caller && c.answered.IsZero():
		f.stopRinging(c, jid.JID{}, "cancelled")
		f.forget(c)
		return func() { f.missed(c) }, nil
	case from.Bare() == c.callee && c.answered.IsZero():
		f.rejectLocked(c, from, "decline") // hanging up a ringing call declines it
		return nil, nil
	case from == c.caller:
		f.send(c.answered, from.String(), stanza.NewElement(NS, "terminate", "id", id, "reason", reason))
	case from == c.answered:
		f.send(c.caller, from.String(), stanza.NewElement(NS, "terminate", "id", id, "reason", reason))
	default:
		return nil, errNoCall
	}
	f.forget(c)
	return nil, nil
}

// candidate relays an ICE candidate to the other party: the caller's go
// to the device that answered (to every ringing one before).
func (f *Feature) candidate(from jid.JID, q *stanza.Element) error {
	cand := q.Text
	if len(cand) > MaxCandidateBytes {
		return stanza.NewError(stanza.BadRequest, "an ICE candidate is at most 1 KiB")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[q.Attr("id")]
	if c == nil || (from != c.caller && from != c.answered) {
		return errNoCall
	}
	if c.cands++; c.cands > MaxCandidates {
		return stanza.NewError(stanza.PolicyViolation, "too many ICE candidates for one call")
	}
	el := stanza.NewElement(NS, "candidate", "id", c.id)
	el.Text = cand
	switch {
	case from == c.answered:
		f.send(c.caller, from.String(), el)
	case !c.answered.IsZero():
		f.send(c.answered, from.String(), el)
	default:
		for full := range c.ringing {
			if j, err := jid.Parse(full); err == nil {
				f.send(j, from.String(), el)
			}
		}
	}
	return nil
}
