package store

import (
	"context"
	"time"
)

// LastSeen is when a user was last connected and the status they left with.
type LastSeen struct {
	At     time.Time
	Status string
}

// LastActivity stores each user's last-seen record (XEP-0012). Writers batch
// these (the server keeps the live value in memory and persists lazily).
type LastActivity interface {
	// PutLastSeen stores records for several users at once. Not necessarily durable.
	PutLastSeen(ctx context.Context, records map[string]LastSeen) error
	// GetLastSeen returns a user's record or ErrNotFound.
	GetLastSeen(ctx context.Context, jid string) (LastSeen, error)
}
