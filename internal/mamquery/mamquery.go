package mamquery

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Namespaces of a query.
const (
	NS        = "urn:xmpp:mam:2"                 // XEP-0313
	NSRSM     = "http://jabber.org/protocol/rsm" // XEP-0059
	NSForward = "urn:xmpp:forward:0"             // XEP-0297
	NSData    = "jabber:x:data"                  // XEP-0004
)

// Request is a parsed <query/>: the filter (form fields) and the RSM
// cursor.
type Request struct {
	QueryID  string
	Filter   store.ArchiveQuery // With, Start, End, AfterID, BeforeID from the form
	Max      int                // -1 when absent
	After    string             // RSM <after>
	Before   string             // RSM <before> text
	Backward bool               // RSM <before> present (empty: the last page)
}

// Limits bound the pages: DefaultPage when a query gives no <max>, never
// more than MaxPage.
type Limits struct{ DefaultPage, MaxPage int }

// Archive is what a query reads.
type Archive interface {
	QueryArchive(ctx context.Context, user string, q store.ArchiveQuery) ([]store.ArchivedMessage, bool, error)
	CountArchive(ctx context.Context, user string, q store.ArchiveQuery) (int, error)
}

// Parse reads a <query/>; errors are stanza errors for the client.
func Parse(q *stanza.Element) (Request, *stanza.Error) {
	r := Request{QueryID: q.Attr("queryid"), Max: -1}
	for _, c := range q.Children {
		switch {
		case c.Space == NSData && c.Name == "x":
			if err := parseForm(c, &r.Filter); err != nil {
				return r, err
			}
		case c.Space == NSRSM && c.Name == "set":
			if err := parseRSM(c, &r); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

func parseForm(x *stanza.Element, q *store.ArchiveQuery) *stanza.Error {
	for _, field := range x.Children {
		if field.Name != "field" {
			continue
		}
		v := field.ChildText(NSData, "value")
		var err error
		switch field.Attr("var") {
		case "FORM_TYPE":
			if v != NS {
				return stanza.NewError(stanza.BadRequest, "FORM_TYPE must be "+NS)
			}
		case "with":
			var j jid.JID
			if j, err = jid.Parse(v); err == nil {
				q.With = j.Bare().String()
			}
		case "start":
			q.Start, err = time.Parse(time.RFC3339Nano, v)
		case "end":
			q.End, err = time.Parse(time.RFC3339Nano, v)
		case "after-id":
			q.AfterID = v
		case "before-id":
			q.BeforeID = v
		default:
			return stanza.NewError(stanza.BadRequest, "unsupported field "+field.Attr("var"))
		}
		if err != nil {
			return stanza.NewError(stanza.BadRequest, "invalid value of field "+field.Attr("var"))
		}
	}
	return nil
}

func parseRSM(set *stanza.Element, r *Request) *stanza.Error {
	for _, c := range set.Children {
		switch c.Name {
		case "max":
			n, err := strconv.Atoi(c.Text)
			if err != nil || n < 0 {
				return stanza.NewError(stanza.BadRequest, "invalid <max>")
			}
			r.Max = n
		case "after":
			r.After = c.Text
		case "before":
			r.Before, r.Backward = c.Text, true
		case "index":
			return stanza.NewError(stanza.FeatureNotImplemented, "paging by <index> is not supported; use <after> and <before>")
		}
	}
	return nil
}

// Cursor is the store query of one page: the filter narrowed by the RSM
// cursor, the page size bounded by l.
func Cursor(r Request, l Limits) store.ArchiveQuery {
	q := r.Filter
	q.Max = r.Max
	if q.Max < 0 {
		q.Max = l.DefaultPage
	}
	q.Max = min(q.Max, l.MaxPage)
	if r.After != "" {
		q.AfterID = r.After
	}
	if r.Before != "" {
		q.BeforeID = r.Before
	}
	q.Backward = r.Backward
	return q
}

// Run reads one page of owner's archive and builds its <fin/> with the
// RSM <set/>. An unknown cursor id is item-not-found.
func Run(ctx context.Context, a Archive, owner string, r Request, l Limits) ([]store.ArchivedMessage, *stanza.Element, error) {
	count, err := a.CountArchive(ctx, owner, r.Filter)
	if err != nil {
		return nil, nil, StoreError(err)
	}
	var page []store.ArchivedMessage
	complete := true
	if r.Max != 0 {
		page, complete, err = a.QueryArchive(ctx, owner, Cursor(r, l))
		if err != nil {
			return nil, nil, StoreError(err)
		}
	}
	set := stanza.NewElement(NSRSM, "set")
	if len(page) > 0 {
		index, err := pageIndex(ctx, a, owner, r, page, complete, count)
		if err != nil {
			return nil, nil, err
		}
		set.AddChild(Text(NSRSM, "first", page[0].ID).SetAttr("index", strconv.Itoa(index)))
		set.AddChild(Text(NSRSM, "last", page[len(page)-1].ID))
	}
	set.AddChild(Text(NSRSM, "count", strconv.Itoa(count)))
	fin := stanza.NewElement(NS, "fin")
	if complete {
		fin.SetAttr("complete", "true")
	}
	return page, fin.AddChild(set), nil
}

// pageIndex is the position of page[0] in the filter's selection. The
// first and last pages (the common ones) need no store call; a page in
// the middle needs a count of the messages before it.
func pageIndex(ctx context.Context, a Archive, owner string, r Request, page []store.ArchivedMessage, complete bool, count int) (int, error) {
	switch {
	case r.After == "" && (!r.Backward && r.Before == "" || r.Backward && complete):
		return 0, nil // the first page of the selection
	case r.Before == "" && (r.Backward && r.After == "" || !r.Backward && complete):
		return count - len(page), nil // the last page
	}
	before := r.Filter
	before.BeforeID = page[0].ID
	n, err := a.CountArchive(ctx, owner, before)
	if err != nil {
		return 0, StoreError(err)
	}
	return n, nil
}

// Result wraps orig, the archived message m, for the device to, as sent
// by the archive's address from.
func Result(m store.ArchivedMessage, orig *stanza.Element, queryID string, from, to jid.JID) *stanza.Element {
	res := stanza.NewElement(NS, "result", "id", m.ID)
	if queryID != "" {
		res.SetAttr("queryid", queryID)
	}
	delay := stanza.NewElement(stanza.NSDelay, "delay", "stamp", m.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	res.AddChild(stanza.NewElement(NSForward, "forwarded").AddChild(delay).AddChild(orig))
	msg := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", to.String(), "from", from.String(), "id", rand.Text()[:16])
	return msg.AddChild(res)
}

// StoreError maps an archive error for the client: an unknown id is
// item-not-found; others are returned as they are.
func StoreError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return stanza.NewError(stanza.ItemNotFound, "no message with that id in the archive")
	}
	return err
}

// Text returns an element with text s.
func Text(ns, name, s string) *stanza.Element {
	e := stanza.NewElement(ns, name)
	e.Text = s
	return e
}

// SearchForm is the form an iq get of <query/> returns.
func SearchForm() *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", "form")
	x.AddChild(stanza.NewElement(NSData, "field", "var", "FORM_TYPE", "type", "hidden").AddChild(Text(NSData, "value", NS)))
	for _, fld := range []struct{ name, typ string }{
		{"with", "jid-single"}, {"start", "text-single"}, {"end", "text-single"},
		{"after-id", "text-single"}, {"before-id", "text-single"},
	} {
		x.AddChild(stanza.NewElement(NSData, "field", "var", fld.name, "type", fld.typ))
	}
	return x
}
