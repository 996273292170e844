package groups

import (
	"context"
	"errors"
	"time"

	"github.com/parley-im/parley/internal/mamquery"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// archivePost appends a post (or system message) of the group to the
// group's archive, under the group's bare JID, keyed by the group's
// stanza-id: what MAM on the room returns. A wave fanned out again after a
// crash appends the same id again, which changes nothing. Not durable by
// itself: the members' synced queue writes that follow cover it.
func (f *Feature) archivePost(ctx context.Context, group string, m *stanza.Element, stored time.Time) {
	if !f.opts.Archive || m.Body() == "" {
		return
	}
	id := groupStanzaID(m)
	if id == "" {
		return
	}
	with := f.groupJID(group).String()
	if s := m.Child(NS, "sender"); s != nil {
		with = s.Attr("jid")
	}
	err := f.st.AppendArchive(ctx, f.groupJID(group).String(),
		store.ArchivedMessage{ID: id, Time: stored.UTC().Truncate(time.Microsecond), With: with, Payload: f.codec.Encode(m)})
	if err != nil && !errors.Is(err, store.ErrExists) {
		f.log.Error("archiving a group message", "group", group, "id", id, "err", err)
	}
}

// roomArchive answers MAM (XEP-0313) on the room's address for a member:
// the group's messages from the time the member joined, never earlier.
// The results, then the iq result, go to the requesting device.
func (f *Feature) roomArchive(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if r.iq.Type() == "get" {
		return stanza.Result(r.iq).AddChild(stanza.NewElement(mamquery.NS, "query").AddChild(mamquery.SearchForm())), nil
	}
	if r.payload.Name != "query" {
		return nil, stanza.NewError(stanza.FeatureNotImplemented, "a group archive answers queries only")
	}
	q, serr := mamquery.Parse(r.payload)
	if serr != nil {
		return nil, serr
	}
	mem, err := f.st.GroupMember(ctx, r.group.ID, r.user)
	if err != nil {
		return nil, f.storeErr("member", err)
	}
	if q.Filter.Start.Before(mem.Joined) {
		q.Filter.Start = mem.Joined
	}
	dev := f.host.Session(r.from)
	if dev == nil {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	room := f.groupJID(r.group.ID)
	page, fin, err := mamquery.Run(ctx, f.st, room.String(), q, f.opts.ArchivePage)
	if err != nil {
		var se *stanza.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, f.storeErr("group archive", err)
	}
	for _, m := range page {
		orig, err := f.codec.Decode(m.Payload)
		if err != nil {
			f.log.Error("undecodable group archive entry skipped", "group", r.group.ID, "id", m.ID, "err", err)
			continue
		}
		dev.Send(mamquery.Result(m, orig, q.QueryID, room, r.from))
	}
	// Routed by handleIQ to the same device, after the results.
	return stanza.Result(r.iq).AddChild(fin), nil
}
