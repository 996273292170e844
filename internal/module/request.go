package module

import (
	"context"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// ResponseHandler gets the answer to an iq request a feature sent: the
// device's result or error, or nil when none came in time. It runs on the
// answering device's goroutine (or a timer's) and must not block.
type ResponseHandler func(ctx context.Context, resp *stanza.Element)

// IQRequester is implemented by a Host that lets features ask a device
// something (XEP-0115: the disco#info of the client's capabilities node).
// A feature that needs it checks for it, as for DiscoExtender.
type IQRequester interface {
	// RequestIQ sends iq (type get or set, with "to" set to a device's full
	// JID or a component's JID) under a fresh id, from the server's domain
	// unless iq has a from (a local account's bare JID: XEP-0357 publishes),
	// and calls fn once with the answer from that address, or with nil
	// after timeout.
	RequestIQ(ctx context.Context, iq *stanza.Element, timeout time.Duration, fn ResponseHandler)
}
