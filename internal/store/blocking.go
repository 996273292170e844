package store

import "context"

// Blocking stores each user's block list (XEP-0191): the JIDs (bare, full
// or a domain) whose stanzas the user refuses and to whom nothing of the
// user's is sent. JIDs are stored as given (the caller normalizes them).
type Blocking interface {
	// GetBlocklist returns the user's blocked JIDs sorted by byte order;
	// empty (not an error) when the user blocks nobody.
	GetBlocklist(ctx context.Context, user string) ([]string, error)
	// AddToBlocklist adds jids to the user's list; JIDs already there are
	// kept once. Durable.
	AddToBlocklist(ctx context.Context, user string, jids []string) error
	// RemoveFromBlocklist removes jids from the list; absent ones are
	// ignored. Durable.
	RemoveFromBlocklist(ctx context.Context, user string, jids []string) error
	// ClearBlocklist empties the user's list. Durable.
	ClearBlocklist(ctx context.Context, user string) error
}
