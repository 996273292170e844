package store

import (
	"context"
	"time"
)

// SCRAMKeys are the stored SCRAM credentials for one hash function
// (RFC 5802 section 3): never the password itself.
type SCRAMKeys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// Account is a user account.
type Account struct {
	JID     string    // bare JID, canonical
	SHA1    SCRAMKeys // for SCRAM-SHA-1(-PLUS)
	SHA256  SCRAMKeys // for SCRAM-SHA-256(-PLUS) and PLAIN verification
	Created time.Time
}

// Accounts stores user accounts.
type Accounts interface {
	// CreateAccount stores a new account; ErrExists if the JID is taken. Durable.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns the account or ErrNotFound.
	GetAccount(ctx context.Context, jid string) (Account, error)
	// UpdateCredentials replaces the SCRAM keys (a password change) and
	// keeps Created; ErrNotFound if there is no such account. Durable.
	UpdateCredentials(ctx context.Context, jid string, sha1, sha256 SCRAMKeys) error
	// DeleteAccount removes the account and all data stored for the user
	// (roster, queues, last activity, block list). ErrNotFound if there is
	// none. Durable.
	DeleteAccount(ctx context.Context, jid string) error
	// ListAccounts returns the bare JIDs of all accounts in domain (all
	// domains when domain is ""), sorted by byte order (strings.Compare;
	// in PostgreSQL, COLLATE "C"); empty, not an error, when there are
	// none. The domain of a JID without '@' is the JID itself.
	ListAccounts(ctx context.Context, domain string) ([]string, error)
}

// AccountChecker is implemented by an Accounts that can tell whether an
// account exists more cheaply than GetAccount (Pebble keeps the accounts
// it found in memory: the router asks for every message to an offline
// user). It must never say true for a deleted account.
type AccountChecker interface {
	AccountExists(ctx context.Context, jid string) (bool, error)
}
