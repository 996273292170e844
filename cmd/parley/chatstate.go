package main

import (
	"slices"
	"time"

	"github.com/parley-im/parley/client"
)

// This file holds the conversations of "parley chat": what the client's
// events do to them, with no terminal or network code.

// Ticks of an outgoing message, in order.
const (
	tickNone = iota // sending: the server has not acknowledged it yet
	tickOne         // ✓ sent: the server stored it
	tickTwo         // ✓✓ delivered: the recipient's device has it
	tickBlue        // ✓✓ in colour: seen
)

// chatLine is one line of a conversation.
type chatLine struct {
	id     string
	mine   bool
	system bool // a note from parley, not a message
	body   string
	at     time.Time
	tick   int // of a mine line
	// failed is why the server refused a mine line ("" when it did not):
	// shown with ✗ instead of its tick.
	failed string
}

// conversation is the chat with one contact.
type conversation struct {
	peer   string // bare JID
	lines  []*chatLine
	unread int
	typing bool // the contact is composing
	// online holds the contact's available resources (full JIDs).
	online map[string]bool
	// lastSeen is when the contact was last online, when known.
	lastSeen time.Time
	// toMark is the last incoming markable message not yet marked
	// displayed, and its sender's full JID.
	toMark, toMarkFrom string
	subscription       string // roster subscription: none, to, from, both
	asked              bool   // we asked for their presence
	activity           time.Time
}

func newConversation(peer string) *conversation {
	return &conversation{peer: peer, online: map[string]bool{}, subscription: "none"}
}

// seesPresence reports whether we get the contact's presence (or asked).
func (cv *conversation) seesPresence() bool {
	return cv.subscription == "to" || cv.subscription == "both" || cv.asked
}

// chats is the set of conversations, most recent activity first.
type chats struct {
	me    string // our bare JID
	list  []*conversation
	byID  map[string]*chatLine // our messages, by id
	owner map[string]*conversation
	files []*client.Attachment // files received, numbered from 1 for /download
}

func newChats(me string) *chats {
	return &chats{me: me, byID: map[string]*chatLine{}, owner: map[string]*conversation{}}
}

// get returns the conversation with peer, creating it when create is set
// (nil otherwise).
func (cs *chats) get(peer string, create bool) *conversation {
	for _, cv := range cs.list {
		if cv.peer == peer {
			return cv
		}
	}
	if !create {
		return nil
	}
	cv := newConversation(peer)
	cs.list = append(cs.list, cv)
	return cv
}

// touch moves cv to the top of the list.
func (cs *chats) touch(cv *conversation, at time.Time) {
	cv.activity = at
	i := slices.Index(cs.list, cv)
	if i > 0 {
		cs.list = slices.Insert(slices.Delete(cs.list, i, i+1), 0, cv)
	}
}

// addRoster creates a conversation per roster contact.
func (cs *chats) addRoster(items []client.RosterItem) {
	for _, it := range items {
		cv := cs.get(bareJID(it.JID), true)
		cv.subscription, cv.asked = it.Subscription, it.Asked
	}
}

// outgoing records a message we sent.
func (cs *chats) outgoing(cv *conversation, id, body string, at time.Time) {
	l := &chatLine{id: id, mine: true, body: body, at: at}
	cv.lines = append(cv.lines, l)
	cs.byID[id] = l
	cs.owner[id] = cv
	cs.touch(cv, at)
}

// incoming records a message; it returns its conversation.
func (cs *chats) incoming(m *client.Message, now time.Time) *conversation {
	cv := cs.get(bareJID(m.From), true)
	at := now
	if !m.Delayed.IsZero() {
		at = m.Delayed
	}
	body := m.Body
	if m.Attachment != nil {
		cs.files = append(cs.files, m.Attachment)
		body = attachmentLine(len(cs.files), m.Attachment, m.Caption)
	}
	cv.lines = append(cv.lines, &chatLine{id: m.ID, body: body, at: at})
	cv.typing = false
	if m.Markable && m.ID != "" {
		cv.toMark, cv.toMarkFrom = m.ID, m.From
	}
	cs.touch(cv, at)
	return cv
}

// note adds a line from parley itself to cv.
func (cs *chats) note(cv *conversation, text string, at time.Time) {
	cv.lines = append(cv.lines, &chatLine{system: true, body: text, at: at})
}

// tick raises the tick of our message id; a "seen" covers the earlier
// messages of the conversation too (XEP-0333: displayed up to this one).
func (cs *chats) tick(id string, t int) {
	l, cv := cs.byID[id], cs.owner[id]
	if l == nil {
		return
	}
	if t == tickBlue {
		for _, e := range cv.lines {
			if e.mine {
				e.tick = max(e.tick, tickBlue)
			}
			if e == l {
				break
			}
		}
	}
	l.tick = max(l.tick, t)
}

// fail marks our message id as refused by the server, for reason; false
// when id is none of ours (a receipt or typing notification refused).
func (cs *chats) fail(id, reason string) bool {
	l := cs.byID[id]
	if l == nil {
		return false
	}
	l.failed = reason
	return true
}

// presence applies a contact's presence; it returns the conversation it
// changed, or nil.
func (cs *chats) presence(p *client.Presence, now time.Time) *conversation {
	peer := bareJID(p.From)
	if peer == cs.me {
		return nil
	}
	cv := cs.get(peer, p.Type == "subscribe")
	if cv == nil {
		return nil
	}
	switch p.Type {
	case "":
		cv.online[p.From] = true
	case "unavailable":
		if len(cv.online) > 0 {
			delete(cv.online, p.From)
			if len(cv.online) == 0 {
				cv.lastSeen = now
			}
		}
		cv.typing = false
	case "subscribed":
		cv.asked = false
		if cv.subscription == "from" {
			cv.subscription = "both"
		} else {
			cv.subscription = "to"
		}
	case "subscribe":
		cs.note(cv, peer+" asks to see when you are online: /approve lets them", now)
	}
	return cv
}
