package client

import (
	"context"

	"github.com/parley-im/parley/internal/stanza"
)

// XEP-0045 namespaces (multi-user chat) used by the room calls below.
const (
	nsMUC      = "http://jabber.org/protocol/muc"
	nsMUCOwner = "http://jabber.org/protocol/muc#owner"
	nsMUCAdmin = "http://jabber.org/protocol/muc#admin"
	nsXData    = "jabber:x:data"
)

// JoinRoom enters a multi-user chat room (XEP-0045) as room/nick, asking
// for no discussion history; a room that does not exist is created, with
// this account as its owner. The join is done when a Presence event from
// the room carries this occupant's nickname (a server may change it: Parley
// makes it the member's bare JID). Send to the room with SendGroupMessage.
func (c *Client) JoinRoom(room, nick string) error {
	x := stanza.NewElement(nsMUC, "x").AddChild(stanza.NewElement(nsMUC, "history", "maxstanzas", "0"))
	return c.sendElement(stanza.NewElement(stanza.NSClient, "presence").SetAttr("to", room+"/"+nick).AddChild(x))
}

// ConfigureRoom submits a room's configuration form (owners; XEP-0045
// muc#owner) with these fields, for example "muc#roomconfig_membersonly":
// "1". A room created by joining is locked until its owner does this.
func (c *Client) ConfigureRoom(ctx context.Context, room string, fields map[string]string) error {
	x := stanza.NewElement(nsXData, "x", "type", "submit")
	x.AddChild(formValue("FORM_TYPE", nsMUC+"#roomconfig").SetAttr("type", "hidden"))
	for name, v := range fields {
		x.AddChild(formValue(name, v))
	}
	_, err := c.request(ctx, "set", room, stanza.NewElement(nsMUCOwner, "query").AddChild(x))
	return err
}

// SetAffiliations gives accounts (bare JIDs) an affiliation in a room
// (owner, admin, member, none or outcast), in one request (admins).
// Prosody 0.12 applies only the first: send it one JID per call.
func (c *Client) SetAffiliations(ctx context.Context, room, affiliation string, jids ...string) error {
	q := stanza.NewElement(nsMUCAdmin, "query")
	for _, j := range jids {
		q.AddChild(stanza.NewElement(nsMUCAdmin, "item", "affiliation", affiliation, "jid", j))
	}
	_, err := c.request(ctx, "set", room, q)
	return err
}

func formValue(name, v string) *stanza.Element {
	val := stanza.NewElement(nsXData, "value")
	val.Text = v
	return stanza.NewElement(nsXData, "field", "var", name).AddChild(val)
}
