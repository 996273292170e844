package groups

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// XEP-0045 namespaces.
const (
	NSMUC      = "http://jabber.org/protocol/muc"
	NSMUCUser  = NSMUC + "#user"
	NSMUCAdmin = NSMUC + "#admin"
	NSMUCOwner = NSMUC + "#owner"
	nsData     = "jabber:x:data"
)

// XEP-0045 status codes Parley sends.
const (
	codeNonAnonymous = "100"
	codeSelf         = "110"
	codeLogging      = "170"
	codeCreated      = "201"
	codeNickChanged  = "210"
	codeAffiliation  = "321"
)

// errNotMember is XEP-0045's refusal of a members-only room.
var errNotMember = &stanza.Error{Type: stanza.ErrAuth, Condition: "registration-required",
	Text: "this group is members-only and you are not a member"}

// mucRole is a member's MUC role: admins moderate; members are
// participants, or visitors when only admins may post.
func mucRole(g store.Group, r store.GroupRole) string {
	switch {
	case r == store.RoleOwner || r == store.RoleAdmin:
		return "moderator"
	case r == "":
		return "none"
	case g.AdminsOnly:
		return "visitor"
	}
	return "participant"
}

// presence handles presence to a room: joining (creating the group when
// it does not exist, as Prosody and ejabberd do), updates and leaving.
func (f *Feature) presence(ctx context.Context, p *stanza.Element, to, from jid.JID) *stanza.Error {
	if to.Local() == "" {
		return nil
	}
	switch p.Type() {
	case "unavailable", "error":
		f.leaveRoom(ctx, to.Local(), from, p.Type() == "unavailable")
		return nil
	case "":
	default:
		return nil // subscriptions: a room has none
	}
	serr := stanza.NewError(stanza.JIDMalformed, "join a room as room@service/nickname")
	if to.Resource() != "" {
		serr = f.joinRoom(ctx, p, to, from)
	}
	if serr != nil {
		f.refuseJoin(p, from, serr)
	}
	return nil
}

// refuseJoin answers a join with an error presence that carries the MUC
// element, as XEP-0045 clients expect (slixmpp matches on it).
func (f *Feature) refuseJoin(p *stanza.Element, device jid.JID, serr *stanza.Error) {
	r := stanza.ErrorReply(p, serr)
	if r == nil {
		return
	}
	r.Children = append([]*stanza.Element{stanza.NewElement(NSMUC, "x")}, r.Children...)
	if s := f.host.Session(device); s != nil {
		s.Send(r)
	}
}

// roomFor returns group id, creating it with user as owner when there is
// none.
func (f *Feature) roomFor(ctx context.Context, id, user string) (g store.Group, created bool, serr *stanza.Error) {
	g, err := f.st.GetGroup(ctx, id)
	if err == nil {
		return g, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return g, false, f.storeErr("group", err)
	}
	now := f.opts.Now()
	g = store.Group{ID: id, Owner: user, Created: now}
	err = f.st.CreateGroup(ctx, g, []store.GroupMember{{JID: user, Role: store.RoleOwner, Joined: now}})
	if errors.Is(err, store.ErrExists) { // created by someone else meanwhile
		g, err = f.st.GetGroup(ctx, id)
		return g, false, f.storeErrOrNil("group", err)
	}
	if err != nil {
		return g, false, f.storeErr("group", err)
	}
	f.system(ctx, id, event("created", user, user), user+" created the group")
	return g, true, nil
}

func (f *Feature) storeErrOrNil(what string, err error) *stanza.Error {
	if err == nil {
		return nil
	}
	return f.storeErr(what, err)
}

// joinRoom makes a member's device an occupant: the others' presence, its
// own (status 110), then the subject, which ends the join. The nickname is
// always the member's bare JID (status 210 when the client asked for
// another one). No discussion history is sent: members get every message
// through their offline queue, and MAM on the room has the rest.
func (f *Feature) joinRoom(ctx context.Context, p *stanza.Element, to, from jid.JID) *stanza.Error {
	id, user := to.Local(), from.Bare().String()
	g, created, serr := f.roomFor(ctx, id, user)
	if serr != nil {
		return serr
	}
	roles, serr := f.roles(ctx, id)
	if serr != nil {
		return serr
	}
	if _, ok := roles[user]; !ok {
		return errNotMember
	}
	dev := f.host.Session(from)
	if dev == nil {
		return nil
	}
	oc := occupant{device: from, nick: user, show: p.ChildText(stanza.NSClient, "show"), status: p.ChildText(stanza.NSClient, "status")}
	first, existed := f.occ.join(id, oc)
	if existed { // a presence update, reflected to the device too
		f.broadcast(g, oc, roles[user], false, nil)
		dev.Send(f.occupantPresence(g, oc, roles[user], from, false, codeSelf))
		return nil
	}
	// The occupants, the device's own presence and the subject go as one
	// burst (module.SendAll): a large room must not overflow the mailbox.
	var burst []*stanza.Element
	for _, other := range nicks(f.occ.list(id)) {
		if other.nick != user {
			burst = append(burst, f.occupantPresence(g, other, roles[other.nick], from, false))
		}
	}
	codes := []string{codeSelf, codeNonAnonymous}
	if f.opts.Archive {
		codes = append(codes, codeLogging)
	}
	if created {
		codes = append(codes, codeCreated)
	}
	if to.Resource() != user {
		codes = append(codes, codeNickChanged)
	}
	burst = append(burst, f.occupantPresence(g, oc, roles[user], from, false, codes...), f.subjectMessage(g, from))
	module.SendAll(dev, burst)
	if first {
		f.broadcast(g, oc, roles[user], false, nil)
	}
	return nil
}

// roles returns the role of every member of group id.
func (f *Feature) roles(ctx context.Context, id string) (map[string]store.GroupRole, *stanza.Error) {
	ms, err := f.st.GroupMembers(ctx, id)
	if err != nil {
		return nil, f.storeErr("members", err)
	}
	out := make(map[string]store.GroupRole, len(ms))
	for _, m := range ms {
		out[m.JID] = m.Role
	}
	return out, nil
}

// broadcast sends oc's presence to the room's other occupants (to all of
// its devices with status 110 when self is set, to the others without).
func (f *Feature) broadcast(g store.Group, oc occupant, role store.GroupRole, unavailable bool, codes []string) {
	for _, other := range f.occ.list(g.ID) {
		if other.device == oc.device {
			continue
		}
		cs := codes
		if other.nick == oc.nick {
			cs = append([]string{codeSelf}, codes...)
		}
		f.sendTo(g.ID, other.device, f.occupantPresence(g, oc, role, other.device, unavailable, cs...))
	}
}

// sendTo sends st to an occupant's device, forgetting a device that is
// gone.
func (f *Feature) sendTo(group string, device jid.JID, st *stanza.Element) {
	if s := f.host.Session(device); s == nil || !s.Send(st) {
		f.occ.leave(group, device)
	}
}

// occupantPresence is oc's presence in room g for device to.
func (f *Feature) occupantPresence(g store.Group, oc occupant, role store.GroupRole, to jid.JID, unavailable bool, codes ...string) *stanza.Element {
	from, _ := f.groupJID(g.ID).WithResource(oc.nick)
	p := stanza.NewElement(stanza.NSClient, stanza.KindPresence, "from", from.String(), "to", to.String())
	r := mucRole(g, role)
	if unavailable {
		p.SetAttr("type", "unavailable")
		r = "none"
	} else {
		addText(p, stanza.NSClient, "show", oc.show)
		addText(p, stanza.NSClient, "status", oc.status)
	}
	aff := string(role)
	if aff == "" {
		aff = "none"
	}
	x := stanza.NewElement(NSMUCUser, "x")
	x.AddChild(stanza.NewElement(NSMUCUser, "item", "affiliation", aff, "role", r, "jid", oc.device.String()))
	for _, c := range codes {
		x.AddChild(stanza.NewElement(NSMUCUser, "status", "code", c))
	}
	return p.AddChild(x)
}

func addText(parent *stanza.Element, ns, name, text string) {
	if text != "" {
		c := stanza.NewElement(ns, name)
		c.Text = text
		parent.AddChild(c)
	}
}

// subjectMessage is the room's subject for device to (the last stanza of
// a join).
func (f *Feature) subjectMessage(g store.Group, to jid.JID) *stanza.Element {
	m := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "type", "groupchat",
		"from", f.groupJID(g.ID).String(), "to", to.String(), "id", newID())
	s := stanza.NewElement(stanza.NSClient, "subject")
	s.Text = g.Subject
	return m.AddChild(s)
}

// leaveRoom removes a device from a room: its own unavailable presence
// (when it asked to leave) and, when it was the member's last device
// there, the others'.
func (f *Feature) leaveRoom(ctx context.Context, id string, device jid.JID, tellSelf bool) {
	oc, ok, last := f.occ.leave(id, device)
	if !ok {
		return
	}
	g, err := f.st.GetGroup(ctx, id)
	if err != nil {
		return
	}
	role := store.GroupRole("")
	if m, err := f.st.GroupMember(ctx, id, oc.nick); err == nil {
		role = m.Role
	}
	if tellSelf {
		if s := f.host.Session(device); s != nil {
			s.Send(f.occupantPresence(g, oc, role, device, true, codeSelf))
		}
	}
	if last {
		f.broadcast(g, oc, role, true, nil)
	}
}

// dropMember takes a removed member's devices out of the room (status
// 321: affiliation change).
func (f *Feature) dropMember(g store.Group, member string) {
	var gone []occupant
	for _, oc := range f.occ.list(g.ID) {
		if oc.nick == member {
			f.occ.leave(g.ID, oc.device)
			gone = append(gone, oc)
		}
	}
	for _, oc := range gone {
		if s := f.host.Session(oc.device); s != nil {
			s.Send(f.occupantPresence(g, oc, "", oc.device, true, codeSelf, codeAffiliation))
		}
	}
	if len(gone) > 0 {
		f.broadcast(g, gone[0], "", true, []string{codeAffiliation})
	}
}

// refreshMember tells the room that a member's affiliation changed.
func (f *Feature) refreshMember(g store.Group, member string, role store.GroupRole) {
	for _, oc := range nicks(f.occ.list(g.ID)) {
		if oc.nick == member {
			f.broadcast(g, oc, role, false, []string{codeAffiliation})
			if s := f.host.Session(oc.device); s != nil {
				s.Send(f.occupantPresence(g, oc, role, oc.device, false, codeSelf, codeAffiliation))
			}
		}
	}
}

// sessionEnded takes a device that is gone out of every room.
func (f *Feature) sessionEnded(ctx context.Context, s module.Session) {
	for _, id := range f.occ.roomsOf(s.JID()) {
		f.leaveRoom(ctx, id, s.JID(), false)
	}
}
