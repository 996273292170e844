package client

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// nsGroups is Parley's groups protocol (docs/protocol/groups.md).
const nsGroups = "urn:parley:groups:0"

// ErrNoGroupInfo means the server answered a group request without the
// group's info.
var ErrNoGroupInfo = errors.New("client: no group info in the answer")

// GroupInfo describes a group: its address (<id>@groups.<domain>), its
// settings and its members.
type GroupInfo struct {
	JID, Subject, Description, Owner string
	Created                          time.Time
	AdminsOnly                       bool
	MaxMembers                       int
	Members                          []GroupMember
}

// GroupMember is one member of a group; Role is owner, admin or member.
type GroupMember struct {
	JID, Role string
	Joined    time.Time
}

// groupsService is the groups service of the account's server.
func (c *Client) groupsService() string {
	j := c.JID()
	if i := strings.IndexByte(j, '/'); i >= 0 {
		j = j[:i]
	}
	return "groups." + j[strings.IndexByte(j, '@')+1:]
}

// CreateGroup creates a group with this account as owner and members
// (bare JIDs) as its first members.
func (c *Client) CreateGroup(ctx context.Context, subject string, members ...string) (GroupInfo, error) {
	p := stanza.NewElement(nsGroups, "create", "subject", subject)
	for _, m := range members {
		p.AddChild(stanza.NewElement(nsGroups, "member", "jid", m))
	}
	res, err := c.request(ctx, "set", c.groupsService(), p)
	if err != nil {
		return GroupInfo{}, err
	}
	return parseGroupInfo(res.Child(nsGroups, "info"))
}

// GroupInfo returns a group's settings and members (members only).
func (c *Client) GroupInfo(ctx context.Context, group string) (GroupInfo, error) {
	res, err := c.request(ctx, "get", group, stanza.NewElement(nsGroups, "info"))
	if err != nil {
		return GroupInfo{}, err
	}
	return parseGroupInfo(res.Child(nsGroups, "info"))
}

func parseGroupInfo(el *stanza.Element) (GroupInfo, error) {
	if el == nil {
		return GroupInfo{}, ErrNoGroupInfo
	}
	g := GroupInfo{JID: el.Attr("jid"), Subject: el.Attr("subject"), Description: el.Attr("description"),
		Owner: el.Attr("owner"), AdminsOnly: el.Attr("admins-only") == "true"}
	g.Created, _ = time.Parse(time.RFC3339Nano, el.Attr("created"))
	g.MaxMembers, _ = strconv.Atoi(el.Attr("max-members"))
	for _, m := range el.Children {
		if m.Space == nsGroups && m.Name == "member" {
			joined, _ := time.Parse(time.RFC3339Nano, m.Attr("joined"))
			g.Members = append(g.Members, GroupMember{JID: m.Attr("jid"), Role: m.Attr("role"), Joined: joined})
		}
	}
	return g, nil
}

// AddMembers adds members (bare JIDs) to a group (admins only).
func (c *Client) AddMembers(ctx context.Context, group string, members ...string) error {
	p := stanza.NewElement(nsGroups, "add")
	for _, m := range members {
		p.AddChild(stanza.NewElement(nsGroups, "member", "jid", m))
	}
	_, err := c.request(ctx, "set", group, p)
	return err
}

// RemoveMember removes a member from a group (admins only).
func (c *Client) RemoveMember(ctx context.Context, group, member string) error {
	_, err := c.request(ctx, "set", group, stanza.NewElement(nsGroups, "remove", "jid", member))
	return err
}

// LeaveGroup leaves a group.
func (c *Client) LeaveGroup(ctx context.Context, group string) error {
	_, err := c.request(ctx, "set", group, stanza.NewElement(nsGroups, "leave"))
	return err
}

// SendGroupMessage posts a message to a group and returns its id. Every
// member's devices get it, this account's included; the Sent event means
// the server stored it for the group.
func (c *Client) SendGroupMessage(group, body string) (string, error) {
	id := newID()
	m := stanza.NewElement(stanza.NSClient, "message").SetAttr("to", group).SetAttr("type", "groupchat").SetAttr("id", id)
	b := stanza.NewElement(stanza.NSClient, "body")
	b.Text = body
	m.AddChild(b)
	m.AddChild(stanza.NewElement(stanza.NSSID, "origin-id").SetAttr("id", id))
	return id, c.sendElement(m)
}

// groupFields fills a group message's Group, Sender and GroupEvent.
func groupFields(m *Message, el *stanza.Element) {
	if el.Type() != "groupchat" {
		return
	}
	m.Group = m.From
	if i := strings.IndexByte(m.Group, '/'); i >= 0 {
		m.Group = m.Group[:i]
	}
	if s := el.Child(nsGroups, "sender"); s != nil {
		m.Sender = s.Attr("jid")
	}
	if ev := el.Child(nsGroups, "event"); ev != nil {
		m.GroupEvent = ev.Attr("type")
	}
}

// MessageInfo is the per-member state of a group message ("message
// info"): who has it delivered and read, and the aggregate ticks over the
// group's members other than the sender.
type MessageInfo struct {
	ID, Sender                 string
	DeliveredAll, DisplayedAll bool // ✓✓ for all, seen by all
	Receipts                   []GroupReceipt
}

// GroupReceipt is one member's state of a group message; a zero time
// means not (yet).
type GroupReceipt struct {
	JID                  string
	Delivered, Displayed time.Time
}

// MessageInfo asks a group for the receipts of message id (the id
// SendGroupMessage returned). Members send them with SendReceipt and
// SendDisplayed to the group's address.
func (c *Client) MessageInfo(ctx context.Context, group, id string) (MessageInfo, error) {
	res, err := c.request(ctx, "get", group, stanza.NewElement(nsGroups, "info", "id", id))
	if err != nil {
		return MessageInfo{}, err
	}
	el := res.Child(nsGroups, "receipts")
	if el == nil {
		return MessageInfo{}, ErrNoGroupInfo
	}
	mi := MessageInfo{ID: el.Attr("id"), Sender: el.Attr("sender"),
		DeliveredAll: el.Attr("delivered-all") == "true", DisplayedAll: el.Attr("displayed-all") == "true"}
	for _, r := range el.Children {
		if r.Space == nsGroups && r.Name == "receipt" {
			gr := GroupReceipt{JID: r.Attr("jid")}
			gr.Delivered, _ = time.Parse(time.RFC3339Nano, r.Attr("delivered"))
			gr.Displayed, _ = time.Parse(time.RFC3339Nano, r.Attr("displayed"))
			mi.Receipts = append(mi.Receipts, gr)
		}
	}
	return mi, nil
}

// groupReceiptBatch unpacks the receipts a group passed on together
// (docs/protocol/groups.md, "Receipts"): one Receipt or Marker event per
// member's receipt, from group/member, as when they come one by one.
func (c *Client) groupReceiptBatch(group string, b *stanza.Element) {
	for _, it := range b.Children {
		if it.Space != nsGroups || it.Attr("jid") == "" || it.Attr("id") == "" {
			continue
		}
		from := group + "/" + it.Attr("jid")
		switch it.Name {
		case "received":
			c.emit(&Receipt{From: from, IDs: []string{it.Attr("id")}})
		case "displayed":
			c.emit(&Marker{From: from, Kind: "displayed", ID: it.Attr("id")})
		}
	}
}
