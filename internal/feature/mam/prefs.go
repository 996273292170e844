package mam

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// getPrefs returns the user's preferences (the server's default when the
// user set none).
func (f *Feature) getPrefs(ctx context.Context, iq *stanza.Element, user jid.JID) (*stanza.Element, error) {
	p, err := f.prefs.get(ctx, user.String())
	if err != nil {
		return nil, err
	}
	p.Default = f.defaultOf(p)
	return stanza.Result(iq).AddChild(prefsElement(p)), nil
}

// setPrefs replaces the user's preferences and returns them.
func (f *Feature) setPrefs(ctx context.Context, iq *stanza.Element, user jid.JID) (*stanza.Element, error) {
	p, serr := parsePrefs(iq.Children[0])
	if serr != nil {
		return nil, serr
	}
	if err := f.prefs.set(ctx, user.String(), p); err != nil {
		return nil, err
	}
	return stanza.Result(iq).AddChild(prefsElement(p)), nil
}

func parsePrefs(el *stanza.Element) (store.ArchivePrefs, *stanza.Error) {
	p := store.ArchivePrefs{Default: el.Attr("default")}
	switch p.Default {
	case Always, Never, Roster:
	default:
		return p, stanza.NewError(stanza.BadRequest, "default must be always, never or roster")
	}
	for _, c := range el.Children {
		if c.Space != NS || (c.Name != "always" && c.Name != "never") {
			continue
		}
		for _, j := range c.Children {
			if j.Name != "jid" {
				continue
			}
			parsed, err := jid.Parse(j.Text)
			if err != nil || parsed.IsZero() {
				return p, stanza.NewError(stanza.JIDMalformed, "invalid jid in preferences")
			}
			if c.Name == "always" {
				p.Always = append(p.Always, parsed.Bare().String())
			} else {
				p.Never = append(p.Never, parsed.Bare().String())
			}
		}
	}
	return p, nil
}

func prefsElement(p store.ArchivePrefs) *stanza.Element {
	el := stanza.NewElement(NS, "prefs", "default", p.Default)
	for _, l := range []struct {
		name string
		jids []string
	}{{"always", p.Always}, {"never", p.Never}} {
		list := stanza.NewElement(NS, l.name)
		for _, j := range l.jids {
			list.AddChild(text(NS, "jid", j))
		}
		el.AddChild(list)
	}
	return el
}
