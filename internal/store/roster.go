package store

import "context"

// Subscription states of a roster item (RFC 6121 section 2.1.2.5).
const (
	SubNone = "none"
	SubTo   = "to"
	SubFrom = "from"
	SubBoth = "both"
)

// RosterItem is one contact in a user's roster, plus the subscription state
// the server keeps for it.
type RosterItem struct {
	JID          string   // contact's bare JID
	Name         string   // handle chosen by the user
	Groups       []string // sorted
	Subscription string   // SubNone, SubTo, SubFrom or SubBoth
	// AskOut: the user sent a subscribe request the contact has not answered
	// ("pending out", shown as ask="subscribe").
	AskOut bool
	// PendingIn: the contact asked to subscribe to the user's presence and
	// the user has not answered; kept across restarts and redelivered at login.
	PendingIn bool
	// PendingInStatus is the optional status text of that request.
	PendingInStatus string
	// PreApproved: the user approved a future request from the contact
	// (RFC 6121 section 3.4).
	PreApproved bool
	// Hidden: the item exists only to hold PendingIn state; it is not part
	// of the roster the user sees (RFC 6121 section 3.1.3).
	Hidden bool
}

// Roster stores rosters. Every change increments the roster's version, which
// clients use for roster versioning (RFC 6121 section 2.6).
type Roster interface {
	// GetRoster returns all items (including Hidden ones, in no particular
	// order) and the version. A roster never written (or removed by
	// DeleteAccount) is empty with version 0, not ErrNotFound. Versions of
	// one owner only grow, except that DeleteAccount resets them.
	GetRoster(ctx context.Context, owner string) ([]RosterItem, uint64, error)
	// GetRosterItem returns one item or ErrNotFound.
	GetRosterItem(ctx context.Context, owner, contact string) (RosterItem, error)
	// PutRosterItem inserts or replaces an item and returns the new version. Durable.
	PutRosterItem(ctx context.Context, owner string, item RosterItem) (uint64, error)
	// DeleteRosterItem removes an item (ErrNotFound if absent) and returns
	// the new version. Durable.
	DeleteRosterItem(ctx context.Context, owner, contact string) (uint64, error)
}
