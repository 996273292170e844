package devices

import (
	"bytes"
	"context"
	"net/netip"
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/stanza"
)

// pairing is one new device waiting to be linked.
type pairing struct {
	group   netip.Addr      // the new device's address group (auth.LimiterKey), counted in Feature.perIP
	key     []byte          // the device's X25519 public key
	ref     string          // current reference; guarded by Feature.mu
	claimed bool            // a <link/> took it; guarded by Feature.mu
	done    chan credential // buffered (1): the link's result
}

// credential is what the link hands the pairing goroutine.
type credential struct {
	jid, id     string
	eph, sealed []byte
}

// StartPairing implements c2s.Pairer: it checks <pair key=.../>, registers
// a reference and starts the pairing's goroutine.
func (f *Feature) StartPairing(ctx context.Context, ip netip.Addr, iq *stanza.Element, push func(*stanza.Element) error) (*stanza.Element, time.Time) {
	if iq.Type() != "set" {
		return stanza.ErrorReply(iq, stanza.NewError(stanza.BadRequest, "send <pair/> in an iq set")), time.Time{}
	}
	key, err := devicelink.DecodeKey(iq.Child(NS, "pair").Attr("key"))
	if err != nil {
		return stanza.ErrorReply(iq, stanza.NewError(stanza.BadRequest, "key must be an X25519 public key, 32 bytes in base64url")), time.Time{}
	}
	// Grouped as the login limiter groups addresses, so that one IPv6
	// client cannot take every slot by using one address of its /64 for
	// each. An invalid address has a group of its own (the zero address).
	group, _ := auth.LimiterKey(ip)
	p := &pairing{group: group, key: key, done: make(chan credential, 1)}
	now := f.now()
	if !f.register(p) {
		return stanza.ErrorReply(iq, stanza.NewError(stanza.ResourceConstraint, "too many pairings in progress (from this address); try again later")), time.Time{}
	}
	expires := now.Add(f.opts.Timeout)
	go f.run(ctx, p, push, expires)
	return stanza.Result(iq).AddChild(f.refElement(p, now)), expires
}

// register gives p a fresh reference, if there is room.
func (f *Feature) register(p *pairing) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) >= f.opts.MaxPending || f.perIP[p.group] >= f.opts.MaxPerIP {
		return false
	}
	p.ref = devicelink.NewRef()
	f.pending[p.ref] = p
	f.perIP[p.group]++
	return true
}

// refElement is <pair ref= expires=/> for p's current reference.
func (f *Feature) refElement(p *pairing, now time.Time) *stanza.Element {
	f.mu.Lock()
	ref := p.ref
	f.mu.Unlock()
	return stanza.NewElement(NS, "pair", "ref", ref, "expires", now.Add(f.opts.Rotation).UTC().Format(time.RFC3339Nano))
}

// run rotates p's reference until it is linked, the stream ends or the
// pairing expires, then pushes the credential if it was linked.
func (f *Feature) run(ctx context.Context, p *pairing, push func(*stanza.Element) error, expires time.Time) {
	defer f.forget(p)
	tick := time.NewTicker(f.opts.Rotation)
	defer tick.Stop()
	end := time.NewTimer(time.Until(expires))
	defer end.Stop()
	for {
		select {
		case c := <-p.done:
			_ = push(stanza.NewElement(NS, "paired", "jid", c.jid, "id", c.id,
				"eph", devicelink.EncodeKey(c.eph), "credential", devicelink.EncodeKey(c.sealed)))
			return
		case <-tick.C:
			if !f.rotate(p) {
				continue // claimed: the credential is coming
			}
			if push(f.refElement(p, f.now())) != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-end.C:
			return
		}
	}
}

// rotate replaces p's reference with a new one, unless a link claimed it.
func (f *Feature) rotate(p *pairing) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.claimed {
		return false
	}
	delete(f.pending, p.ref)
	p.ref = devicelink.NewRef()
	f.pending[p.ref] = p
	return true
}

// forget removes p's reference, once its goroutine ends.
func (f *Feature) forget(p *pairing) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending[p.ref] == p {
		delete(f.pending, p.ref)
	}
	if f.perIP[p.group]--; f.perIP[p.group] <= 0 {
		delete(f.perIP, p.group)
	}
}

// claim takes the pairing with this reference for a link, checking that
// the key matches: an unknown or expired reference and a wrong key are
// refused with errors the linking device can show.
func (f *Feature) claim(ref string, key []byte, keyErr error) (*pairing, error) {
	if keyErr != nil {
		return nil, stanza.NewError(stanza.BadRequest, "key must be an X25519 public key, 32 bytes in base64url")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pending[ref]
	switch {
	case p == nil || p.claimed:
		return nil, stanza.NewError(stanza.ItemNotFound, "unknown or expired pairing reference: scan the code the new device shows now")
	case !bytes.Equal(p.key, key):
		return nil, stanza.NewError(stanza.NotAcceptable, "the key does not match the pairing reference")
	}
	p.claimed = true
	return p, nil
}

// unclaim gives a pairing back after a failed link (the limit reached),
// if it is still pending.
func (f *Feature) unclaim(p *pairing) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p.claimed = false
}
