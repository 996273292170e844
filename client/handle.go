package client

import (
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// handle dispatches one element from the server.
func (c *Client) handle(el *stanza.Element) {
	switch el.Space {
	case stanza.NSSM:
		c.handleSM(el)
		return
	case stanza.NSParley:
		c.handleParley(el)
		return
	}
	if countsForSM(el) {
		c.mu.Lock()
		c.sm.inbound++
		c.mu.Unlock()
	}
	switch el.Name {
	case "message":
		c.handleMessage(el)
	case "presence":
		c.emit(presenceEvent(el))
	case "iq":
		c.handleIQ(el)
	}
}

func (c *Client) handleSM(el *stanza.Element) {
	switch el.Name {
	case "r":
		c.mu.Lock()
		h := c.sm.inbound
		c.mu.Unlock()
		c.sendControl(stanza.NewElement(stanza.NSSM, "a").SetAttr("h", strconv.FormatUint(uint64(h), 10)))
	case "a":
		h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
		if err != nil {
			return
		}
		c.mu.Lock()
		ids := c.sm.acked(uint32(h))
		c.mu.Unlock()
		for _, id := range ids {
			c.emit(&Sent{ID: id})
		}
	}
}

func (c *Client) handleMessage(el *stanza.Element) {
	from := el.Attr("from")
	if el.Type() == "error" {
		c.messageFailed(el)
		return
	}
	if c.historyResult(el) {
		return
	}
	if inner, kind := c.carbon(el); inner != nil {
		c.handleCarbon(inner, kind)
		return
	}
	if b := el.Child(nsGroups, "batch"); b != nil {
		c.groupReceiptBatch(from, b)
		return
	}
	if el.Type() == "headline" && c.callEvent(el) {
		return
	}
	if r := el.Child(stanza.NSParley, "receipts"); r != nil {
		c.emit(&Receipt{From: from, IDs: receiptIDs(r)})
	} else if r := el.Child(stanza.NSReceipts, "received"); r != nil {
		c.emit(&Receipt{From: from, IDs: []string{r.Attr("id")}})
	}
	for _, kind := range []string{"received", "displayed", "acknowledged"} {
		if m := el.Child(stanza.NSMarkers, kind); m != nil {
			c.emit(&Marker{From: from, Kind: kind, ID: m.Attr("id")})
		}
	}
	if cs := el.ChildNS(stanza.NSChatStates); cs != nil {
		c.emit(&ChatState{From: from, State: cs.Name})
	}
	body := el.ChildText(stanza.NSClient, "body")
	if body == "" {
		return
	}
	m := &Message{
		ID: el.ID(), From: from, To: el.Attr("to"), Type: el.Type(), Body: body,
		WantsReceipt: el.Child(stanza.NSReceipts, "request") != nil,
		Markable:     el.Child(stanza.NSMarkers, "markable") != nil,
	}
	m.Attachment, m.Caption = parseAttachment(el)
	m.MissedCall = missedCall(el)
	for _, ch := range el.Children {
		switch {
		case ch.Space == stanza.NSSID && ch.Name == "origin-id":
			m.ID = ch.Attr("id")
		case ch.Space == stanza.NSSID && ch.Name == "stanza-id":
			m.StanzaID = ch.Attr("id")
		case ch.Space == stanza.NSDelay && ch.Name == "delay":
			m.Delayed, _ = time.Parse(time.RFC3339Nano, ch.Attr("stamp"))
		}
	}
	groupFields(m, el)
	if c.opts.Dedupe && !c.dedupe.first(from, originID(el), m.StanzaID) {
		c.opts.Logger.Debug("dropped a copy of a message already received", "from", from, "id", m.ID)
		return
	}
	c.emit(m)
}

// messageFailed reports the server's error answer to a message we sent.
// The server still counts the message as handled, and its
// stream-management ack follows the error: the message is marked so that
// the ack gives it no Sent tick, which would say it is stored. An error
// for a message not in flight (already acknowledged, or not ours) is no
// answer to what we sent, and is dropped: a contact can send one with any
// id it saw.
func (c *Client) messageFailed(el *stanza.Element) {
	e := &MessageFailed{ID: el.ID(), To: el.Attr("from"), Condition: string(stanza.UndefinedCondition)}
	if se := stanza.ParseError(el); se != nil {
		e.Condition, e.Text = string(se.Condition), se.Text
	}
	c.mu.Lock()
	inFlight := c.sm.refused(e.ID) || !c.sm.enabled
	c.mu.Unlock()
	if inFlight {
		c.emit(e)
	}
}

// originID is the sender's XEP-0359 origin-id of a message, or "".
func originID(el *stanza.Element) string {
	if o := el.Child(stanza.NSSID, "origin-id"); o != nil {
		return o.Attr("id")
	}
	return ""
}

// nsCarbons is Message Carbons (XEP-0280).
const nsCarbons = "urn:xmpp:carbons:2"

// carbon unwraps a XEP-0280 copy: only from our own bare JID (anyone
// else's "carbon" is ignored as a forgery).
func (c *Client) carbon(el *stanza.Element) (*stanza.Element, string) {
	for _, kind := range []string{"sent", "received"} {
		w := el.Child(nsCarbons, kind)
		if w == nil {
			continue
		}
		if el.Attr("from") != c.account.local+"@"+c.account.domain {
			return nil, ""
		}
		if fwd := w.Child(nsForward, "forwarded"); fwd != nil {
			if m := fwd.Child(stanza.NSClient, "message"); m != nil {
				return m, kind
			}
		}
	}
	return nil, ""
}

// handleCarbon emits the copied message with a body as a Message, and its
// chat markers as Markers, marked with Carbon (read state synced across
// the account's devices); receipts in copies are not events.
func (c *Client) handleCarbon(m *stanza.Element, kind string) {
	for _, mk := range []string{"received", "displayed", "acknowledged"} {
		if el := m.Child(stanza.NSMarkers, mk); el != nil {
			c.emit(&Marker{From: m.Attr("from"), To: m.Attr("to"), Kind: mk, ID: el.Attr("id"), Carbon: kind})
		}
	}
	body := m.ChildText(stanza.NSClient, "body")
	if body == "" {
		return
	}
	msg := &Message{ID: m.ID(), From: m.Attr("from"), To: m.Attr("to"), Type: m.Type(), Body: body, Carbon: kind}
	msg.Attachment, msg.Caption = parseAttachment(m)
	for _, ch := range m.Children {
		switch {
		case ch.Space == stanza.NSSID && ch.Name == "origin-id":
			msg.ID = ch.Attr("id")
		case ch.Space == stanza.NSSID && ch.Name == "stanza-id":
			msg.StanzaID = ch.Attr("id")
		}
	}
	c.emit(msg)
}

func presenceEvent(el *stanza.Element) *Presence {
	p := &Presence{
		From: el.Attr("from"), Type: el.Type(),
		Show:   el.ChildText(stanza.NSClient, "show"),
		Status: el.ChildText(stanza.NSClient, "status"),
	}
	p.Priority, _ = strconv.Atoi(el.ChildText(stanza.NSClient, "priority"))
	return p
}

func (c *Client) handleIQ(el *stanza.Element) {
	switch el.Type() {
	case "result", "error":
		c.mu.Lock()
		ch := c.calls[el.ID()]
		delete(c.calls, el.ID())
		c.mu.Unlock()
		if ch != nil {
			ch <- el
		}
	case "get", "set":
		reply := stanza.NewElement(stanza.NSClient, "iq").SetAttr("id", el.ID())
		if from := el.Attr("from"); from != "" {
			reply.SetAttr("to", from)
		}
		if el.Child(stanza.NSPing, "ping") != nil {
			reply.SetAttr("type", "result")
		} else {
			reply.SetAttr("type", "error")
			reply.AddChild(stanza.NewError(stanza.ServiceUnavailable, "").Element())
		}
		_ = c.sendElement(reply)
	}
}

// handleParley handles Parley's protocol extensions (binary protocol).
func (c *Client) handleParley(el *stanza.Element) {
	switch el.Name {
	case "ack":
		c.mu.Lock()
		fresh := c.sm.tick(el.Attr("id")) || !c.sm.enabled
		c.mu.Unlock()
		if fresh {
			t, _ := time.Parse(time.RFC3339Nano, el.Attr("stamp"))
			c.emit(&Sent{ID: el.Attr("id"), StanzaID: el.Attr("stanza-id"), Time: t})
		}
	case "offline":
		n, _ := strconv.Atoi(el.Attr("count"))
		c.emit(&OfflinePreview{Count: n})
	case "offline-done":
		c.emit(&OfflineDone{})
	}
}

func receiptIDs(r *stanza.Element) []string {
	var ids []string
	for _, c := range r.Children {
		if c.Name == "id" && c.Text != "" {
			ids = append(ids, c.Text)
		}
	}
	return ids
}
