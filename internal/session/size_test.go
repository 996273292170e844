package session

import (
	"testing"
	"unsafe"
)

// TestSessionSizeClass: every idle device holds a Session, so its fields
// are laid out (and the rarely used ones kept elsewhere) to fit Go's
// 416-byte size class; it was 480 bytes.
func TestSessionSizeClass(t *testing.T) {
	size := unsafe.Sizeof(Session{})
	t.Logf("Session: %d bytes", size)
	if size > 416 {
		t.Fatalf("Session is %d bytes, over the 416-byte size class", size)
	}
}
