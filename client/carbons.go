package client

import (
	"context"

	"github.com/parley-im/parley/internal/stanza"
)

// EnableCarbons asks the server for copies of what the account's other
// devices send and receive (XEP-0280), as Message and Marker events with
// Carbon set. Linked devices get them by default; a password login (the
// phone) asks with this, then sees what the web client sends and reads.
func (c *Client) EnableCarbons(ctx context.Context) error {
	_, err := c.request(ctx, "set", "", stanza.NewElement(nsCarbons, "enable"))
	return err
}
