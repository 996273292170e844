package client

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// Namespaces of the message archive (XEP-0313) and its paging (XEP-0059).
const (
	nsMAM     = "urn:xmpp:mam:2"
	nsRSM     = "http://jabber.org/protocol/rsm"
	nsForward = "urn:xmpp:forward:0"
	nsData    = "jabber:x:data"
)

// HistoryQuery selects messages of the account's archive on the server
// (XEP-0313 Message Archive Management). The zero value asks for the
// oldest page of every conversation.
type HistoryQuery struct {
	// With keeps one conversation: a contact's JID ("" = all).
	With string
	// Start and End bound the messages' time, both inclusive (zero: none).
	Start, End time.Time
	// After asks for the page after this StanzaID (the Last of the
	// previous page, paging forward).
	After string
	// Before asks for the page before this StanzaID (the First of the
	// previous page, paging backward).
	Before string
	// Max is the page size; 0 lets the server choose (it may also return
	// fewer than asked).
	Max int
	// Backward pages from the newest messages: with Before empty it asks
	// for the last page.
	Backward bool
}

// HistoryMessage is one archived message.
type HistoryMessage struct {
	// StanzaID is the server's id of the message (XEP-0359): the same id
	// the message carried when it was delivered live or from the offline
	// queue (Message.StanzaID), so a client dedupes by it.
	StanzaID string
	// ID is the sender's id (its origin-id when present).
	ID       string
	From, To string
	Body     string
	// Time is when the server archived the message.
	Time time.Time
}

// HistoryPage is one page of the archive, oldest message first.
type HistoryPage struct {
	Messages []HistoryMessage
	// First and Last are the StanzaIDs of the page's first and last
	// messages: pass Last as After for the next page, First as Before for
	// the previous one.
	First, Last string
	// Index is the position of the first message in the whole selection.
	Index int
	// Count is how many messages the query selects in all.
	Count int
	// Complete reports that no page follows in the query's direction.
	Complete bool
}

// historyCollector gathers the result messages of one query.
type historyCollector struct {
	msgs []HistoryMessage // guarded by Client.mu
}

// History fetches one page of the account's message archive.
func (c *Client) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	qid := newID()
	col := &historyCollector{}
	c.mu.Lock()
	c.history[qid] = col
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.history, qid)
		c.mu.Unlock()
	}()
	res, err := c.request(ctx, "set", "", historyRequest(qid, q))
	if err != nil {
		return HistoryPage{}, err
	}
	fin := res.Child(nsMAM, "fin")
	if fin == nil {
		return HistoryPage{}, fmt.Errorf("client: archive answer without <fin/>")
	}
	c.mu.Lock()
	page := HistoryPage{Messages: col.msgs, Complete: fin.Attr("complete") == "true"}
	c.mu.Unlock()
	if set := fin.Child(nsRSM, "set"); set != nil {
		page.Count, _ = strconv.Atoi(set.ChildText(nsRSM, "count"))
		if first := set.Child(nsRSM, "first"); first != nil {
			page.First = first.Text
			page.Index, _ = strconv.Atoi(first.Attr("index"))
		}
		page.Last = set.ChildText(nsRSM, "last")
	}
	return page, nil
}

// historyRequest builds the <query/> of q.
func historyRequest(qid string, q HistoryQuery) *stanza.Element {
	x := stanza.NewElement(nsData, "x", "type", "submit")
	field := func(name, value string) {
		if value != "" {
			x.AddChild(stanza.NewElement(nsData, "field", "var", name).AddChild(textElement(nsData, "value", value)))
		}
	}
	field("FORM_TYPE", nsMAM)
	field("with", q.With)
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"start", q.Start}, {"end", q.End}} {
		if !t.at.IsZero() {
			field(t.name, t.at.UTC().Format(time.RFC3339Nano))
		}
	}
	set := stanza.NewElement(nsRSM, "set")
	if q.Max > 0 {
		set.AddChild(textElement(nsRSM, "max", strconv.Itoa(q.Max)))
	}
	if q.After != "" {
		set.AddChild(textElement(nsRSM, "after", q.After))
	}
	if q.Backward || q.Before != "" {
		set.AddChild(textElement(nsRSM, "before", q.Before))
	}
	return stanza.NewElement(nsMAM, "query", "queryid", qid).AddChild(x).AddChild(set)
}

// historyResult takes a MAM result message for a pending query; it
// reports whether el was one (results of unknown queries, or from anyone
// but the account itself, are dropped).
func (c *Client) historyResult(el *stanza.Element) bool {
	r := el.Child(nsMAM, "result")
	if r == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	col := c.history[r.Attr("queryid")]
	own, _, _ := strings.Cut(c.jid, "/")
	if from := el.Attr("from"); col == nil || (from != "" && from != own) {
		return true
	}
	fwd := r.Child(nsForward, "forwarded")
	if fwd == nil || fwd.Child(stanza.NSClient, "message") == nil {
		return true
	}
	m := fwd.Child(stanza.NSClient, "message")
	hm := HistoryMessage{StanzaID: r.Attr("id"), ID: m.ID(), From: m.Attr("from"), To: m.Attr("to"), Body: m.ChildText(stanza.NSClient, "body")}
	if oid := m.Child(stanza.NSSID, "origin-id"); oid != nil {
		hm.ID = oid.Attr("id")
	}
	if d := fwd.Child(stanza.NSDelay, "delay"); d != nil {
		hm.Time, _ = time.Parse(time.RFC3339Nano, d.Attr("stamp"))
	}
	col.msgs = append(col.msgs, hm)
	return true
}

func textElement(ns, name, text string) *stanza.Element {
	e := stanza.NewElement(ns, name)
	e.Text = text
	return e
}
