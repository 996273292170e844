package session

import (
	"testing"
	"unsafe"
)

// TestSessionSizeClass: every idle device holds a Session, so its fields
// are laid out (and the rarely used ones kept elsewhere) to fit Go's
// 384-byte size class; it was 480 bytes (464 on main 625b0d1, with the
// message path's routing context and the smaller JID)
func TestSessionSizeClass(t *testing.T) {
	size := unsafe.Sizeof(Session{})
	t.Logf("Session: %d bytes", size)
	if size > 384 {
		t.Fatalf("Session is %d bytes, over the 384-byte size class", size)
	}
}

// TestUnackedEntrySize: a session keeps one entry per stanza written and
// not yet acknowledged, hundreds of them for a member of a busy group
// between two acks (asked about once a second): 72 bytes, where a
// time.Time for the drain's delay stamp made it 88.
func TestUnackedEntrySize(t *testing.T) {
	if size := unsafe.Sizeof(unackedStanza{}); size > 72 {
		t.Fatalf("unackedStanza is %d bytes, want at most 72", size)
	}
}
