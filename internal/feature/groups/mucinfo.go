package groups

import (
	"context"
	"errors"
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Namespaces of the MUC view besides XEP-0045's.
const (
	nsMAM          = "urn:xmpp:mam:2"                                        // XEP-0313
	nsSelfPingOpt  = "http://jabber.org/protocol/muc#self-ping-optimization" // XEP-0410
	nsRoomInfo     = "http://jabber.org/protocol/muc#roominfo"
	nsRoomConfig   = "http://jabber.org/protocol/muc#roomconfig"
	errNotOccupant = "you are not joined to this room"
)

// mucAnswer answers iq requests of XMPP apps (XEP-0045 and the protocols
// around it) to the service, a room or an occupant.
func (f *Feature) mucAnswer(ctx context.Context, iq *stanza.Element, to, from jid.JID) (*stanza.Element, *stanza.Error) {
	q := iq.Children[0]
	get := iq.Type() == "get"
	switch {
	case to.Local() == "" && to.Resource() == "":
		return f.serviceIQ(ctx, iq, from)
	case to.Local() == "":
		return nil, stanza.NewError(stanza.ServiceUnavailable, "")
	case to.Resource() != "":
		return f.occupantIQ(iq, to, from)
	case q.Space == stanza.NSDiscoInfo && get:
		return f.roomInfo(ctx, iq, to.Local())
	case q.Space == stanza.NSDiscoItems && get, q.Space == stanza.NSPing && get:
		if _, err := f.st.GetGroup(ctx, to.Local()); err != nil {
			return nil, f.roomErr(err)
		}
		if q.Space == stanza.NSPing {
			return nil, nil
		}
		return stanza.Result(iq).AddChild(stanza.NewElement(stanza.NSDiscoItems, "query")), nil
	}
	r := &request{iq: iq, payload: q, from: from, user: from.Bare().String()}
	if serr := f.loadGroup(ctx, r, to.Local()); serr != nil {
		return nil, serr
	}
	switch {
	case q.Space == NSMUCAdmin && get:
		return f.adminList(ctx, r)
	case q.Space == NSMUCAdmin:
		return f.adminSet(ctx, r)
	case q.Space == NSMUCOwner:
		return f.owner(ctx, r)
	case q.Space == nsMAM && f.opts.Archive:
		return f.roomArchive(ctx, r)
	}
	return nil, stanza.NewError(stanza.ServiceUnavailable, "")
}

func (f *Feature) roomErr(err error) *stanza.Error {
	if errors.Is(err, store.ErrNotFound) {
		return stanza.NewError(stanza.ItemNotFound, "no such room")
	}
	return f.storeErr("group", err)
}

// serviceIQ answers disco and ping on the service: it is a MUC service
// whose items are the requester's groups (rooms are hidden otherwise).
func (f *Feature) serviceIQ(ctx context.Context, iq *stanza.Element, from jid.JID) (*stanza.Element, *stanza.Error) {
	q := iq.Children[0]
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.ServiceUnavailable, "")
	}
	switch q.Space {
	case stanza.NSPing:
		return nil, nil
	case stanza.NSDiscoInfo:
		res := stanza.NewElement(stanza.NSDiscoInfo, "query")
		res.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", "conference", "type", "text", "name", "Groups"))
		for _, v := range []string{stanza.NSDiscoInfo, stanza.NSDiscoItems, NSMUC, NS} {
			res.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", v))
		}
		return stanza.Result(iq).AddChild(res), nil
	case stanza.NSDiscoItems:
		ids, err := f.st.UserGroups(ctx, from.Bare().String())
		if err != nil {
			return nil, f.storeErr("groups", err)
		}
		res := stanza.NewElement(stanza.NSDiscoItems, "query")
		for _, id := range ids {
			if g, err := f.st.GetGroup(ctx, id); err == nil {
				res.AddChild(stanza.NewElement(stanza.NSDiscoItems, "item", "jid", f.groupJID(id).String(), "name", g.Subject))
			}
		}
		return stanza.Result(iq).AddChild(res), nil
	}
	return nil, stanza.NewError(stanza.ServiceUnavailable, "")
}

// roomInfo is a room's disco#info (XEP-0045 6.4), with the muc#roominfo
// form.
func (f *Feature) roomInfo(ctx context.Context, iq *stanza.Element, id string) (*stanza.Element, *stanza.Error) {
	g, err := f.st.GetGroup(ctx, id)
	if err != nil {
		return nil, f.roomErr(err)
	}
	q := stanza.NewElement(stanza.NSDiscoInfo, "query")
	q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "identity", "category", "conference", "type", "text", "name", g.Subject))
	moderated := "muc_unmoderated"
	if g.AdminsOnly {
		moderated = "muc_moderated"
	}
	feats := []string{stanza.NSDiscoInfo, NSMUC, "muc_persistent", "muc_membersonly", "muc_nonanonymous",
		"muc_hidden", "muc_unsecured", moderated, nsSelfPingOpt, stanza.NSSID, NS}
	if f.opts.Archive {
		feats = append(feats, nsMAM)
	}
	for _, v := range feats {
		q.AddChild(stanza.NewElement(stanza.NSDiscoInfo, "feature", "var", v))
	}
	form := dataForm("result", nsRoomInfo)
	formField(form, "muc#roominfo_description", "text-single", g.Description)
	formField(form, "muc#roominfo_subject", "text-single", g.Subject)
	formField(form, "muc#roominfo_occupants", "text-single", strconv.Itoa(len(nicks(f.occ.list(id)))))
	formField(form, "muc#roomconfig_roomname", "text-single", g.Subject)
	return stanza.Result(iq).AddChild(q.AddChild(form)), nil
}

// dataForm is a XEP-0004 form with a hidden FORM_TYPE.
func dataForm(typ, formType string) *stanza.Element {
	x := stanza.NewElement(nsData, "x", "type", typ)
	formField(x, "FORM_TYPE", "hidden", formType)
	return x
}

func formField(x *stanza.Element, name, typ string, values ...string) *stanza.Element {
	fl := stanza.NewElement(nsData, "field", "var", name, "type", typ)
	for _, v := range values {
		addText(fl, nsData, "value", v)
		if v == "" {
			fl.AddChild(stanza.NewElement(nsData, "value"))
		}
	}
	x.AddChild(fl)
	return fl
}

// occupantIQ answers iq to room/nick: a self-ping (XEP-0410) of a joined
// device is answered at once; requests to occupants are not forwarded.
func (f *Feature) occupantIQ(iq *stanza.Element, to, from jid.JID) (*stanza.Element, *stanza.Error) {
	oc, joined := f.occ.get(to.Local(), from)
	if !joined {
		return nil, stanza.NewError(stanza.NotAcceptable, errNotOccupant)
	}
	if iq.Children[0].Space == stanza.NSPing && to.Resource() == oc.nick {
		return nil, nil
	}
	return nil, stanza.NewError(stanza.FeatureNotImplemented, "requests to occupants are not forwarded")
}
