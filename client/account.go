package client

import (
	"context"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// ChangePassword sets the account's password (XEP-0077 in-band
// registration, which the server offers with --allow-registration). Only
// a device logged in with the password may: a linked device (one paired
// by QR code, logged in with its token) is refused with an *IQError of
// condition not-allowed.
func (c *Client) ChangePassword(ctx context.Context, password string) error {
	me, err := jid.Parse(c.JID())
	if err != nil {
		return err
	}
	name := stanza.NewElement(stanza.NSRegister, "username")
	name.Text = me.Local()
	pw := stanza.NewElement(stanza.NSRegister, "password")
	pw.Text = password
	_, err = c.request(ctx, "set", "", stanza.NewElement(stanza.NSRegister, "query").AddChild(name).AddChild(pw))
	return err
}
