package store

import (
	"errors"
	"io"
)

// Errors shared by every backend. Check with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
	ErrClosed   = errors.New("store: closed")
	// ErrUnavailable means the backend cannot accept writes right now (disk
	// full, sync failed); callers refuse new work with a "wait" error.
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is everything a backend provides.
type Store interface {
	Accounts
	Roster
	Queue
	LastActivity
	Blocking
	Archive
	Privacy
	Push
	Devices
	Groups
	PEP
	Resumptions
	Leases
	io.Closer
}

// WriteHealth is implemented by a backend that can refuse every write for a
// while after its disk failed one (Pebble; docs/ARCHITECTURE.md,
// "Storage"). WriteError returns why it refuses writes now, or nil.
type WriteHealth interface {
	WriteError() error
}
