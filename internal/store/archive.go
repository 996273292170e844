package store

import (
	"context"
	"time"
)

// ArchivedMessage is one message of a user's archive (XEP-0313).
type ArchivedMessage struct {
	// ID is the message's archive id, unique in the user's archive: the
	// stanza-id (XEP-0359) of the user's copy.
	ID string
	// Time is when the message was archived. An archive is ordered by
	// Time, then by ID (byte order) for equal times.
	Time time.Time
	// With is the other party's bare JID.
	With string
	// Payload is the encoded stanza; the store does not interpret it.
	Payload []byte
}

// ArchiveQuery selects messages of one user's archive. Every field is
// optional; the zero value selects the whole archive, oldest first.
type ArchiveQuery struct {
	// With keeps only messages with this bare JID ("" = every peer).
	With string
	// Start and End bound Time, both inclusive; a zero time is no bound.
	Start, End time.Time
	// AfterID and BeforeID keep only messages strictly after (before) the
	// message with that ID, in archive order. An ID not in the user's
	// archive makes QueryArchive and CountArchive fail with ErrNotFound.
	AfterID, BeforeID string
	// Max is the most messages QueryArchive returns; <= 0 means no limit.
	Max int
	// Backward selects the last Max matching messages instead of the
	// first (RSM paging from the end).
	Backward bool
}

// ArchivePrefs are a user's archiving preferences (XEP-0313 section 6).
type ArchivePrefs struct {
	// Default is "always", "never" or "roster"; "" when the user never
	// set preferences (the server's default applies).
	Default string
	// Always and Never are bare JIDs always (never) archived, whatever
	// Default says. Stored as given.
	Always, Never []string
}

// Archive is the per-user message archive (XEP-0313) and its preferences.
// Accounts.DeleteAccount removes a user's archive and preferences too.
type Archive interface {
	// AppendArchive adds m to user's archive. The caller guarantees that
	// m.ID is not in the user's archive yet (ids are fresh 128-bit random
	// stanza-ids); a backend may detect a duplicate and fail with ErrExists
	// (PostgreSQL does, by its key), or not check, to keep appends free of
	// reads (Pebble), leaving the archive's content for that id undefined.
	// Not necessarily durable (the message itself is durable in the
	// offline queue): a later durable write by the same caller makes it
	// durable.
	AppendArchive(ctx context.Context, user string, m ArchivedMessage) error
	// QueryArchive returns the messages of user's archive selected by q,
	// always in archive order (oldest first), even when q.Backward.
	// complete reports that no selected message lies beyond the page in
	// the query's direction: after the last one returned (forward) or
	// before the first one (backward); an empty page is complete.
	QueryArchive(ctx context.Context, user string, q ArchiveQuery) (page []ArchivedMessage, complete bool, err error)
	// CountArchive counts the messages q selects, ignoring Max and
	// Backward.
	CountArchive(ctx context.Context, user string, q ArchiveQuery) (int, error)
	// DeleteArchiveBefore deletes messages older than cutoff (Time <
	// cutoff) from every user's archive, at most limit of them (<= 0: no
	// limit), and returns how many it deleted; the caller repeats while
	// it returns limit. Not necessarily durable.
	DeleteArchiveBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// GetArchivePrefs returns user's preferences; the zero value (Default
	// "") when the user never set them.
	GetArchivePrefs(ctx context.Context, user string) (ArchivePrefs, error)
	// SetArchivePrefs replaces user's preferences. Durable.
	SetArchivePrefs(ctx context.Context, user string, p ArchivePrefs) error
}
