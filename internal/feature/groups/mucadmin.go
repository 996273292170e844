package groups

import (
	"context"
	"errors"
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// adminList answers a muc#admin get: the members with an affiliation
// (owner, admin, member; outcast is always empty: removed members are
// simply not members) or the occupants with a role.
func (f *Feature) adminList(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	item := r.payload.Child(NSMUCAdmin, "item")
	if item == nil {
		return nil, stanza.NewError(stanza.BadRequest, "ask for an affiliation or a role: <item affiliation='member'/>")
	}
	ms, err := f.st.GroupMembers(ctx, r.group.ID)
	if err != nil {
		return nil, f.storeErr("members", err)
	}
	q := stanza.NewElement(NSMUCAdmin, "query")
	aff, role := item.Attr("affiliation"), item.Attr("role")
	switch {
	case aff == "outcast":
	case aff == string(store.RoleOwner), aff == string(store.RoleAdmin), aff == string(store.RoleMember):
		for _, m := range ms {
			if string(m.Role) == aff {
				q.AddChild(stanza.NewElement(NSMUCAdmin, "item", "affiliation", aff, "jid", m.JID, "nick", m.JID,
					"role", mucRole(r.group, m.Role)))
			}
		}
	case role != "":
		roles := make(map[string]store.GroupRole, len(ms))
		for _, m := range ms {
			roles[m.JID] = m.Role
		}
		for _, oc := range nicks(f.occ.list(r.group.ID)) {
			if mucRole(r.group, roles[oc.nick]) == role {
				q.AddChild(stanza.NewElement(NSMUCAdmin, "item", "affiliation", string(roles[oc.nick]), "jid", oc.nick,
					"nick", oc.nick, "role", role))
			}
		}
	default:
		return nil, stanza.NewError(stanza.BadRequest, "unknown affiliation "+aff)
	}
	return stanza.Result(r.iq).AddChild(q), nil
}

// adminSet applies muc#admin affiliation changes as membership changes
// (admins only): member and admin add or change a member's role, none
// and outcast remove them; roles follow affiliations.
func (f *Feature) adminSet(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	changes, serr := parseAffiliations(r.payload)
	if serr != nil {
		return nil, serr
	}
	for _, c := range changes {
		if serr := f.setAffiliation(ctx, r, c.jid, c.affiliation); serr != nil {
			return nil, serr
		}
	}
	return nil, nil
}

// affChange is one item of a muc#admin set.
type affChange struct{ jid, affiliation string }

// parseAffiliations reads the items of a muc#admin set: each names a
// member by jid (or by nickname, which is the member's bare JID) and an
// affiliation. Role changes are refused: roles follow affiliations.
func parseAffiliations(q *stanza.Element) ([]affChange, *stanza.Error) {
	var out []affChange
	for _, item := range q.Children {
		if item.Space != NSMUCAdmin || item.Name != "item" {
			continue
		}
		aff := item.Attr("affiliation")
		switch aff {
		case "owner", "admin", "member", "none", "outcast":
		case "":
			return nil, stanza.NewError(stanza.NotAllowed, "in a group, roles follow affiliations; change the affiliation")
		default:
			return nil, stanza.NewError(stanza.BadRequest, "affiliation is owner, admin, member, none or outcast")
		}
		target := item.Attr("jid")
		if target == "" {
			target = item.Attr("nick")
		}
		j, err := jid.Parse(target)
		if err != nil || j.Local() == "" {
			return nil, stanza.NewError(stanza.JIDMalformed, "an item names a member by jid")
		}
		out = append(out, affChange{jid: j.Bare().String(), affiliation: aff})
	}
	if len(out) == 0 {
		return nil, stanza.NewError(stanza.BadRequest, "no <item/> to change")
	}
	return out, nil
}

// setAffiliation maps one affiliation change to the group's requests.
func (f *Feature) setAffiliation(ctx context.Context, r *request, target, aff string) *stanza.Error {
	cur, err := f.st.GroupMember(ctx, r.group.ID, target)
	member := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return f.storeErr("member", err)
	}
	sub := *r
	switch aff {
	case "owner":
		if member && cur.Role == store.RoleOwner {
			return nil
		}
		return stanza.NewError(stanza.NotAllowed, "a group has one owner, its creator")
	case "admin", "member":
		if !member {
			add := stanza.NewElement(NS, "add").AddChild(stanza.NewElement(NS, "member", "jid", target))
			members, serr := f.memberJIDs(ctx, add, "")
			if serr != nil {
				return serr
			}
			for _, m := range members {
				if serr := f.addMember(ctx, r.group, m, r.user); serr != nil {
					return serr
				}
			}
		}
		if aff == "admin" || (member && cur.Role == store.RoleAdmin) {
			sub.payload = stanza.NewElement(NS, "role", "jid", target, "role", aff)
			_, serr := f.setRole(ctx, &sub)
			return serr
		}
		return nil
	case "none", "outcast":
		if !member {
			return nil
		}
		sub.payload = stanza.NewElement(NS, "remove", "jid", target)
		_, serr := f.remove(ctx, &sub)
		return serr
	}
	return stanza.NewError(stanza.BadRequest, "affiliation is owner, admin, member, none or outcast")
}

// owner answers muc#owner: the configuration form (get), its submission
// or cancellation (set). Destroying a group is not supported.
func (f *Feature) owner(ctx context.Context, r *request) (*stanza.Element, *stanza.Error) {
	if !r.admin() {
		return nil, errNotAdmin
	}
	if r.iq.Type() == "get" {
		return stanza.Result(r.iq).AddChild(stanza.NewElement(NSMUCOwner, "query").AddChild(f.configForm(r.group))), nil
	}
	if r.payload.Child(NSMUCOwner, "destroy") != nil {
		return nil, stanza.NewError(stanza.NotAllowed, "a group is not destroyed; its members leave it")
	}
	x := r.payload.Child(nsData, "x")
	if x == nil {
		return nil, stanza.NewError(stanza.BadRequest, "send the configuration form")
	}
	switch x.Attr("type") {
	case "cancel":
		return nil, nil
	case "submit":
		return nil, f.submitConfig(ctx, r, x)
	}
	return nil, stanza.NewError(stanza.BadRequest, "a form of type submit or cancel")
}

// configForm is a room's configuration: what a group can be. Persistent,
// members-only, non-anonymous and hidden are fixed; moderated is the
// admins-only mode.
func (f *Feature) configForm(g store.Group) *stanza.Element {
	x := dataForm("form", nsRoomConfig)
	formField(x, "muc#roomconfig_roomname", "text-single", g.Subject)
	formField(x, "muc#roomconfig_roomdesc", "text-single", g.Description)
	formField(x, "muc#roomconfig_moderatedroom", "boolean", boolValue(g.AdminsOnly))
	formField(x, "muc#roomconfig_persistentroom", "boolean", "1")
	formField(x, "muc#roomconfig_membersonly", "boolean", "1")
	formField(x, "muc#roomconfig_publicroom", "boolean", "0")
	formField(x, "muc#roomconfig_whois", "list-single", "anyone")
	formField(x, "muc#roomconfig_changesubject", "boolean", "0")
	formField(x, "muc#roomconfig_passwordprotectedroom", "boolean", "0")
	formField(x, "muc#roomconfig_enablearchiving", "boolean", boolValue(f.opts.Archive))
	formField(x, "muc#roomconfig_maxusers", "text-single", strconv.Itoa(f.limit(g)))
	return x
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// fixedConfig returns the only value a group can have for a field that
// cannot change.
func fixedConfig(name string) (string, bool) {
	switch name {
	case "muc#roomconfig_persistentroom", "muc#roomconfig_membersonly":
		return "1", true
	case "muc#roomconfig_passwordprotectedroom":
		return "0", true
	case "muc#roomconfig_whois":
		return "anyone", true
	}
	return "", false
}

// submitConfig applies a submitted configuration form: the name (the
// group's subject), description and moderation; a value a group cannot
// have is refused with not-acceptable, unknown fields are ignored.
func (f *Feature) submitConfig(ctx context.Context, r *request, x *stanza.Element) *stanza.Error {
	cfg, serr := parseConfig(x, r.group)
	if serr != nil || len(cfg.Attrs) == 0 {
		return serr
	}
	sub := *r
	sub.payload = cfg
	_, serr = f.configure(ctx, &sub)
	return serr
}

// parseConfig reads a submitted configuration form of group g into the
// group's <configure/> request with the attributes that change.
func parseConfig(x *stanza.Element, g store.Group) (*stanza.Element, *stanza.Error) {
	cfg := stanza.NewElement(NS, "configure")
	for _, fl := range x.Children {
		if fl.Space != nsData || fl.Name != "field" {
			continue
		}
		name, v := fl.Attr("var"), fl.ChildText(nsData, "value")
		if want, fixed := fixedConfig(name); fixed {
			if normalBool(v) != want {
				return nil, stanza.NewError(stanza.NotAcceptable, "a group is persistent, members-only and non-anonymous: "+name+" cannot be "+v)
			}
			continue
		}
		switch name {
		case "muc#roomconfig_roomname":
			if v != g.Subject {
				cfg.SetAttr("subject", v)
			}
		case "muc#roomconfig_roomdesc":
			if v != g.Description {
				cfg.SetAttr("description", v)
			}
		case "muc#roomconfig_moderatedroom":
			if b := normalBool(v) == "1"; b != g.AdminsOnly {
				cfg.SetAttr("admins-only", strconv.FormatBool(b))
			}
		}
	}
	return cfg, nil
}

// normalBool turns XEP-0004 booleans (true/false too) into 1/0; other
// values are kept.
func normalBool(v string) string {
	switch v {
	case "true":
		return "1"
	case "false":
		return "0"
	}
	return v
}
