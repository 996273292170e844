package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// newID returns a unique message id (random, URL-safe).
func newID() string { return rand.Text()[:20] }

// SendMessage sends a chat message and returns its id. The message asks for
// a delivery receipt and read markers and carries an origin-id, so that the
// three ticks can follow: Sent (server stored it), Receipt (delivered),
// Marker "displayed" (seen).
func (c *Client) SendMessage(to, body string) (string, error) {
	id := newID()
	return id, c.sendElement(chatMessage(to, id, body))
}

// chatMessageBlock is a chat message's elements, allocated together.
type chatMessageBlock struct {
	msg, body, request, markable, origin stanza.Element
	children                             [4]*stanza.Element
	attrs                                [4]stanza.Attr
}

// chatMessage builds SendMessage's stanza in one allocation (a load
// generator sends it 100,000 times a second).
func chatMessage(to, id, body string) *stanza.Element {
	b := new(chatMessageBlock)
	b.attrs = [4]stanza.Attr{{Name: "to", Value: to}, {Name: "type", Value: "chat"}, {Name: "id", Value: id}, {Name: "id", Value: id}}
	b.body = stanza.Element{Space: stanza.NSClient, Name: "body", Text: body}
	b.request = stanza.Element{Space: stanza.NSReceipts, Name: "request"}
	b.markable = stanza.Element{Space: stanza.NSMarkers, Name: "markable"}
	b.origin = stanza.Element{Space: stanza.NSSID, Name: "origin-id", Attrs: b.attrs[3:4:4]}
	b.children = [4]*stanza.Element{&b.body, &b.request, &b.markable, &b.origin}
	b.msg = stanza.Element{Space: stanza.NSClient, Name: "message", Attrs: b.attrs[0:3:3], Children: b.children[:]}
	return &b.msg
}

// SendReceipt tells the sender that this device got message id (the
// "delivered" tick, XEP-0184).
func (c *Client) SendReceipt(to, id string) error {
	m := stanza.NewElement(stanza.NSClient, "message").SetAttr("to", to).SetAttr("id", newID())
	m.AddChild(stanza.NewElement(stanza.NSReceipts, "received").SetAttr("id", id))
	return c.sendElement(m)
}

// SendReceipts acknowledges several messages from the same sender at once
// (the "delivered" tick for each). The message carries Parley's multi-id
// receipt and, for XMPP apps, a standard receipt of the last id.
func (c *Client) SendReceipts(to string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	m := stanza.NewElement(stanza.NSClient, "message").SetAttr("to", to).SetAttr("id", newID())
	m.AddChild(stanza.NewElement(stanza.NSReceipts, "received").SetAttr("id", ids[len(ids)-1]))
	multi := stanza.NewElement(stanza.NSParley, "receipts")
	for _, id := range ids {
		e := stanza.NewElement(stanza.NSParley, "id")
		e.Text = id
		multi.AddChild(e)
	}
	m.AddChild(multi)
	return c.sendElement(m)
}

// SendDisplayed tells the sender that the user has seen messages up to id
// (the "seen" tick, XEP-0333).
func (c *Client) SendDisplayed(to, id string) error {
	m := stanza.NewElement(stanza.NSClient, "message").SetAttr("to", to).SetAttr("type", "chat").SetAttr("id", newID())
	m.AddChild(stanza.NewElement(stanza.NSMarkers, "displayed").SetAttr("id", id))
	return c.sendElement(m)
}

// SendChatState sends a typing notification: "composing", "paused",
// "active", "inactive" or "gone" (XEP-0085). It is never stored.
func (c *Client) SendChatState(to, state string) error {
	switch state {
	case "active", "composing", "paused", "inactive", "gone":
	default:
		return fmt.Errorf("%w: chat state %q", ErrBadOptions, state)
	}
	m := stanza.NewElement(stanza.NSClient, "message").SetAttr("to", to).SetAttr("type", "chat")
	m.AddChild(stanza.NewElement(stanza.NSChatStates, state))
	m.AddChild(stanza.NewElement(stanza.NSHints, "no-store"))
	return c.sendElement(m)
}

// SetPresence broadcasts availability ("" available, or away, dnd, xa,
// chat) with a status text. The first call also fetches the offline queue:
// the server delivers stored messages at the first available presence.
func (c *Client) SetPresence(show, status string) error {
	p := stanza.NewElement(stanza.NSClient, "presence")
	if show != "" {
		s := stanza.NewElement(stanza.NSClient, "show")
		s.Text = show
		p.AddChild(s)
	}
	if status != "" {
		s := stanza.NewElement(stanza.NSClient, "status")
		s.Text = status
		p.AddChild(s)
	}
	c.mu.Lock()
	c.presence = p
	c.mu.Unlock()
	return c.sendElement(p)
}

// Subscribe asks to see contact's presence (and approves theirs, when they
// asked first).
func (c *Client) Subscribe(contact string) error {
	return c.sendElement(stanza.NewElement(stanza.NSClient, "presence").SetAttr("to", contact).SetAttr("type", "subscribe"))
}

// ApproveSubscription lets contact see our presence.
func (c *Client) ApproveSubscription(contact string) error {
	return c.sendElement(stanza.NewElement(stanza.NSClient, "presence").SetAttr("to", contact).SetAttr("type", "subscribed"))
}

// LastSeen asks the server when contact was last online (XEP-0012): how
// long ago, and their last status text. Zero means online now.
func (c *Client) LastSeen(ctx context.Context, contact string) (time.Duration, string, error) {
	res, err := c.call(ctx, contact, stanza.NewElement(stanza.NSLast, "query"))
	if err != nil {
		return 0, "", err
	}
	q := res.Child(stanza.NSLast, "query")
	if q == nil {
		return 0, "", fmt.Errorf("no last-activity answer from %s", contact)
	}
	secs, err := strconv.ParseInt(q.Attr("seconds"), 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad seconds %q from %s", q.Attr("seconds"), contact)
	}
	return time.Duration(secs) * time.Second, q.Text, nil
}

// Ping checks the connection end to end (XEP-0199) and returns the round
// trip time.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	_, err := c.call(ctx, "", stanza.NewElement(stanza.NSPing, "ping"))
	return time.Since(start), err
}

// IQError is an error answer to a request.
type IQError struct{ Condition, Text string }

func (e *IQError) Error() string { return "request refused: " + e.Condition + " " + e.Text }

// call sends an iq get and waits for its answer.
func (c *Client) call(ctx context.Context, to string, payload *stanza.Element) (*stanza.Element, error) {
	return c.request(ctx, "get", to, payload)
}

// request sends an iq of type typ (get or set) and waits for its answer.
func (c *Client) request(ctx context.Context, typ, to string, payload *stanza.Element) (*stanza.Element, error) {
	id := newID()
	iq := stanza.NewElement(stanza.NSClient, "iq").SetAttr("type", typ).SetAttr("id", id)
	if to != "" {
		iq.SetAttr("to", to)
	}
	iq.AddChild(payload)
	ch := make(chan *stanza.Element, 1)
	c.mu.Lock()
	c.calls[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.calls, id)
		c.mu.Unlock()
	}()
	if err := c.sendElement(iq); err != nil {
		return nil, err
	}
	select {
	case res := <-ch:
		if res.Type() == "error" {
			return nil, iqError(res)
		}
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closing:
		return nil, ErrClosed
	}
}

func iqError(res *stanza.Element) *IQError {
	e := &IQError{Condition: "undefined-condition"}
	if el := res.Child(stanza.NSClient, "error"); el != nil {
		for _, ch := range el.Children {
			if ch.Name == "text" {
				e.Text = ch.Text
			} else if ch.Space == stanza.NSStanzaErr {
				e.Condition = ch.Name
			}
		}
	}
	return e
}
