package store

import (
	"context"
	"time"
)

// Resumption is what a stream-management (XEP-0198) session leaves behind
// when it is handed off (a live upgrade, a node leaving a cluster), so
// that the device can resume it in another process or on another node:
// the counts, the stanzas it was sent but did not acknowledge, and its
// presence.
type Resumption struct {
	ID     string // the resumption id (previd)
	User   string // the owner's bare JID
	JID    string // the session's full JID
	Device string // the linked device's id, "" for a password login
	InH    uint32 // stanzas handled from the client (the server's h)
	Acked  uint32 // the client's last reported h
	// Unacked are the stanzas sent but not acknowledged, in the order they
	// were sent: acknowledging h stanzas on resume acknowledges the first
	// h - Acked of them.
	Unacked []ResumedStanza
	// Presence is the session's last broadcast available presence, encoded
	// (nil when the device was not available).
	Presence []byte
	Expires  time.Time // the record cannot be used from then on
}

// ResumedStanza is one unacknowledged stanza of a Resumption.
type ResumedStanza struct {
	Seq     uint64 // its position in the device's queue; 0 if not stored there
	Payload []byte // the encoded stanza
}

// Resumptions keeps resumption records.
type Resumptions interface {
	// PutResumptions stores the records durably in one write (all of them
	// or none), each replacing a record with the same id (of two with one
	// id in rs, the later). A live upgrade hands off thousands of sessions
	// at once: one write per few hundred records, not one per session.
	PutResumptions(ctx context.Context, rs []Resumption) error
	// TakeResumption returns the record id and deletes it, in one atomic
	// step: of concurrent takes at most one gets it. It returns
	// ErrNotFound, deleting nothing, when there is no such record, when it
	// belongs to another user or device, or when it expired at now.
	TakeResumption(ctx context.Context, id, user, device string, now time.Time) (Resumption, error)
	// DeleteExpiredResumptions deletes the records expired at now and
	// returns how many.
	DeleteExpiredResumptions(ctx context.Context, now time.Time) (int, error)
}
