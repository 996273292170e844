package client

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/internal/stanza"
)

// RosterItem is a contact in the account's roster (RFC 6121).
type RosterItem struct {
	JID  string // bare
	Name string
	// Subscription says who sees whose presence: "none", "to" (we see
	// theirs), "from" (they see ours) or "both".
	Subscription string
	// Asked: our subscription request is waiting for the contact's answer.
	Asked  bool
	Groups []string
}

// Roster fetches the account's contact list (RFC 6121 2.1.3).
func (c *Client) Roster(ctx context.Context) ([]RosterItem, error) {
	res, err := c.call(ctx, "", stanza.NewElement(stanza.NSRoster, "query"))
	if err != nil {
		return nil, err
	}
	q := res.Child(stanza.NSRoster, "query")
	if q == nil {
		return nil, fmt.Errorf("no roster in the server's answer")
	}
	var items []RosterItem
	for _, el := range q.Children {
		if el.Space != stanza.NSRoster || el.Name != "item" {
			continue
		}
		it := RosterItem{JID: el.Attr("jid"), Name: el.Attr("name"), Subscription: el.Attr("subscription"),
			Asked: el.Attr("ask") == "subscribe"}
		if it.Subscription == "" {
			it.Subscription = "none"
		}
		for _, g := range el.Children {
			if g.Space == stanza.NSRoster && g.Name == "group" {
				it.Groups = append(it.Groups, g.Text)
			}
		}
		items = append(items, it)
	}
	return items, nil
}
