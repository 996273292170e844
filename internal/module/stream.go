package module

import (
	"context"

	"github.com/parley-im/parley/internal/stanza"
)

// Holder holds back stanzas on their way to one device (XEP-0352 client
// state indication: presence and chat states wait while the app sleeps).
// The session calls a Holder only from its own runner, with its lock held:
// a Holder needs no lock of its own and must not call into the session.
type Holder interface {
	// Hold sees each stanza about to be written to the device that did
	// not come from the offline queue. It reports true when it kept st
	// (to be returned by Release later), false to let st go out now.
	Hold(st *stanza.Element) bool
	// Release returns the kept stanzas, in the order they are to be
	// written, and forgets them.
	Release() []*stanza.Element
}

// Holdable is implemented by a Session whose outbound stanzas a feature may
// hold back. A feature checks for it, as a net/http handler checks for
// http.Flusher.
type Holdable interface {
	// SetHolder installs h (nil: none). The change is queued like a
	// delivery, so it takes effect in order with the stanzas already
	// delivered; the previous holder's Release is written at that point.
	SetHolder(h Holder)
}

// NonzaHandler processes a top-level element a bound device sent that is
// neither a stanza nor stream management (XEP-0352's <active/>). It runs on
// the connection's reader with the session locked: it must not block, and
// may only call the session's Send and SetHolder.
type NonzaHandler func(ctx context.Context, s Session, el *stanza.Element)

// StreamExtender is implemented by a Host that lets features extend the
// client's stream after authentication.
type StreamExtender interface {
	// AddStreamFeature adds el to the stream features offered with
	// resource binding.
	AddStreamFeature(el *stanza.Element)
	// HandleNonza routes top-level elements in namespace ns to h.
	// Registering a namespace twice is an error.
	HandleNonza(ns string, h NonzaHandler) error
}
