package register

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// loggedIn answers jabber:iq:register from an authenticated user: get says
// the user is registered; set changes the password (username + password)
// or removes the account (<remove/>) (XEP-0077 3.2, 3.3).
func (f *Feature) loggedIn(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.JIDMalformed, "")
	}
	user := from.Bare()
	q := iq.Children[0]
	if q.Name != "query" {
		return nil, stanza.NewError(stanza.BadRequest, "expected a jabber:iq:register query")
	}
	switch {
	case iq.Type() == "get":
		return stanza.Result(iq).AddChild(registered(user)), nil
	case f.linkedDevice(from):
		// A linked device (a web client paired by QR code) holds a
		// token, not the password: were it to set a password, a token
		// taken from a browser would take the account.
		return nil, stanza.NewError(stanza.NotAllowed, "only a device logged in with the password may change the password or remove the account")
	case q.Child(stanza.NSRegister, "remove") != nil:
		return f.remove(ctx, iq, user)
	}
	return f.changePassword(ctx, iq, q, user)
}

// linkedDevice reports whether the session of from logged in as a linked
// device, or is gone (whose rights cannot be told).
func (f *Feature) linkedDevice(from jid.JID) bool {
	s := f.host.Session(from)
	return s == nil || module.LinkedDevice(s) != ""
}

// registered is the answer to a get from a registered user.
func registered(user jid.JID) *stanza.Element {
	name := stanza.NewElement(stanza.NSRegister, "username")
	name.Text = user.Local()
	return stanza.NewElement(stanza.NSRegister, "query").
		AddChild(stanza.NewElement(stanza.NSRegister, "registered")).
		AddChild(name).
		AddChild(stanza.NewElement(stanza.NSRegister, "password"))
}

// changePassword replaces the user's SCRAM keys.
func (f *Feature) changePassword(ctx context.Context, iq, q *stanza.Element, user jid.JID) (*stanza.Element, error) {
	name, password := q.Child(stanza.NSRegister, "username"), q.Child(stanza.NSRegister, "password")
	if name == nil || password == nil {
		return nil, stanza.NewError(stanza.BadRequest, "a password change has a username and a password")
	}
	if j, err := jid.New(name.Text, f.domain, ""); err != nil || j != user {
		return nil, stanza.NewError(stanza.NotAuthorized, "you can change only your own password")
	}
	sha1, sha256, serr := f.credentials(password.Text)
	if serr != nil {
		return nil, serr
	}
	if err := f.cfg.Store.UpdateCredentials(ctx, user.String(), sha1, sha256); err != nil {
		return nil, err
	}
	f.log.Info("password changed", "user", user.String())
	return nil, nil
}

// remove deletes the account and everything stored for it, answers, and
// then closes every session of the user.
func (f *Feature) remove(ctx context.Context, iq *stanza.Element, user jid.JID) (*stanza.Element, error) {
	err := f.cfg.Store.DeleteAccount(ctx, user.String())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	f.log.Info("account removed by its user", "user", user.String())
	// The sessions close after this answer: the close goes through each
	// session's mailbox, behind what the session already has to send.
	f.host.Disconnect(user, stanza.NewStreamError(stanza.StreamNotAuthorized, "the account was removed"))
	return stanza.Result(iq), nil
}
