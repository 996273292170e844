package privacy

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// rebroadcast sends user's presence again to the contacts whose view of
// the user's online status changed from old to cur: unavailable to those
// who no longer see it, the current presence to those who now do. The
// presence is routed, so the filters (this one, blocking) still apply.
func (f *Feature) rebroadcast(ctx context.Context, user jid.JID, old, cur store.PrivacySettings) {
	var online []module.Session
	for _, s := range f.host.Sessions(user) {
		if s.Available() {
			online = append(online, s)
		}
	}
	if len(online) == 0 {
		return
	}
	items, _, err := f.st.GetRoster(ctx, user.String())
	if err != nil {
		f.log.Error("reading the roster to update presence", "user", user.String(), "err", err)
		return
	}
	for _, it := range items {
		contact, err := jid.Parse(it.JID)
		if err != nil || (it.Subscription != store.SubFrom && it.Subscription != store.SubBoth) {
			continue
		}
		before := f.sees(ctx, user, contact, onlineAudience(old))
		after := f.sees(ctx, user, contact, onlineAudience(cur))
		if before != after {
			f.sendPresence(ctx, online, contact, after)
		}
	}
}

// sendPresence routes each session's presence (or unavailable) to contact.
func (f *Feature) sendPresence(ctx context.Context, sessions []module.Session, contact jid.JID, available bool) {
	for _, s := range sessions {
		var p *stanza.Element
		if cur := s.Presence(); available && cur != nil {
			p = cur.Copy()
		} else {
			p = stanza.NewElement(stanza.NSClient, stanza.KindPresence, "type", "unavailable")
		}
		p.SetAttr("from", s.JID().String())
		p.SetAttr("to", contact.String())
		f.host.Route(ctx, p)
	}
}
