package groups

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// request is one iq request to the service or a group.
type request struct {
	iq      *stanza.Element
	payload *stanza.Element
	from    jid.JID // the requesting device
	user    string  // its bare JID
	group   store.Group
	role    store.GroupRole // the requester's role in group ("" if not a member)
}

type handler func(ctx context.Context, r *request) (*stanza.Element, *stanza.Error)

// handleIQ answers an iq request and routes the answer to the requester.
func (f *Feature) handleIQ(ctx context.Context, iq *stanza.Element, to, from jid.JID) {
	typ := iq.Type()
	if typ == "result" || typ == "error" {
		return
	}
	reply, serr := f.answer(ctx, iq, to, from)
	if serr != nil {
		reply = stanza.ErrorReply(iq, serr)
	}
	if reply == nil {
		reply = stanza.Result(iq)
	}
	f.host.Route(ctx, reply)
}

func (f *Feature) answer(ctx context.Context, iq *stanza.Element, to, from jid.JID) (*stanza.Element, *stanza.Error) {
	if (iq.Type() != "get" && iq.Type() != "set") || len(iq.Children) != 1 {
		return nil, stanza.NewError(stanza.BadRequest, "an iq request has a type of get or set and one payload")
	}
	if iq.Children[0].Space != NS {
		return f.mucAnswer(ctx, iq, to, from)
	}
	r := &request{iq: iq, payload: iq.Children[0], from: from, user: from.Bare().String()}
	key := iq.Type() + " " + r.payload.Name
	if to.Local() == "" {
		h, ok := map[string]handler{"set create": f.create, "set join": f.join, "get groups": f.list}[key]
		if !ok || !to.IsBare() {
			return nil, stanza.NewError(stanza.FeatureNotImplemented, "unknown request to the groups service")
		}
		return h(ctx, r)
	}
	h, ok := f.groupHandlers()[key]
	if !ok || !to.IsBare() {
		return nil, stanza.NewError(stanza.FeatureNotImplemented, "unknown request to a group")
	}
	if serr := f.loadGroup(ctx, r, to.Local()); serr != nil {
		return nil, serr
	}
	return h(ctx, r)
}

func (f *Feature) groupHandlers() map[string]handler {
	return map[string]handler{
		"get info": f.info, "set add": f.add, "set remove": f.remove, "set leave": f.leave,
		"set role": f.setRole, "set configure": f.configure, "set invite": f.invite,
		"set revoke-invite": f.revokeInvite,
	}
}

// loadGroup fills r's group and the requester's role; only members may
// make requests to a group.
func (f *Feature) loadGroup(ctx context.Context, r *request, id string) *stanza.Error {
	g, err := f.st.GetGroup(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return stanza.NewError(stanza.ItemNotFound, "no such group")
	}
	if err != nil {
		return f.storeErr("group", err)
	}
	m, err := f.st.GroupMember(ctx, id, r.user)
	if errors.Is(err, store.ErrNotFound) {
		return stanza.NewError(stanza.Forbidden, "you are not a member of this group")
	}
	if err != nil {
		return f.storeErr("member", err)
	}
	r.group, r.role = g, m.Role
	return nil
}

func (r *request) admin() bool { return r.role == store.RoleOwner || r.role == store.RoleAdmin }

var errNotAdmin = stanza.NewError(stanza.Forbidden, "only the group's admins can do this")

// memberJIDs parses the jid attributes of payload's <member/> children:
// local accounts only, no duplicates, not skip.
func (f *Feature) memberJIDs(ctx context.Context, payload *stanza.Element, skip string) ([]string, *stanza.Error) {
	seen := map[string]bool{skip: true}
	var out []string
	for _, c := range payload.Children {
		if c.Space != NS || c.Name != "member" {
			continue
		}
		j, err := jid.Parse(c.Attr("jid"))
		if err != nil || j.Local() == "" || j.Domain() != f.host.Domain() {
			return nil, stanza.NewError(stanza.JIDMalformed, "members are this server's users: "+c.Attr("jid"))
		}
		b := j.Bare().String()
		if seen[b] {
			continue
		}
		seen[b] = true
		if _, err := f.st.GetAccount(ctx, b); errors.Is(err, store.ErrNotFound) {
			return nil, stanza.NewError(stanza.ItemNotFound, "no such user: "+b)
		} else if err != nil {
			return nil, f.storeErr("account", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// create makes a group with the requester as owner.
func (f *Feature) create(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	members, serr := f.memberJIDs(ctx, r.payload, r.user)
	if serr != nil {
		return nil, serr
	}
	if len(members)+1 > f.opts.MaxMembers {
		return nil, stanza.NewError(stanza.ResourceConstraint, "a group has at most "+strconv.Itoa(f.opts.MaxMembers)+" members")
	}
	now := f.opts.Now()
	g := store.Group{ID: newID(), Subject: r.payload.Attr("subject"), Description: r.payload.Attr("description"),
		Owner: r.user, Created: now}
	ms := []store.GroupMember{{JID: r.user, Role: store.RoleOwner, Joined: now}}
	for _, m := range members {
		ms = append(ms, store.GroupMember{JID: m, Role: store.RoleMember, Joined: now})
	}
	if err := f.st.CreateGroup(ctx, g, ms); err != nil {
		return nil, f.storeErr("group", err)
	}
	f.system(ctx, g.ID, event("created", r.user, r.user), r.user+" created the group \""+g.Subject+"\"")
	return stanza.Result(r.iq).AddChild(f.infoElement(g, ms)), nil
}

func event(typ, subject, actor string) *stanza.Element {
	return stanza.NewElement(NS, "event", "type", typ, "jid", subject, "by", actor)
}

// info returns the group and its members, or with an id attribute the
// receipts of that message.
func (f *Feature) info(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if id := r.payload.Attr("id"); id != "" {
		return f.receipts(ctx, r, id)
	}
	ms, err := f.st.GroupMembers(ctx, r.group.ID)
	if err != nil {
		return nil, f.storeErr("members", err)
	}
	return stanza.Result(r.iq).AddChild(f.infoElement(r.group, ms)), nil
}

func (f *Feature) infoElement(g store.Group, ms []store.GroupMember) *stanza.Element {
	el := stanza.NewElement(NS, "info", "jid", f.groupJID(g.ID).String(), "subject", g.Subject,
		"description", g.Description, "owner", g.Owner, "created", stamp(g.Created),
		"admins-only", strconv.FormatBool(g.AdminsOnly), "max-members", strconv.Itoa(f.limit(g)))
	for _, m := range ms {
		el.AddChild(stanza.NewElement(NS, "member", "jid", m.JID, "role", string(m.Role), "joined", stamp(m.Joined)))
	}
	return el
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// list returns the requester's groups.
func (f *Feature) list(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	ids, err := f.st.UserGroups(ctx, r.user)
	if err != nil {
		return nil, f.storeErr("groups", err)
	}
	el := stanza.NewElement(NS, "groups")
	for _, id := range ids {
		g, err := f.st.GetGroup(ctx, id)
		if err != nil {
			continue
		}
		el.AddChild(stanza.NewElement(NS, "group", "jid", f.groupJID(id).String(), "subject", g.Subject))
	}
	return stanza.Result(r.iq).AddChild(el), nil
}

// add adds members (admins only).
func (f *Feature) add(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	members, serr := f.memberJIDs(ctx, r.payload, "")
	if serr != nil {
		return nil, serr
	}
	for _, m := range members {
		if serr := f.addMember(ctx, r.group, m, r.user); serr != nil {
			return nil, serr
		}
	}
	return nil, nil
}

// addMember adds one member and announces it; being a member already is
// not an error.
func (f *Feature) addMember(ctx context.Context, g store.Group, member, actor string) *stanza.Error {
	err := f.st.AddGroupMember(ctx, g.ID, store.GroupMember{JID: member, Role: store.RoleMember, Joined: f.opts.Now()}, f.limit(g))
	switch {
	case errors.Is(err, store.ErrExists):
		return nil
	case errors.Is(err, store.ErrLimit):
		return stanza.NewError(stanza.ResourceConstraint, "the group is full ("+strconv.Itoa(f.limit(g))+" members)")
	case err != nil:
		return f.storeErr("member", err)
	}
	if actor == member {
		f.system(ctx, g.ID, event("joined", member, actor), member+" joined")
	} else {
		f.system(ctx, g.ID, event("added", member, actor), actor+" added "+member)
	}
	return nil
}

// remove removes a member (admins only; never the owner).
func (f *Feature) remove(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	target, serr := f.targetMember(ctx, r)
	if serr != nil {
		return nil, serr
	}
	if target.Role == store.RoleOwner {
		return nil, stanza.NewError(stanza.NotAllowed, "the owner cannot be removed")
	}
	if err := f.st.RemoveGroupMember(ctx, r.group.ID, target.JID); err != nil {
		return nil, f.storeErr("member", err)
	}
	f.system(ctx, r.group.ID, event("removed", target.JID, r.user), r.user+" removed "+target.JID)
	f.dropMember(r.group, target.JID)
	return nil, nil
}

// targetMember is the member named by the payload's jid attribute.
func (f *Feature) targetMember(ctx context.Context, r *request) (store.GroupMember, *stanza.Error) {
	j, err := jid.Parse(r.payload.Attr("jid"))
	if err != nil {
		return store.GroupMember{}, stanza.NewError(stanza.JIDMalformed, "")
	}
	m, err := f.st.GroupMember(ctx, r.group.ID, j.Bare().String())
	if errors.Is(err, store.ErrNotFound) {
		return store.GroupMember{}, stanza.NewError(stanza.ItemNotFound, "not a member of this group")
	}
	if err != nil {
		return store.GroupMember{}, f.storeErr("member", err)
	}
	return m, nil
}

// leave removes the requester.
func (f *Feature) leave(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if err := f.st.RemoveGroupMember(ctx, r.group.ID, r.user); err != nil {
		return nil, f.storeErr("member", err)
	}
	f.system(ctx, r.group.ID, event("left", r.user, r.user), r.user+" left")
	f.dropMember(r.group, r.user)
	return nil, nil
}

// setRole promotes a member to admin or demotes an admin (admins only;
// the owner's role never changes).
func (f *Feature) setRole(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	role := store.GroupRole(r.payload.Attr("role"))
	if role != store.RoleAdmin && role != store.RoleMember {
		return nil, stanza.NewError(stanza.BadRequest, "role is admin or member")
	}
	target, serr := f.targetMember(ctx, r)
	if serr != nil {
		return nil, serr
	}
	if target.Role == store.RoleOwner {
		return nil, stanza.NewError(stanza.NotAllowed, "the owner's role cannot change")
	}
	if target.Role == role {
		return nil, nil
	}
	if err := f.st.SetGroupRole(ctx, r.group.ID, target.JID, role); err != nil {
		return nil, f.storeErr("member", err)
	}
	typ := map[store.GroupRole]string{store.RoleAdmin: "promoted", store.RoleMember: "demoted"}[role]
	f.system(ctx, r.group.ID, event(typ, target.JID, r.user), r.user+" "+typ+" "+target.JID)
	f.refreshMember(r.group, target.JID, role)
	return nil, nil
}

// configure changes the subject, description or admins-only mode: the
// attributes present (admins only).
func (f *Feature) configure(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	g, p := r.group, r.payload
	if p.HasAttr("subject") {
		g.Subject = p.Attr("subject")
	}
	if p.HasAttr("description") {
		g.Description = p.Attr("description")
	}
	if p.HasAttr("admins-only") {
		v, err := strconv.ParseBool(p.Attr("admins-only"))
		if err != nil {
			return nil, stanza.NewError(stanza.BadRequest, "admins-only is true or false")
		}
		g.AdminsOnly = v
	}
	if err := f.st.UpdateGroup(ctx, g); err != nil {
		return nil, f.storeErr("group", err)
	}
	ev := event("configured", "", r.user)
	ev.SetAttr("subject", g.Subject).SetAttr("admins-only", strconv.FormatBool(g.AdminsOnly))
	f.system(ctx, g.ID, ev, r.user+" changed the group's settings")
	if g.Subject != r.group.Subject {
		f.announceSubject(ctx, g, r.user)
	}
	return nil, nil
}

// invite creates an invite link token (admins only).
func (f *Feature) invite(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	token := newToken()
	h := sha256.Sum256([]byte(token))
	if err := f.st.AddGroupInvite(ctx, store.GroupInvite{Group: r.group.ID, TokenHash: h[:], Created: f.opts.Now()}); err != nil {
		return nil, f.storeErr("invite", err)
	}
	return stanza.Result(r.iq).AddChild(stanza.NewElement(NS, "invite", "token", token,
		"jid", f.groupJID(r.group.ID).String())), nil
}

// revokeInvite revokes an invite link of the group (admins only).
func (f *Feature) revokeInvite(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	h := sha256.Sum256([]byte(r.payload.Attr("token")))
	inv, err := f.st.GroupInvite(ctx, h[:])
	if errors.Is(err, store.ErrNotFound) || (err == nil && inv.Group != r.group.ID) {
		return nil, stanza.NewError(stanza.ItemNotFound, "no such invite link")
	}
	if err != nil {
		return nil, f.storeErr("invite", err)
	}
	if err := f.st.RevokeGroupInvite(ctx, h[:]); err != nil {
		return nil, f.storeErr("invite", err)
	}
	return nil, nil
}

// join adds the requester to the group of a valid invite link.
func (f *Feature) join(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	h := sha256.Sum256([]byte(r.payload.Attr("token")))
	inv, err := f.st.GroupInvite(ctx, h[:])
	if errors.Is(err, store.ErrNotFound) {
		return nil, stanza.NewError(stanza.ItemNotFound, "this invite link is not valid")
	}
	if err != nil {
		return nil, f.storeErr("invite", err)
	}
	if inv.Revoked {
		return nil, stanza.NewError(stanza.Forbidden, "this invite link was revoked")
	}
	g, err := f.st.GetGroup(ctx, inv.Group)
	if err != nil {
		return nil, f.storeErr("group", err)
	}
	if serr := f.addMember(ctx, g, r.user, r.user); serr != nil {
		return nil, serr
	}
	return stanza.Result(r.iq).AddChild(stanza.NewElement(NS, "joined", "jid", f.groupJID(g.ID).String())), nil
}
