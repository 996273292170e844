package roster

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Inbound processes a presence stanza addressed to the local user to (bare
// or full JID): the core calls it for every such stanza, whether it comes
// from a local device (through Host.Route) or from elsewhere. It never
// blocks on another session.
//
//   - available, unavailable and error presence is delivered: to the
//     device when addressed to a connected full JID (dropped when that
//     device is not connected, RFC 6121 8.5.3.2.1), otherwise to every
//     available device of the user;
//   - probes are answered for subscribed contacts only (RFC 6121 4.3.2);
//   - subscription stanzas run the inbound half of the handshake.
func (f *Feature) Inbound(ctx context.Context, p *stanza.Element, to jid.JID) {
	from, err := p.From()
	if err != nil || from.IsZero() || to.Local() == "" {
		return
	}
	switch typ := p.Type(); typ {
	case typeAvailable, typeUnavailable, "error":
		f.deliver(p, to)
	case typeProbe:
		f.answerProbe(ctx, to.Bare(), from)
	case typeSubscribe, typeSubscribed, typeUnsubscribe, typeUnsubscribed:
		f.inboundSubscription(ctx, typ, to.Bare(), from.Bare(), p)
	}
}

// deliver hands presence to the addressed device, or to all available
// devices of a bare JID.
func (f *Feature) deliver(p *stanza.Element, to jid.JID) {
	if to.IsBare() {
		f.host.DeliverToAvailable(to, p)
		return
	}
	if s := f.host.Session(to); s != nil {
		s.Send(p)
	}
}

// answerProbe sends the user's presence to a subscribed prober: the
// current presence of each available resource, or unavailable presence from
// the bare JID when none is available. Others learn nothing.
func (f *Feature) answerProbe(ctx context.Context, user, prober jid.JID) {
	if prober.Bare() != user {
		it, err := f.st.GetRosterItem(ctx, user.String(), prober.Bare().String())
		if err != nil {
			if !isNotFound(err) {
				f.log.Error("probe: reading roster item", "user", user, "prober", prober, "err", err)
			}
			return
		}
		if !subscribedFrom(it.Subscription) {
			return
		}
	}
	if f.sendPresenceOf(ctx, user, prober.String()) == 0 {
		f.host.Route(ctx, stanza.NewElement(stanza.NSClient, stanza.KindPresence,
			"type", typeUnavailable, "from", user.String(), "to", prober.String()))
	}
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, store.ErrNotFound) }
