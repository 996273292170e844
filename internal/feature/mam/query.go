package mam

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// request is a parsed <query/>: the filter (form fields) and the RSM
// cursor.
type request struct {
	queryID  string
	filter   store.ArchiveQuery // With, Start, End, AfterID, BeforeID from the form
	max      int                // -1 when absent
	after    string             // RSM <after>
	before   string             // RSM <before> text
	backward bool               // RSM <before> present (empty: the last page)
}

// parseQuery reads a <query/>; errors are stanza errors for the client.
func parseQuery(q *stanza.Element) (request, *stanza.Error) {
	r := request{queryID: q.Attr("queryid"), max: -1}
	for _, c := range q.Children {
		switch {
		case c.Space == NSData && c.Name == "x":
			if err := parseForm(c, &r.filter); err != nil {
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

func parseRSM(set *stanza.Element, r *request) *stanza.Error {
	for _, c := range set.Children {
		switch c.Name {
		case "max":
			n, err := strconv.Atoi(c.Text)
			if err != nil || n < 0 {
				return stanza.NewError(stanza.BadRequest, "invalid <max>")
			}
			r.max = n
		case "after":
			r.after = c.Text
		case "before":
			r.before, r.backward = c.Text, true
		case "index":
			return stanza.NewError(stanza.FeatureNotImplemented, "paging by <index> is not supported; use <after> and <before>")
		}
	}
	return nil
}

// query runs a search and sends the results, then the iq result, to the
// requesting device (in that order, hence module.ErrReplied).
func (f *Feature) query(ctx context.Context, iq *stanza.Element, from jid.JID) (*stanza.Element, error) {
	r, serr := parseQuery(iq.Children[0])
	if serr != nil {
		return nil, serr
	}
	dev := f.host.Session(from)
	if dev == nil {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	user := from.Bare().String()
	count, err := f.st.CountArchive(ctx, user, r.filter)
	if err != nil {
		return nil, storeError(err)
	}
	var page []store.ArchivedMessage
	complete := true
	if r.max != 0 {
		page, complete, err = f.st.QueryArchive(ctx, user, f.cursor(r))
		if err != nil {
			return nil, storeError(err)
		}
	}
	fin, err := f.fin(ctx, user, r, page, complete, count)
	if err != nil {
		return nil, err
	}
	for _, m := range page {
		res, err := f.result(m, r.queryID, from)
		if err != nil {
			f.log.Error("undecodable archived message skipped", "user", user, "id", m.ID, "err", err)
			continue
		}
		dev.Send(res)
	}
	dev.Send(stanza.Result(iq).AddChild(fin))
	return nil, module.ErrReplied
}

// cursor is the store query of one page: the filter narrowed by the RSM
// cursor.
func (f *Feature) cursor(r request) store.ArchiveQuery {
	q := r.filter
	q.Max = r.max
	if q.Max < 0 {
		q.Max = f.opts.DefaultPage
	}
	q.Max = min(q.Max, f.opts.MaxPage)
	if r.after != "" {
		q.AfterID = r.after
	}
	if r.before != "" {
		q.BeforeID = r.before
	}
	q.Backward = r.backward
	return q
}

// fin builds <fin/> with the RSM <set/> of a page.
func (f *Feature) fin(ctx context.Context, user string, r request, page []store.ArchivedMessage, complete bool, count int) (*stanza.Element, error) {
	set := stanza.NewElement(NSRSM, "set")
	if len(page) > 0 {
		index, err := f.index(ctx, user, r, page, complete, count)
		if err != nil {
			return nil, err
		}
		set.AddChild(text(NSRSM, "first", page[0].ID).SetAttr("index", strconv.Itoa(index)))
		set.AddChild(text(NSRSM, "last", page[len(page)-1].ID))
	}
	set.AddChild(text(NSRSM, "count", strconv.Itoa(count)))
	fin := stanza.NewElement(NS, "fin")
	if complete {
		fin.SetAttr("complete", "true")
	}
	return fin.AddChild(set), nil
}

// index is the position of page[0] in the filter's selection. The first
// and last pages (the common ones) need no store call; a page in the
// middle needs a count of the messages before it.
func (f *Feature) index(ctx context.Context, user string, r request, page []store.ArchivedMessage, complete bool, count int) (int, error) {
	switch {
	case r.after == "" && (!r.backward && r.before == "" || r.backward && complete):
		return 0, nil // the first page of the selection
	case r.before == "" && (r.backward && r.after == "" || !r.backward && complete):
		return count - len(page), nil // the last page
	}
	before := r.filter
	before.BeforeID = page[0].ID
	n, err := f.st.CountArchive(ctx, user, before)
	if err != nil {
		return 0, storeError(err)
	}
	return n, nil
}

// result wraps an archived message for the device to.
func (f *Feature) result(m store.ArchivedMessage, queryID string, to jid.JID) (*stanza.Element, error) {
	orig, err := f.codec.Decode(m.Payload)
	if err != nil {
		return nil, err
	}
	res := stanza.NewElement(NS, "result", "id", m.ID)
	if queryID != "" {
		res.SetAttr("queryid", queryID)
	}
	delay := stanza.NewElement(stanza.NSDelay, "delay", "stamp", m.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	res.AddChild(stanza.NewElement(NSForward, "forwarded").AddChild(delay).AddChild(orig))
	msg := stanza.NewElement(stanza.NSClient, stanza.KindMessage, "to", to.String(), "from", to.Bare().String(), "id", rand.Text()[:16])
	return msg.AddChild(res), nil
}

func storeError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return stanza.NewError(stanza.ItemNotFound, "no message with that id in the archive")
	}
	return err
}

func text(ns, name, s string) *stanza.Element {
	e := stanza.NewElement(ns, name)
	e.Text = s
	return e
}

// searchForm is the form an iq get of <query/> returns.
func searchForm() *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", "form")
	x.AddChild(stanza.NewElement(NSData, "field", "var", "FORM_TYPE", "type", "hidden").AddChild(text(NSData, "value", NS)))
	for _, fld := range []struct{ name, typ string }{
		{"with", "jid-single"}, {"start", "text-single"}, {"end", "text-single"},
		{"after-id", "text-single"}, {"before-id", "text-single"},
	} {
		x.AddChild(stanza.NewElement(NSData, "field", "var", fld.name, "type", fld.typ))
	}
	return x
}
