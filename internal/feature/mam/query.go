package mam

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/mamquery"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// query runs a search and sends the results, then the iq result, to the
// requesting device (in that order, hence module.ErrReplied).
func (f *Feature) query(ctx context.Context, iq *stanza.Element, from jid.JID) (*stanza.Element, error) {
	r, serr := mamquery.Parse(iq.Children[0])
	if serr != nil {
		return nil, serr
	}
	dev := f.host.Session(from)
	if dev == nil {
		return nil, stanza.NewError(stanza.ItemNotFound, "")
	}
	user := from.Bare().String()
	page, fin, err := mamquery.Run(ctx, f.st, user, r, mamquery.Limits{DefaultPage: f.opts.DefaultPage, MaxPage: f.opts.MaxPage})
	if err != nil {
		return nil, err
	}
	for _, m := range page {
		orig, err := f.codec.Decode(m.Payload)
		if err != nil {
			f.log.Error("undecodable archived message skipped", "user", user, "id", m.ID, "err", err)
			continue
		}
		dev.Send(mamquery.Result(m, orig, r.QueryID, from.Bare(), from))
	}
	dev.Send(stanza.Result(iq).AddChild(fin))
	return nil, module.ErrReplied
}

func text(ns, name, s string) *stanza.Element { return mamquery.Text(ns, name, s) }
