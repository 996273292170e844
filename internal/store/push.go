package store

import (
	"context"
	"time"
)

// PushField is one field of a push registration's publish options (the
// XEP-0004 form a client gives with XEP-0357 <enable/>): a field name and
// its values, as given.
type PushField struct {
	Var    string
	Values []string
}

// PushRegistration is one app server a user's client asked to be notified
// through (XEP-0357): the app server's JID and the node it named, plus the
// publish options to send with each notification (they usually carry the
// app's secret: never log them).
type PushRegistration struct {
	Service string // the app server's JID, as given
	Node    string
	Options []PushField // in the order given; nil when none
	Created time.Time
}

// Push stores users' push registrations, keyed by (service, node): adding
// a registration with the same service and node replaces it. DeleteAccount
// removes a user's registrations.
type Push interface {
	// AddPushRegistration adds or replaces one of the user's
	// registrations. Durable.
	AddPushRegistration(ctx context.Context, user string, r PushRegistration) error
	// RemovePushRegistrations removes the user's registrations with this
	// service and node, or every registration of the service when node is
	// empty; it reports how many it removed (0 is not an error). Durable.
	RemovePushRegistrations(ctx context.Context, user, service, node string) (int, error)
	// PushRegistrations returns the user's registrations sorted by
	// service then node (byte order); empty (not an error) when there are
	// none.
	PushRegistrations(ctx context.Context, user string) ([]PushRegistration, error)
}
